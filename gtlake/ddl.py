"""`gtlake ddl`: the statements that register every lake table in another engine.

Athena, Trino and Spark read the Delta tables themselves, through each table's log (columns and
the partitions `job`, `type`, `ingest_id` come from it). Each table is registered as
`<table>_delta`, which holds every ingest the log holds (current ones, ingests that have not
switched yet, replaced ones not yet cleaned up), and the view `<table>` keeps each job's current
ingest: the rows whose (`job`, `ingest_id`) is the job's `jobs` row with the latest `ingested_at`
(view `current_ingest`), the rule every gtlake reader follows (`gtlake.snapshot`).

- Athena: `create external table ... location 's3://.../' tblproperties ('table_type' = 'DELTA')`
  (nothing else is allowed for a Delta table), then the views.
- Trino (Delta Lake connector): `call <catalog>.system.register_table(...)`, then the views.
- Spark (delta-spark): `create table if not exists ... using delta location '...'`, then the views.
- DuckDB: one view per table over the explicit data files of one snapshot, the same select the
  views of `gtlake sql` and the views file use (`gtlake.views.table_select`): no extension, and
  the view shows that snapshot until the statements are generated again.

Names (database, catalog) are checked to be plain lowercase identifiers, so none is quoted; the
locations are quoted string literals.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

import duckdb

from gtlake import views
from gtlake.errors import GtlakeError
from gtlake.lake import JOBS
from gtlake.lakecheck import require_lake
from gtlake.schemas import DELTA_PARTITIONS, TABLES
from gtlake.snapshot import Snapshot, take
from gtlake.storage import Location

ENGINES = ("athena", "trino", "spark", "duckdb")
DEFAULT_DATABASE = "gtlake"
DEFAULT_CATALOG = "delta"
RAW_SUFFIX = "_delta"  # the registered Delta table, every ingest its log holds
CURRENT = "current_ingest"  # the view of each job's current (job, ingest_id)
NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
ENGINE_TITLES = {"athena": "Amazon Athena", "trino": "Trino", "spark": "Spark", "duckdb": "DuckDB"}


class DdlError(GtlakeError):
    """The statements cannot be generated as asked (an engine, a name or a location)."""


def ddl(
    lake: Location,
    engine: str,
    database: str = DEFAULT_DATABASE,
    catalog: str = DEFAULT_CATALOG,
    location: str | None = None,
) -> str:
    """The statements (SQL text, `;`-terminated) registering every table of `lake` in `engine`
    under `database` (Trino: in `catalog`). `location` is where the engine finds the lake when
    that is not LAKE itself (a copy on S3, `s3a://` for Spark on Hadoop)."""
    if engine not in ENGINES:
        raise DdlError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")
    for what, name in (("--database", database), ("--catalog", catalog)):
        if not NAME.match(name):
            raise DdlError(
                f"{what} {name!r} is not a plain name: lowercase letters, digits and _, "
                "not starting with a digit (Athena's rule for database names)"
            )
    base = _base(lake, engine, location)
    require_lake(lake)
    snap = take(lake)
    if engine == "duckdb":
        return _duckdb(snap, database, base)
    return _delta_engine(snap, engine, database, catalog, base)


def _base(lake: Location, engine: str, location: str | None) -> str:
    """Where `engine` finds the lake: `location`, else the lake's own URL (no trailing `/`)."""
    where = location or lake.url
    remote = "://" in where
    if engine == "athena" and not where.startswith("s3://"):
        raise DdlError(
            f"athena reads tables from S3 only, and {where} is not an s3:// URL: give the lake's "
            "S3 URL (gtlake ddl s3://bucket/lake ...) or --location s3://bucket/lake"
        )
    if engine == "trino" and (not remote or where.startswith("file://")):
        raise DdlError(
            f"trino's Delta Lake connector reads object storage, and {where} is a local path: "
            "give the lake's S3 URL or --location s3://bucket/lake"
        )
    if not remote:
        path = os.path.abspath(os.path.expanduser(where)).rstrip("/") or "/"
        return f"file://{path}" if engine == "spark" else path
    if where.startswith("s3a://") and engine == "duckdb":
        where = "s3://" + where[len("s3a://") :]
    return where.rstrip("/")


def _grain(table: str) -> str:
    """The first comment line of the table's view file ("-- boxes: one row per ..."), if any."""
    path = views.SQL_DIR / f"{table}.sql"
    if path.is_file():
        first = path.read_text(encoding="utf-8").splitlines()[:1]
        if first and first[0].startswith("--"):
            return first[0]
    return f"-- {table}"


def _statements(statements: list[str]) -> str:
    return "\n\n".join(s.rstrip().rstrip(";") + ";" for s in statements) + "\n"


# -- DuckDB: the snapshot's files, as the views do ---------------------------------------------


