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
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake.errors import LakeError
from gtlake.storage import Location, fetch_all, store_errors

JOBS = "jobs"


def read_fingerprints(lake: Location) -> dict[str, str]:
    """{job: fingerprint} from the lake's `jobs` table (empty for a new lake)."""
    seen: dict[str, set[str | None]] = defaultdict(set)
    for job, fingerprint in _jobs_rows(lake):
        seen[job].add(fingerprint)
    return {job: next(iter(f)) for job, f in seen.items() if len(f) == 1 and None not in f}


def _jobs_rows(lake: Location) -> list[tuple[str, str | None]]:
    root = lake.join(JOBS)
    fs = lake.fs()
    try:
        if not lake.is_s3 and not os.path.isdir(root):
            return []
        with store_errors():
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
            table = pq.read_table(pa.BufferReader(data), columns=["fingerprint"])
        except (pa.ArrowException, OSError) as exc:
            raise LakeError(f"{path}: not a readable jobs file: {exc}") from None
        rows.extend((job, f) for f in table["fingerprint"].to_pylist())
    return rows


def _partition(path: str, key: str) -> str | None:
    for segment in path.split("/"):
        if segment.startswith(key + "="):
            return unquote(segment[len(key) + 1 :])
    return None
