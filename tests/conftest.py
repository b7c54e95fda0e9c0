"""Shared fixtures: paths to the bundled real samples and a helper to build job trees."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
# Real Ground Truth files, copied into the repository with their provenance (`SOURCES.md` there).
REAL = Path(__file__).resolve().parent / "data" / "real"
if not (REAL / "SOURCES.md").is_file():  # fail the whole run loudly, never skip
    raise RuntimeError(f"the real sample files are missing: {REAL}")

# The Dagster definitions refuse to load without GTLAKE_SOURCE (a deployment must say where the
# Ground Truth output is). Tests that import them in process get the demo mode unless the
# environment names a source; the tests of that refusal load them in a clean subprocess.
if not os.environ.get("GTLAKE_SOURCE"):
    os.environ.setdefault("GTLAKE_DEMO", "1")


@pytest.fixture
def real() -> Path:
    """`tests/data/real`: real Ground Truth files (see its SOURCES.md)."""
    return REAL


def write_job(root: Path, job: str, lines: list[str] | bytes, manifest: str = "output") -> Path:
    """Write a job directory with one manifest (`output`, or an intermediate iteration number)."""
    rel = (
        "manifests/output/output.manifest"
        if manifest == "output"
        else f"manifests/intermediate/{manifest}/output.manifest"
    )
    path = root / job / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = lines if isinstance(lines, bytes) else "".join(line + "\n" for line in lines).encode()
    path.write_bytes(data)
    return path


# A log line of `gtlake` when standard error is no terminal (one per finished job, see progress.py).
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


def error_lines(stderr: str) -> list[str]:
    """What `gtlake` wrote to standard error besides its log lines."""
    return [line for line in stderr.splitlines() if line.strip() and not LOG_LINE.match(line)]


@dataclass
class Ran:
    """What a `gtlake` command run in-process printed, shaped like `subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


def gtlake(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> Ran:
    """Run `gtlake ARGS...` in this process with click's runner (stdin is not a terminal)."""
    from gtlake.cli import cli

    result = CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


pytest_plugins = ["tests.s3server"]
