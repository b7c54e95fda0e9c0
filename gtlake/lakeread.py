"""Reading one job's rows of a table back from the lake (what an earlier ingest wrote).

Used by an ingest to keep the rows of referenced files that have not changed since (see
:mod:`gtlake.frames`). It reads the job's current ingest through the Delta log
(`gtlake.snapshot`), as `dagster_project.lakeread` does for the asset checks.
"""

from __future__ import annotations

import pyarrow as pa

from gtlake.snapshot import read_job
from gtlake.storage import Location


def read_partition(
    lake: Location, table: str, job: str, columns: list[str] | None = None
) -> pa.Table:
    """One job's rows of `table` (the table's own columns only), empty when it has none."""
    return read_job(lake, table, job, columns)
