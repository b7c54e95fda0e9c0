"""A real S3 API server for tests: moto's server on 127.0.0.1, on a free port.

`s3_server` (session-scoped) starts one server and sets AWS_* environment variables so that s3fs,
boto3 and deltalake reach it; `s3_bucket` gives each test a fresh, empty bucket.

The server runs in its own process: deltalake (Rust) holds the GIL during some calls while it
waits for the store, so a server thread in the test process would never answer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class S3Server:
    endpoint_url: str
    server: MotoProcess

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1")

    def stop(self) -> None:
        self.server.stop()


class MotoProcess:
    """moto's S3 server in a child process (the ThreadedMotoServer interface: start, stop)."""

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 0) -> None:
        self.ip_address, self.port = ip_address, port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.ip_address, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("moto server exited at start")
            with socket.socket() as sock:
                if sock.connect_ex((self.ip_address, self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("moto server did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    port = free_port()
    server = MotoProcess(ip_address="127.0.0.1", port=port)
    server.start()
    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing-key-id",
        AWS_SECRET_ACCESS_KEY="testing-secret-key",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
    )
    try:
        yield S3Server(f"http://127.0.0.1:{port}", server)
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new empty bucket; returns its name."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    return name
