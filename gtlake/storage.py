"""Where files live: a local path or `s3://bucket/prefix` on any S3-compatible store.

All file access goes through fsspec. `--endpoint-url` (or `AWS_ENDPOINT_URL`) points s3fs at any
S3-compatible server; credentials come from the usual AWS chain and never appear in messages.

Retries: botocore's `standard` retry mode (exponential backoff with jitter) retries throttling
(`SlowDown`, 503), 5xx answers and dropped connections; `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE`
override the defaults as they do for every AWS tool. A request that still fails surfaces as an
`OSError` (a `ConnectionError` when the store cannot be reached) naming the URL, never a botocore
type, so callers report it as one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO
from urllib.parse import quote

import fsspec
from fsspec.implementations.local import LocalFileSystem

MAX_ATTEMPTS = 5
RETRY_MODE = "standard"
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60


@dataclass(frozen=True)
class Location:
    """A storage root: the fsspec protocol, the path inside it, and how to reach the store."""

    url: str
    endpoint_url: str | None = None

    @property
    def is_s3(self) -> bool:
        return self.url.startswith(("s3://", "s3a://"))

    @property
    def root(self) -> str:
        """The path as the filesystem names it (no scheme, no trailing slash)."""
        if self.is_s3:
            return self.url.split("://", 1)[1].rstrip("/")
        return os.path.abspath(os.path.expanduser(self.url)).rstrip("/") or "/"

    def fs(self) -> fsspec.AbstractFileSystem:
        if not self.is_s3:
            return LocalFileSystem()
        return s3_filesystem(self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))

    def join(self, *parts: str) -> str:
        return "/".join([self.root, *parts])


def delta_options(lake: Location) -> dict[str, str] | None:
    """deltalake (object_store) options for an S3 lake: commits by conditional PUT (no lock
    service), the endpoint (plain HTTP allowed when it is one), the region. Credentials come
    from the usual AWS chain, which object_store reads itself."""
    if not lake.is_s3:
        return None
    options = {"conditional_put": "etag"}
    endpoint = lake.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        options["AWS_ENDPOINT_URL"] = endpoint
        if endpoint.startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    options["AWS_REGION"] = region or "us-east-1"
    return options


def retry_config() -> dict:
    """botocore's retry settings: `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE`, else standard, 5."""
    attempts = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return {
        "max_attempts": int(attempts) if attempts.isdigit() else MAX_ATTEMPTS,
        "mode": os.environ.get("AWS_RETRY_MODE") or RETRY_MODE,
    }


def s3_filesystem(endpoint_url: str | None = None) -> fsspec.AbstractFileSystem:
    """An s3fs filesystem with bounded retries and errors translated to `OSError`.

    Instances are cached by fsspec per arguments (and per process), so every call within an
    ingest shares one connection pool.
    """
    options: dict = {
        "use_listings_cache": False,
        "config_kwargs": {
            "retries": retry_config(),
            "connect_timeout": CONNECT_TIMEOUT_S,
            "read_timeout": READ_TIMEOUT_S,
        },
    }
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    return _s3_class()(**options)


_S3_CLASS: type | None = None


def _s3_class() -> type:
    """S3FileSystem whose failed calls raise OSError (built lazily: s3fs imports are slow)."""
    global _S3_CLASS
    if _S3_CLASS is None:
        from botocore.exceptions import BotoCoreError
        from s3fs import S3FileSystem

        class GtlakeS3FileSystem(S3FileSystem):
            # botocore does the retrying (see `retry_config`); s3fs's own loop around it only
            # gets one extra try, for errors raised while a response body is read.
            retries = 2

            async def _call_s3(self, method, *args, **kwargs):
                try:
                    return await super()._call_s3(method, *args, **kwargs)
                except BotoCoreError as exc:
                    raise ConnectionError(f"S3 request failed: {exc}") from None

        _S3_CLASS = GtlakeS3FileSystem
    return _S3_CLASS


def open_input(fs: fsspec.AbstractFileSystem, path: str, size: int | None = None) -> IO[bytes]:
    """Open a file for reading; on S3 the size known from the listing saves a HEAD request."""
    if size is not None and getattr(fs, "protocol", None) in (("s3", "s3a"), "s3"):
        stream = fs.open(path, "rb", size=size)
        # s3fs reads the object's details (a HEAD) on the first read only to compare ETags;
        # what the listing told us is all it needs.
        stream._details = {"name": path, "size": size, "type": "file"}
        return stream
    return fs.open(path, "rb")


def fetch_all(fs: fsspec.AbstractFileSystem, paths: list[str]) -> list[bytes | Exception]:
    """The contents of many files, concurrently on S3 (one GET each, no HEAD), in order.

    A file that cannot be read gives its exception in its place. `cat_ranges` from byte 0 is
    used instead of `cat`, which would glob-expand `[` in keys and HEAD every object first.
    """
    if not paths:
        return []
    return fs.cat_ranges(paths, [0] * len(paths), [None] * len(paths), on_error="return")


def partition_value(value: str) -> str:
    """Escape a Hive partition value so no job name can leave the lake root or break a path.

    Everything but ASCII letters, digits and `_.-~` is percent-encoded (UTF-8), which DuckDB,
    polars, pyarrow and Athena decode back. `..` stays `..`, harmless behind the `job=` prefix.
    """
    return quote(value, safe="")


def partition_dir(table: str, job: str, task_type: str) -> str:
    return f"{table}/job={partition_value(job)}/type={partition_value(task_type)}"