def _duckdb(snap: Snapshot, schema: str, base: str) -> str:
    own = views.lake_url(snap.lake)
    jobs = len(snap.jobs)
    header = (
        f"-- gtlake ddl --engine duckdb: the {len(TABLES)} tables of {own} ({jobs} jobs), as of\n"
        f"-- version {snap.jobs_version} of its jobs table. Each view reads that snapshot's "
        "data files by name\n"
        "-- (DuckDB's own Parquet reader, no extension): generate the statements again to see "
        "later\n"
        "-- ingests. An s3:// lake needs S3 access in DuckDB (httpfs with credentials, or an "
        "fsspec\n"
        "-- filesystem registered as gtlake.connect does)."
    )
    statements = [f"{header}\ncreate schema if not exists {schema}"]
    con = duckdb.connect(":memory:")  # only to spell an empty table's column types
    try:
        for table in TABLES:
            files = [replace(f, uri=base + f.uri[len(own) :]) for f in snap.files.get(table, [])]
            body = views.table_select(con, table, files)
            view = f"create or replace view {schema}.{table} as"
            statements.append(f"{_grain(table)}\n{view}\n{body}")
    finally:
        con.close()
    return _statements(statements)


# -- Athena, Trino, Spark: the Delta tables, and a view per table of each job's current ingest --


def current_ingest_select(jobs: str) -> str:
    """Each job's current (job, ingest_id): its `jobs` row with the latest `ingested_at`."""
    return (
        "select job, ingest_id\n"
        "from (\n"
        "    select job, ingest_id,\n"
        "        row_number() over (\n"
        "            partition by job order by ingested_at desc nulls last, ingest_id desc\n"
        "        ) as n\n"
        f"    from {jobs}\n"
        ") as ranked\n"
        "where n = 1"
    )


def _register(engine: str, catalog: str, database: str, table: str, location: str) -> str:
    name = f"{database}.{table}{RAW_SUFFIX}"
    if engine == "athena":
        return (
            f"create external table {name}\n"
            f"location {views.sql_string(location + '/')}\n"
            "tblproperties ('table_type' = 'DELTA')"
        )
    if engine == "trino":
        return (
            f"call {catalog}.system.register_table(schema_name => {views.sql_string(database)}, "
            f"table_name => {views.sql_string(table + RAW_SUFFIX)}, "
            f"table_location => {views.sql_string(location)})"
        )
    return f"create table if not exists {name}\nusing delta\nlocation {views.sql_string(location)}"


_NOTES = {
    "athena": (
        "-- Run the statements one at a time (the Athena console runs one per query). A Delta "
        "table\n-- takes only its location and table_type: Athena reads its columns and "
        "partitions from the log."
    ),
    "trino": (
        "-- The Delta Lake connector must allow registering tables: "
        "delta.register-table-procedure.enabled=true\n"
        "-- in the catalog's properties. register_table fails for a name already registered "
        "(drop it first)."
    ),
    "spark": (
        "-- Needs delta-spark (spark.sql.extensions io.delta.sql.DeltaSparkSessionExtension, "
        "spark_catalog\n-- org.apache.spark.sql.delta.catalog.DeltaCatalog). Open-source Spark "
        "on Hadoop reads S3 as s3a://:\n-- give --location s3a://bucket/prefix."
    ),
}


def _delta_engine(snap: Snapshot, engine: str, database: str, catalog: str, base: str) -> str:
    qualified = f"{catalog}.{database}" if engine == "trino" else database
    partitions = ", ".join(DELTA_PARTITIONS)
    header = (
        f"-- gtlake ddl --engine {engine}: the {len(TABLES)} Delta tables of {base} in "
        f"{ENGINE_TITLES[engine]}.\n"
        f"-- <table>{RAW_SUFFIX} is the Delta table (partitioned by {partitions}) with every "
        "ingest its log\n"
        f"-- holds; the view <table> keeps each job's current ingest ({CURRENT}), as gtlake "
        "reads the lake.\n"
        f"{_NOTES[engine]}"
    )
    create = "create schema" if engine == "trino" else "create database"
    statements = [f"{header}\n{create} if not exists {qualified}"]
    for table in TABLES:
        statements.append(_register(engine, catalog, database, table, f"{base}/{table}"))
    statements.append(
        f"-- {CURRENT}: one row per job, the ingest whose rows the views show\n"
        f"create or replace view {qualified}.{CURRENT} as\n"
        f"{current_ingest_select(f'{qualified}.{JOBS}{RAW_SUFFIX}')}"
    )
    for table in TABLES:
        statements.append(
            f"{_grain(table)}\n"
            f"create or replace view {qualified}.{table} as\n"
            f"select t.*\nfrom {qualified}.{table}{RAW_SUFFIX} as t\n"
            f"join {qualified}.{CURRENT} as c on t.job = c.job and t.ingest_id = c.ingest_id"
        )
    return _statements(statements)
