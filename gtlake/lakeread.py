"""Reading one job's partition of a table back from the lake (what an earlier ingest wrote).

Used by an ingest to keep the rows of referenced files that have not changed since (see
:mod:`gtlake.frames`). It reads the lake's own files through the lake's fsspec filesystem, the
same way `dagster_project.lakeread` does for the asset checks.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake.errors import LakeError
from gtlake.schemas import FILE_SCHEMAS
from gtlake.storage import Location, partition_value


def read_partition(
    lake: Location, table: str, job: str, columns: list[str] | None = None
) -> pa.Table:
    """One job's rows of `table` (file columns only), empty when it has none."""
    schema = FILE_SCHEMAS[table]
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    fs = lake.fs()
    pattern = lake.join(table, f"job={partition_value(job)}", "type=*", "*.parquet")
    try:
        files = sorted(fs.glob(pattern))
        parts = []
        for path in files:
            with fs.open(path, "rb") as stream:
                parts.append(pq.read_table(stream, columns=schema.names).cast(schema))
    except FileNotFoundError:
        return schema.empty_table()
    except (OSError, pa.ArrowException) as exc:
        raise LakeError(f"cannot read {table} of job {job!r} in {lake.url}: {exc}") from None
    return pa.concat_tables(parts) if parts else schema.empty_table()
