"""Reading a lake table whole in tests: the current snapshot's rows, with `job` and `type`
last (as a Hive-partitioned dataset used to give them)."""

from __future__ import annotations

import os

import pyarrow as pa

from gtlake.snapshot import read_files, take
from gtlake.storage import Location


def lake_table(lake: str | os.PathLike | Location, table: str) -> pa.Table:
    location = lake if isinstance(lake, Location) else Location(os.fspath(lake))
    snap = take(location)
    parts = []
    for f in snap.files[table]:
        data = read_files(location, table, [f])
        data = data.append_column("job", pa.array([f.job] * data.num_rows, pa.string()))
        parts.append(data.append_column("type", pa.array([f.type] * data.num_rows, pa.string())))
    if not parts:
        empty = read_files(location, table, [])
        return empty.append_column("job", pa.array([], pa.string())).append_column(
            "type", pa.array([], pa.string())
        )
    return pa.concat_tables(parts)


def add_rows(lake: Location, table: str, job: str, data: pa.Table) -> None:
    """Add rows (the table's own columns) to a job's current ingest, committed as gtlake does:
    append the file, then switch the job's `jobs` row (same ingest, new table versions)."""
    from gtlake.lake import StagedJob, commit
    from gtlake.schemas import FILE_SCHEMAS
    from gtlake.snapshot import current_jobs
    from gtlake.writer import JobWriter

    _, jobs = current_jobs(lake)
    row = jobs[job]
    writer = JobWriter(lake, job, row["ingest_id"])
    writer.write(table, data)
    files = writer.finish(row["type"])
    state = {k: row[k] for k in FILE_SCHEMAS["jobs"].names if k != "table_versions"}
    commit(lake, [StagedJob(job, row["type"], row["ingest_id"], files, state)])
