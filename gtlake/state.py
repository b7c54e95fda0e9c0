"""Incremental state: the fingerprint of every job as last ingested.

The state lives in the lake itself, in the `jobs` table (one row per job, written in the same
commit as the job's other partitions, and last: a job whose commit did not finish keeps its old
fingerprint, or none, and is ingested again). On S3 the `jobs/` prefix is listed once and its
small Parquet files are fetched concurrently (one GET each); no source object is read. A job with
more than one `jobs` row (a commit cut short while its type changed) has no usable fingerprint,
so it is ingested again.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import NamedTuple
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake.errors import LakeError
from gtlake.storage import Location, fetch_all

JOBS = "jobs"


class JobState(NamedTuple):
    """What the lake records of a job's last ingest (None where its rows disagree)."""

    fingerprint: str | None
    status: str | None  # complete / in-progress
    manifest: str | None  # the manifest ingested (None: the job had none)


def read_states(lake: Location) -> dict[str, JobState]:
    """{job: state} for every job with rows in the lake's `jobs` table (empty for a new lake)."""
    seen: dict[str, set[tuple]] = defaultdict(set)
    for job, *row in _jobs_rows(lake):
        seen[job].add(tuple(row))
    states = {}
    for job, rows in seen.items():
        columns = [set(column) for column in zip(*rows, strict=True)]
        states[job] = JobState(*(next(iter(c)) if len(c) == 1 else None for c in columns))
    return states


def read_fingerprints(lake: Location) -> dict[str, str]:
    """{job: fingerprint} from the lake's `jobs` table (empty for a new lake)."""
    return {job: s.fingerprint for job, s in read_states(lake).items() if s.fingerprint}


def _jobs_rows(lake: Location) -> list[tuple[str, str | None, str, str | None]]:
    root = lake.join(JOBS)
    fs = lake.fs()
    try:
        if not lake.is_s3 and not os.path.isdir(root):
            return []
        paths = sorted(p for p in fs.find(root) if p.endswith(".parquet"))
        contents = fetch_all(fs, paths)
    except OSError as exc:
        raise LakeError(f"cannot read the ingest state in {lake.url}/{JOBS}: {exc}") from None
    rows = []
    for path, data in zip(paths, contents, strict=True):
        if isinstance(data, FileNotFoundError):
            continue  # replaced by a concurrent commit: that job is simply ingested again
        if isinstance(data, Exception):
            raise LakeError(f"cannot read {path}: {data}")
        job = _partition(path, "job")
        if job is None:
            continue
        try:
            table = pq.read_table(pa.BufferReader(data), columns=list(JobState._fields))
        except (pa.ArrowException, OSError) as exc:
            raise LakeError(f"{path}: not a readable jobs file: {exc}") from None
        columns = [table[name].to_pylist() for name in JobState._fields]
        rows.extend((job, *row) for row in zip(*columns, strict=True))
    return rows


def _partition(path: str, key: str) -> str | None:
    for segment in path.split("/"):
        if segment.startswith(key + "="):
            return unquote(segment[len(key) + 1 :])
    return None
