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

    It reads the lake's current snapshot (`gtlake.snapshot`): the files of each job's current
    ingest, named explicitly, so it never mixes two ingests of a job. A filter on `job` skips the
    other jobs' files by their statistics. A table without files gives an empty frame with the
    table's columns.
    """
    import polars as pl

    from gtlake import views
    from gtlake.schemas import empty_table
    from gtlake.snapshot import take

    location = _location(lake, endpoint_url)
    schemas = views.table_schemas()
    if table not in schemas:
        raise LakeError(f"no table {table!r} in a lake (tables: {', '.join(schemas)})")
    schema = schemas[table]
    empty = pl.from_arrow(empty_table(schema))
    files = take(location).files[table]
    if not files:
        return empty.lazy()
    own = {n: t for n, t in empty.schema.items() if n != "type"}
    by_type: dict[str, list[str]] = {}
    for f in files:
        by_type.setdefault(f.type, []).append(f.uri)
    frames = [
        pl.scan_parquet(
            uris,
            # the schema is known: polars need not open a file to learn it
            schema={**own, "ingest_id": pl.String},
            hive_partitioning=False,
            storage_options=polars_storage_options(location),
        ).with_columns(type=pl.lit(task_type, pl.String))
        for task_type, uris in sorted(by_type.items())
    ]
    return pl.concat(frames).select(schema.names).cast(dict(empty.schema))


def connect(
    lake: str | os.PathLike | Location, *, endpoint_url: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection holding the lake's views (see `sql/`)."""
    from gtlake import views

    return views.connect(_location(lake, endpoint_url))
