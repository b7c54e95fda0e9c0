"""A moto S3 server for the benches: its own process, loopback, a bounded lifetime, request counts.

The server runs in a child process (deltalake holds the GIL while it waits for the store, so a
server thread in the bench's process would never answer). It counts the S3 requests it answers by
kind (GET, HEAD, LIST, PUT, DELETE: a `DeleteObjects` or a single delete, COPY, OTHER); the bench
reads and resets the counts over HTTP (`requests()`), so they cover every client: s3fs in the
bench and its workers, and deltalake's Rust store alike.

    with MotoServer(lifetime_s=1800, seed=my_seed_function) as server:
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        ...
        counts = server.requests(reset=True)

`seed(store)` (a picklable module-level function) fills moto's backend in the server process
before it answers anything: far faster than seeding thousands of objects through the API.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import socket
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from urllib.parse import parse_qs

_COUNTS_PATH = "/_bench/requests"
KINDS = ("GET", "HEAD", "LIST", "PUT", "COPY", "DELETE", "OTHER")
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench-key",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def request_kind(method: str, path: str, query: str, copy_source: bool) -> str:
    """The kind of one path-style S3 request (`/bucket` or `/bucket/key`)."""
    params = parse_qs(query, keep_blank_values=True)
    has_key = "/" in path.strip("/")
    if method == "GET":
        if has_key:
            return "GET"
        return "LIST" if "list-type" in params or "prefix" in params or not params else "OTHER"
    if method == "PUT" and has_key:
        return "COPY" if copy_source else "PUT"
    if method == "POST" and "delete" in params:
        return "DELETE"
    if method in ("HEAD", "DELETE"):
        return method
    return "OTHER"


def _counting(app, counts: Counter, lock: threading.Lock):
    """`app` (moto's WSGI application) counting each request by kind, and answering the counts."""

    def counted(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == _COUNTS_PATH:
            with lock:
                body = json.dumps(dict(counts)).encode()
                if environ.get("REQUEST_METHOD") == "POST":
                    counts.clear()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        kind = request_kind(
            environ.get("REQUEST_METHOD", ""),
            path,
            environ.get("QUERY_STRING", ""),
            bool(environ.get("HTTP_X_AMZ_COPY_SOURCE")),
        )
        with lock:
            counts[kind] += 1
        return app(environ, start_response)

    return counted


def _serve(port: int, seed: Callable | None, ready, stop) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.s3.models import s3_backends
    from werkzeug.serving import make_server

    if seed is not None:
        seed(s3_backends[DEFAULT_ACCOUNT_ID]["aws"])

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args) -> None:  # no line per request on stderr
            pass

    app = _counting(DomainDispatcherApplication(create_backend_app), Counter(), threading.Lock())
    server = make_server("127.0.0.1", port, app, True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ready.set()
    stop.wait()
    server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """moto's S3 server in a child process that stops after `lifetime_s` whatever happens."""

    def __init__(self, lifetime_s: float = 1800, seed: Callable | None = None) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.lifetime_s = lifetime_s
        context = mp.get_context("spawn")
        self._ready, self._stop = context.Event(), context.Event()
        self._process = context.Process(
            target=_serve, args=(self.port, seed, self._ready, self._stop), daemon=True
        )
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True

    def __enter__(self) -> MotoServer:
        for key, value in CREDENTIALS.items():
            os.environ.setdefault(key, value)
        self._process.start()
        self._timer.start()
        deadline = time.monotonic() + 600
        while not self._ready.wait(0.5):
            if not self._process.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("moto server did not start (exited, or not within 600 s)")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._timer.cancel()
        self._stop.set()
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def requests(self, reset: bool = False) -> dict[str, int]:
        """The requests answered since the last reset, by kind."""
        method = "POST" if reset else "GET"
        call = urllib.request.Request(self.endpoint + _COUNTS_PATH, method=method)
        with urllib.request.urlopen(call, timeout=30) as answer:
            counts = json.loads(answer.read())
        return {kind: counts.get(kind, 0) for kind in KINDS}

    def create_bucket(self, name: str) -> None:
        import boto3

        boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1").create_bucket(
            Bucket=name
        )
