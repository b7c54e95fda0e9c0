"""The one Dagster resource: where the Ground Truth output is, where the lake and views file go.

Configured from the environment when the definitions load:

- `GTLAKE_SOURCE`: the directory (or `s3://bucket/prefix`) holding one directory per labeling job;
  default `build/sample`, the bundled sample tree (written there by `gtlake demo` when missing).
- `GTLAKE_LAKE`: where the Parquet lake goes; default `./lake`.
- `GTLAKE_VIEWS`: the DuckDB views file; default `<lake>/gtlake.duckdb` (`./gtlake.duckdb` when
  the lake is on S3: a DuckDB file is written locally).
- `AWS_ENDPOINT_URL`: an S3-compatible endpoint for `s3://` paths; credentials come from the
  usual AWS chain.

Relative local paths are resolved against the working directory when the definitions load, so
step subprocesses and the web server's code server agree on them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping

import dagster as dg

from gtlake.errors import SourceError
from gtlake.source import JobDir, list_jobs
from gtlake.storage import Location

DEFAULT_SOURCE = os.path.join("build", "sample")
DEFAULT_LAKE = "lake"
VIEWS_FILE = "gtlake.duckdb"


def _absolute(url: str) -> str:
    if url.startswith(("s3://", "s3a://")):
        return url.rstrip("/")
    return os.path.abspath(os.path.expanduser(url))


class GtlakeResource(dg.ConfigurableResource):
    """Source, lake and views file of a gtlake deployment."""

    source: str
    lake: str
    views: str
    endpoint_url: str | None = None
    sample_default: bool = False  # the source is the bundled sample tree, written on first use

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GtlakeResource:
        env = os.environ if environ is None else environ
        source = env.get("GTLAKE_SOURCE") or ""
        lake = _absolute(env.get("GTLAKE_LAKE") or DEFAULT_LAKE)
        views = env.get("GTLAKE_VIEWS") or ""
        if not views:
            views = VIEWS_FILE if Location(lake).is_s3 else os.path.join(lake, VIEWS_FILE)
        return cls(
            source=_absolute(source or DEFAULT_SOURCE),
            lake=lake,
            views=_absolute(views),
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            sample_default=not source,
        )

    def source_location(self) -> Location:
        return Location(self.source, self.endpoint_url)

    def lake_location(self) -> Location:
        return Location(self.lake, self.endpoint_url)

    def list_jobs(self, names: list[str] | None = None) -> list[JobDir]:
        """The job directories under the source (the sample tree is written first if needed)."""
        if self.sample_default and not os.path.isdir(self.source):
            write_sample_tree(self.source)
        return list_jobs(self.source_location(), names)

    def find_job(self, name: str) -> JobDir:
        """One job directory, listing only that directory when it holds a manifest."""
        direct = Location(f"{self.source.rstrip('/')}/{name}", self.endpoint_url)
        try:
            found = list_jobs(direct)
        except SourceError:
            found = []
        if len(found) == 1 and found[0].name == name:
            return found[0]
        return self.list_jobs([name])[0]


def write_sample_tree(path: str) -> None:
    """Write the bundled sample jobs to `path` (into a temporary directory, then renamed)."""
    from gtlake import demo

    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".sample-", dir=parent)
    demo.write_samples(staging)
    try:
        os.rename(staging, path)
    except OSError:  # another process wrote it first
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
