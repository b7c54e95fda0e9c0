"""Incremental state: what the lake records of every job's last ingest.

The state lives in the lake itself, in the `jobs` table, read through its Delta log: per job the
current row (see `gtlake.snapshot`), whose fingerprint is always the one of the rows readers see,
since the same row decides which rows those are. No source object is read.
"""

from __future__ import annotations

from typing import NamedTuple

from gtlake.snapshot import current_jobs
from gtlake.storage import Location

JOBS = "jobs"


class JobState(NamedTuple):
    """What the lake records of a job's last ingest."""

    fingerprint: str | None
    status: str | None  # complete / in-progress
    manifest: str | None  # the manifest ingested (None: the job had none)


def read_states(lake: Location) -> dict[str, JobState]:
    """{job: state} for every job in the lake's `jobs` table (empty for a new lake)."""
    _, jobs = current_jobs(lake)
    return {
        job: JobState(row["fingerprint"], row["status"], row["manifest"])
        for job, row in jobs.items()
    }


def read_fingerprints(lake: Location) -> dict[str, str]:
    """{job: fingerprint} from the lake's `jobs` table (empty for a new lake)."""
    return {job: s.fingerprint for job, s in read_states(lake).items() if s.fingerprint}
