"""Reading the lake back: one job's rows of a table, as the asset checks need them.

The checks read what was written through the lake's Delta log (`gtlake.snapshot`: the job's
current ingest only), with the same filesystem as the library (local or S3), never through the
DuckDB views file.
"""

from __future__ import annotations

import pyarrow as pa

from gtlake.snapshot import read_job, take
from gtlake.storage import Location


def read_partition(
    lake: Location, table: str, job: str, columns: list[str] | None = None
) -> pa.Table:
    """One job's rows of `table` (the table's own columns; no `job`/`type`), empty when none."""
    return read_job(lake, table, job, columns)


def partition_files(lake: Location, table: str, job: str) -> list[str]:
    """The data files of the job's current ingest of `table`, as the lake's filesystem names
    them (the Delta log decides which files are current, not a listing)."""
    files = take(lake).job_files(table, job)
    return [f.uri.split("://", 1)[1] if lake.is_s3 else f.uri for f in files]
