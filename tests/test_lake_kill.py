"""Kill tests: an ingest killed (SIGKILL) at seeded random moments, on a local lake and on S3.

Whatever the moment, the lake stays readable and consistent (each job's rows are those of one
ingest, the one its `jobs` row names) and the next ingest gives exactly the clean lake's counts.
The moment is a seeded random delay after start: the assertions hold for every moment, so they
do not depend on where the kill lands.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import gtlake
from gtlake.ingest import ingest
from gtlake.storage import Location
from tests.conftest import write_job
from tests.test_lake import NEW, OLD, manifest

pytestmark = pytest.mark.slow

JOBS = ("kill-a", "kill-b", "kill-c")
TRIALS = int(os.environ.get("GTLAKE_KILL_TRIALS", "10"))


def _counts(lake: Location) -> dict[str, tuple[int, int, int]]:
    """Per job: (objects, boxes, lines its jobs row records)."""
    with gtlake.connect(lake.url) as con:
        rows = con.execute(
            """
            select j.job,
                   (select count(*) from objects o where o.job = j.job),
                   (select count(*) from boxes b where b.job = j.job),
                   j.lines
            from jobs j order by 1
            """
        ).fetchall()
    return {job: (objects, boxes, lines) for job, objects, boxes, lines in rows}


def _write_source(src: Path, version: tuple[int, int]) -> None:
    for job in JOBS:
        write_job(src, job, manifest(*version))


def _trials(tmp_path: Path, lake: Location) -> None:
    src = tmp_path / "src"
    clean = Location(str(tmp_path / "clean"))
    expected = {}
    for version in (OLD, NEW):
        _write_source(src, version)
        assert not ingest(Location(str(src)), clean, full=True, workers=1).failed
        expected[version] = _counts(clean)
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "1"}
    for seed in range(TRIALS):
        rng = random.Random(seed)
        version = (OLD, NEW)[seed % 2]
        _write_source(src, version)
        process = subprocess.Popen(
            [sys.executable, "-m", "gtlake.cli", "ingest", str(src), "--lake", lake.url,
             "--full", "--workers", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        try:
            process.wait(timeout=rng.uniform(0.5, 4.0))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        # readable, and each job's rows agree with its jobs row (one ingest, whole)
        counts = _counts(lake)
        for job, (objects, boxes, lines) in counts.items():
            assert objects == lines, (seed, job)
            assert (objects, boxes) in {(OLD[0], OLD[0] * OLD[1]), (NEW[0], NEW[0] * NEW[1])}
        # the next ingest gives exactly the clean lake's counts
        assert not ingest(Location(str(src)), lake, full=True, workers=1).failed
        assert _counts(lake) == expected[version], seed


def test_kills_at_random_moments_local(tmp_path):
    _trials(tmp_path, Location(str(tmp_path / "lake")))


def test_kills_at_random_moments_s3(tmp_path, s3_bucket):
    _trials(tmp_path, Location(f"s3://{s3_bucket}/lake"))
