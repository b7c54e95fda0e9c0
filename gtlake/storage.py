"""Where files live: a local path or `s3://bucket/prefix` on any S3-compatible store.

All file access goes through fsspec. `--endpoint-url` (or `AWS_ENDPOINT_URL`) points s3fs at any
S3-compatible server; credentials come from the usual AWS chain and never appear in messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

import fsspec
from fsspec.implementations.local import LocalFileSystem


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
        endpoint = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        options: dict = {"use_listings_cache": False}
        if endpoint:
            options["endpoint_url"] = endpoint
        return fsspec.filesystem("s3", **options)

    def join(self, *parts: str) -> str:
        return "/".join([self.root, *parts])


def partition_value(value: str) -> str:
    """Escape a Hive partition value so no job name can leave the lake root or break a path.

    Everything but ASCII letters, digits and `_.-~` is percent-encoded (UTF-8), which DuckDB,
    polars, pyarrow and Athena decode back. `..` stays `..`, harmless behind the `job=` prefix.
    """
    return quote(value, safe="")


def partition_dir(table: str, job: str, task_type: str) -> str:
    return f"{table}/job={partition_value(job)}/type={partition_value(task_type)}"
