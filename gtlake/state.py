"""Incremental state: the fingerprint of every job as last ingested.

The state lives in the lake itself, in the `jobs` table, read through its Delta log: per job the
current row (see `gtlake.snapshot`), whose fingerprint is always the one of the rows readers see,
since the same row decides which rows those are. No source object is read.
"""

from __future__ import annotations

from gtlake.snapshot import current_jobs
from gtlake.storage import Location

JOBS = "jobs"


def read_fingerprints(lake: Location) -> dict[str, str]:
    """{job: fingerprint} from the lake's `jobs` table (empty for a new lake)."""
    _, jobs = current_jobs(lake)
    return {job: row["fingerprint"] for job, row in jobs.items() if row["fingerprint"]}
