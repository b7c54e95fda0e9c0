"""DuckDB views over a lake: one view per table, then the analysis views of `sql/`.

Each table is first read into a view of the `parquet` schema, generated here from
:mod:`gtlake.schemas` (so a table added there gets a view without further work)::

    parquet.boxes  ->  select job, type, line, ... from read_parquet('<lake>/boxes/*/*/*.parquet',
                                                      hive_partitioning = true, ...)

or, while the table has no file yet, an empty select with the same typed columns. Then every
`sql/<name>.sql` file becomes the view `<name>`: the base views (`boxes` is `select * from
parquet.boxes`, with its grain in a comment), then the analysis views in dependency order. A
table without a file in `sql/` gets `create view <table> as select * from parquet.<table>`.

Injection: the SQL files hold no placeholders. The only value spliced into SQL is the lake's
location, written as a quoted string literal (`'` doubled); table names come from the schema
module and are quoted identifiers. Job names are never part of any SQL text: they live in
partition paths, which DuckDB decodes into the `job` column.

A lake on S3 is read through its s3fs filesystem registered in DuckDB (no httpfs extension, which
cannot be downloaded in a closed network).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from gtlake.errors import LakeError, one_line
from gtlake.schemas import FILE_SCHEMAS, PARTITION_COLUMNS
from gtlake.storage import Location, register_duckdb, store_errors


def _default_sql_dir() -> Path:
    """`sql/` of the repository; in an installed wheel, its copy at `gtlake/sql`."""
    here = Path(__file__).resolve().parent
    repo = here.parent / "sql"
    return repo if repo.is_dir() else here / "sql"


SQL_DIR = Path(os.environ.get("GTLAKE_SQL_DIR") or _default_sql_dir())
RAW_SCHEMA = "parquet"

# The views that are the point of the project, in dependency order (DESIGN.md).
ANALYSIS_VIEWS = (
    "object_labels",
    "job_lineage",
    "object_history",
    "confidence_ranked",
    "low_confidence",
    "box_adjustments",
    "verification_results",
    "worker_stats",
)


def table_schemas() -> dict[str, pa.Schema]:
    """Every table's schema as a reader sees it: `job`, `type`, then the file's columns."""
    parts = [pa.field(name, pa.string(), nullable=False) for name in PARTITION_COLUMNS]
    return {table: pa.schema([*parts, *schema]) for table, schema in FILE_SCHEMAS.items()}


def sql_string(text: str) -> str:
    """`text` as a SQL string literal."""
    if "\x00" in text:
        raise LakeError(f"a NUL character cannot be part of a path: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def sql_name(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lake_url(lake: Location) -> str:
    """The lake as DuckDB names it: an absolute local path, or `s3://bucket/prefix`."""
    return f"s3://{lake.root}" if lake.is_s3 else lake.root


def table_glob(lake: Location, table: str) -> str:
    """The table's Parquet files. On S3 `**` makes one paginated listing of the table's prefix
    (`*/*/` would list every job's prefix, twice); the lake holds nothing else below a table."""
    if lake.is_s3:
        return f"{lake_url(lake)}/{table}/**/*.parquet"
    return f"{lake_url(lake)}/{table}/*/*/*.parquet"


def _duckdb_types(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> list[str]:
    """The DuckDB type of each column, as DuckDB itself maps the Arrow type."""
    empty = schema.empty_table()
    return [str(t) for t in con.from_arrow(empty).types]


def empty_select(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> str:
    """A select with the table's columns and types and no rows."""
    columns = [
        f"cast(null as {kind}) as {sql_name(name)}"
        for name, kind in zip(schema.names, _duckdb_types(con, schema), strict=True)
    ]
    return "select\n    " + ",\n    ".join(columns) + "\nwhere false"


def parquet_select(lake: Location, table: str, schema: pa.Schema) -> str:
    """A select of the table's columns over its Hive-partitioned Parquet files."""
    columns = ", ".join(sql_name(name) for name in schema.names)
    hive_types = ", ".join(f"{sql_string(c)}: 'varchar'" for c in PARTITION_COLUMNS)
    return (
        f"select {columns}\nfrom read_parquet(\n    {sql_string(table_glob(lake, table))},\n"
        f"    hive_partitioning = true,\n    hive_types = {{{hive_types}}},\n"
        "    hive_types_autocast = false\n)"
    )


def has_files(lake: Location, table: str) -> bool:
    fs = lake.fs()
    try:
        with store_errors():
            return bool(fs.glob(lake.join(table, "*", "*", "*.parquet")))
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise LakeError(f"cannot list {lake.url}/{table}: {exc}") from exc


def sql_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """The view files in creation order: tables, then analysis views, then any other file."""
    files = {p.stem: p for p in sorted(sql_dir.glob("*.sql"))}
    if not files:
        raise LakeError(f"no view definitions (*.sql) found in {sql_dir}")
    tables = [files[t] for t in table_schemas() if t in files]
    analysis = [files[v] for v in ANALYSIS_VIEWS if v in files]
    rest = [p for name, p in files.items() if p not in tables and p not in analysis]
    return [*tables, *analysis, *rest]


def create_views(con: duckdb.DuckDBPyConnection, lake: Location, sql_dir: Path = SQL_DIR) -> None:
    """Create the `parquet.<table>` reads and every view of `sql_dir` in `con`."""
    register_duckdb(con, lake)
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    schemas = table_schemas()
    for table, schema in schemas.items():
        name = f"{RAW_SCHEMA}.{sql_name(table)}"
        try:
            con.execute(f"create or replace view {name} as\n{parquet_select(lake, table, schema)}")
        except duckdb.IOException as exc:
            if "No files found" not in str(exc):
                raise LakeError(
                    f"cannot read table {table} of {lake.url}: {one_line(str(exc))}"
                ) from exc
            _create(con, name, empty_select(con, schema), f"table {table}")
        except duckdb.Error as exc:
            raise LakeError(
                f"cannot read table {table} of {lake.url}: {one_line(str(exc))}"
            ) from exc
    files = sql_files(sql_dir)
    defined = {p.stem for p in files}
    for table in schemas:
        if table not in defined:
            _create(con, sql_name(table), f"select * from {RAW_SCHEMA}.{sql_name(table)}", table)
    for path in files:
        _create(con, sql_name(path.stem), path.read_text(encoding="utf-8"), str(path))


def _create(con: duckdb.DuckDBPyConnection, name: str, body: str, where: str) -> None:
    body = body.strip().rstrip(";")
    try:
        con.execute(f"create or replace view {name} as\n{body}")
    except duckdb.Error as exc:
        raise LakeError(f"{where}: cannot create view {name}: {one_line(str(exc))}") from exc


def connect(lake: Location, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the lake's views (in memory unless `database` is a file)."""
    if not lake.is_s3 and not os.path.isdir(lake.root):
        raise LakeError(f"lake {lake.url} does not exist or is not a directory")
    con = duckdb.connect(database)
    try:
        con.execute("set TimeZone = 'UTC'")
        create_views(con, lake)
    except BaseException:
        con.close()
        raise
    return con


def write_database(lake: Location, path: str) -> None:
    """Write a DuckDB database file at `path` holding the lake's views.

    The file is built at a temporary path next to `path` and moved into place with
    `os.replace`, so a reader (or a second writer) never sees a half-written file. The views
    name the lake by absolute path or s3 URL; a client reading an S3 lake from the file needs its
    own S3 access (httpfs, or an fsspec filesystem registered as here). A table that had no file
    when the database was written stays an empty view until the file is written again.
    """
    target = os.path.abspath(path)
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{os.path.basename(target)}.{uuid.uuid4().hex}.tmp")
    try:
        con = connect(lake, temporary)
        try:
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(temporary, target)
    finally:
        for leftover in (temporary, temporary + ".wal"):
            if os.path.exists(leftover):
                os.remove(leftover)
