"""S3 test helpers: a loopback proxy in front of the moto server, and seeding its store.

moto keeps no request log, so tests point s3fs at `S3Proxy` to count the GETs an ingest makes
(by key) and to answer chosen requests with throttling or 5xx errors before passing them on.
Trees are seeded straight into moto's in-process store (thousands of PUTs over HTTP would take
most of a test's time); everything gtlake does still goes through the S3 API.
"""

from __future__ import annotations

import http.client
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}


DROP = 0  # a Fault status: close the connection without answering, as a dead server would


@dataclass
class Fault:
    """Answer `times` requests whose method and path match with `status` / `code` (or, with
    status `DROP`, close the connection without an answer)."""

    status: int
    code: str
    times: int
    method: str | None = None
    path_contains: str = ""
    hits: int = 0


@dataclass
class Hold:
    """Keep requests whose path contains `path_contains` waiting until `release()`; `arrived` is
    set when the first one is waiting (a window a test opens without sleeping)."""

    path_contains: str
    arrived: threading.Event
    released: threading.Event

    def release(self) -> None:
        self.released.set()


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # decoded path, without the query
    query: str
    status: int


class S3Proxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def inject(self, status: int, code: str, times: int, method=None, path_contains="") -> Fault:
        fault = Fault(status, code, times, method, path_contains)
        with self._lock:
            self.faults.append(fault)
        return fault

    def hold(self, path_contains: str) -> Hold:
        held = Hold(path_contains, threading.Event(), threading.Event())
        with self._lock:
            self.holds.append(held)
        return held

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()

    def object_gets(self, contains: str = "") -> list[str]:
        """Paths of GET requests on object keys (not bucket listings) containing `contains`."""
        with self._lock:
            return [
                r.path
                for r in self.requests
                if r.method == "GET" and r.path.count("/") >= 2 and contains in r.path
            ]

    def count(self, method: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.method == method)

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                matches = fault.method in (None, method) and fault.path_contains in path
                if matches and fault.hits < fault.times:
                    fault.hits += 1
                    return fault
        return None

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def close(self) -> None:
        with self._lock:
            for held in self.holds:
                held.release()
        self._server.shutdown()
        self._server.server_close()


def _handler(proxy: S3Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _relay(self) -> None:
            body = self._body()
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            with proxy._lock:
                holds = [h for h in proxy.holds if h.path_contains in path]
            for held in holds:
                held.arrived.set()
                held.released.wait(timeout=120)
            fault = proxy._fault_for(self.command, path)
            if fault is not None and fault.status == DROP:
                proxy._record(Request(self.command, path, parts.query, DROP))
                self.close_connection = True
                return
            if fault is not None:
                xml = (
                    f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{fault.code}</Code>"
                    f"<Message>injected by the test proxy</Message></Error>"
                ).encode()
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(xml)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(xml)
                proxy._record(Request(self.command, path, parts.query, fault.status))
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            if body or "Content-Length" in self.headers or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
            except OSError:
                proxy._record(Request(self.command, path, parts.query, 0))
                self.close_connection = True
                return  # the upstream is down: drop the connection, as a dead server would
            finally:
                upstream.close()
            proxy._record(Request(self.command, path, parts.query, response.status))
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in _HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            length = response.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

    return Handler


def put_object(bucket: str, key: str, data: bytes, endpoint: str | None = None) -> None:
    """Seed one object (straight to the server, not through a proxy under test)."""
    import boto3

    client = boto3.client(
        "s3", endpoint_url=endpoint or os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1"
    )
    client.put_object(Bucket=bucket, Key=key, Body=data)


def seed_tree(bucket: str, prefix: str, root, endpoint: str | None = None) -> int:
    """Seed every file under the local directory `root` at `<prefix>/<relative path>`."""
    from pathlib import Path

    count = 0
    for path in sorted(Path(root).rglob("*")):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(root).as_posix()}"
            put_object(bucket, key, path.read_bytes(), endpoint)
            count += 1
    return count
