"""The Python API for notebooks and analytics tools.

    import gtlake
    boxes = gtlake.scan("s3://bucket/lake", "boxes")           # a polars LazyFrame
    boxes.filter(pl.col("job") == "identify-dogs").collect()   # reads that job's files only
    con = gtlake.connect("./lake")                            # DuckDB with every view
    con.sql("select * from low_confidence").pl()

Both take a local path or an `s3://` URL (or a :class:`~gtlake.storage.Location`) and reach S3 as
the command line does: `endpoint_url` (else `AWS_ENDPOINT_URL`), credentials from the usual AWS
chain (environment, profile, instance role).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from gtlake.errors import LakeError
from gtlake.schemas import PARTITION_COLUMNS
from gtlake.storage import Location, polars_storage_options

if TYPE_CHECKING:
    import duckdb
    import polars as pl


def _location(lake: str | os.PathLike | Location, endpoint_url: str | None) -> Location:
    if isinstance(lake, Location):
        return Location(lake.url, endpoint_url or lake.endpoint_url)
    return Location(os.fspath(lake), endpoint_url)


def scan(
    lake: str | os.PathLike | Location, table: str, *, endpoint_url: str | None = None
) -> pl.LazyFrame:
    """A polars LazyFrame over one table of the lake, `job` and `type` included.

    Filters on `job` or `type` read only the matching partitions. A table without files yet gives
    an empty frame with the table's columns.
    """
    import polars as pl

    from gtlake import views

    location = _location(lake, endpoint_url)
    schemas = views.table_schemas()
    if table not in schemas:
        raise LakeError(f"no table {table!r} in a lake (tables: {', '.join(schemas)})")
    schema = schemas[table]
    empty = pl.from_arrow(schema.empty_table())
    if not views.has_files(location, table):
        return empty.lazy()
    partition = {name: pl.String for name in PARTITION_COLUMNS}
    frame = pl.scan_parquet(
        views.table_glob(location, table),
        # the schema is known: polars need not open a file to learn it, so a filter on job or
        # type opens only the matching partitions' files
        schema={n: t for n, t in empty.schema.items() if n not in partition},
        hive_partitioning=True,
        hive_schema=partition,
        missing_columns="insert",
        storage_options=polars_storage_options(location),
    )
    return frame.select(schema.names).cast(dict(empty.schema))


def connect(
    lake: str | os.PathLike | Location, *, endpoint_url: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection holding the lake's views (see `sql/`)."""
    from gtlake import views

    return views.connect(_location(lake, endpoint_url))
