"""Reading the lake back: one job's partition of a table, as the asset checks need it.

The checks read what was written, through the same fsspec filesystem as the library (local or
S3), never through the DuckDB views file.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake.schemas import FILE_SCHEMAS
from gtlake.storage import Location, partition_value


def partition_files(lake: Location, table: str, job: str) -> list[str]:
    """The Parquet files of one job's partition of `table` (any `type=`)."""
    fs = lake.fs()
    pattern = lake.join(table, f"job={partition_value(job)}", "type=*", "*.parquet")
    return sorted(fs.glob(pattern))


def read_partition(
    lake: Location, table: str, job: str, columns: list[str] | None = None
) -> pa.Table:
    """One job's rows of `table` (the file columns; no `job`/`type`), empty when it has none."""
    schema = FILE_SCHEMAS[table]
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    files = partition_files(lake, table, job)
    if not files:
        return schema.empty_table()
    fs = lake.fs()
    parts = []
    for path in files:
        with fs.open(path, "rb") as stream:
            parts.append(pq.read_table(stream, columns=schema.names))
    return pa.concat_tables(parts)
