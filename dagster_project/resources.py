"""The one Dagster resource: where the Ground Truth output is, where the lake and views file go.

Configured from the environment when the definitions load:

- `GTLAKE_SOURCE` (required): the directory (or `s3://bucket/prefix`) holding one directory per
  labeling job. Without it the definitions refuse to load, with a message saying so, unless
  `GTLAKE_DEMO=1` asks for the bundled demo jobs (written to `build/sample` on first use): a
  daemon started without its environment must not fill a lake with demo data.
- `GTLAKE_LAKE`: where the lake goes; default `./lake`.
- `GTLAKE_VIEWS`: the DuckDB views file; default `<lake>/gtlake.duckdb` (`./gtlake.duckdb` when
  the lake is on S3: a DuckDB file is written locally).
- `AWS_ENDPOINT_URL`: an S3-compatible endpoint for `s3://` paths; credentials come from the
  usual AWS chain.

A variable whose value is an absolute path or a URL is bound as `dg.EnvVar` (the UI shows the
variable's name, not its value, and every run process reads it from its own environment). A
relative path is resolved against the working directory when the definitions load and bound as
that absolute path, so step subprocesses and the web server's code server agree on it.
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
MISSING_SOURCE = (
    "GTLAKE_SOURCE is not set: set it to the Ground Truth output (a directory or "
    "s3://bucket/prefix holding one directory per labeling job), or set GTLAKE_DEMO=1 to load "
    "the bundled demo jobs"
)


class ConfigurationError(Exception):
    """The environment does not say where the Ground Truth output is."""


def _absolute(url: str) -> str:
    if url.startswith(("s3://", "s3a://")):
        return url.rstrip("/")
    return os.path.abspath(os.path.expanduser(url))


def _value(env: Mapping[str, str], name: str, bind: bool) -> str | None:
    """The variable's value made absolute; a `dg.EnvVar` when `bind` and it needed no change."""
    raw = env.get(name) or ""
    if not raw:
        return None
    value = _absolute(raw)
    return dg.EnvVar(name) if bind and value == raw else value


def demo_requested(env: Mapping[str, str]) -> bool:
    return (env.get("GTLAKE_DEMO") or "").strip().lower() in ("1", "true", "yes")


class GtlakeResource(dg.ConfigurableResource):
    """Source, lake and views file of a gtlake deployment."""

    source: str
    lake: str
    views: str
    endpoint_url: str | None = None
    demo: bool = False  # the source is the bundled demo tree, written on first use

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, bind: bool = False
    ) -> GtlakeResource:
        """The resource the environment describes; `ConfigurationError` without a source.

        With `bind`, variables are bound as `dg.EnvVar` (see the module's docstring): what the
        definitions use. Without, every value is a plain string, usable outside a run.
        """
        env = os.environ if environ is None else environ
        source = _value(env, "GTLAKE_SOURCE", bind)
        demo = source is None and demo_requested(env)
        if source is None and not demo:
            raise ConfigurationError(MISSING_SOURCE)
        lake = _absolute(env.get("GTLAKE_LAKE") or DEFAULT_LAKE)
        views = _value(env, "GTLAKE_VIEWS", bind)
        if views is None:
            views = VIEWS_FILE if Location(lake).is_s3 else os.path.join(lake, VIEWS_FILE)
            views = _absolute(views)
        return cls(
            source=source or _absolute(DEFAULT_SOURCE),
            lake=_value(env, "GTLAKE_LAKE", bind) or lake,
            views=views,
            endpoint_url=(dg.EnvVar("AWS_ENDPOINT_URL") if bind else env.get("AWS_ENDPOINT_URL"))
            if env.get("AWS_ENDPOINT_URL")
            else None,
            demo=demo,
        )

    def source_location(self) -> Location:
        return Location(self.source, self.endpoint_url)

    def lake_location(self) -> Location:
        return Location(self.lake, self.endpoint_url)

    def list_jobs(self, names: list[str] | None = None) -> list[JobDir]:
        """The job directories under the source (the demo tree is written first if needed)."""
        if self.demo and not os.path.isdir(self.source):
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
