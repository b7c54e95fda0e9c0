"""DuckDB views over a lake: one view per table, then the analysis views of `sql/`.

Each table is first read into a view of the `parquet` schema, generated here from
:mod:`gtlake.schemas` (so a table added there gets a view without further work), over the files of
one lake snapshot (`gtlake.snapshot`: every table at one consistent point, read through the Delta
log)::

    parquet.boxes  ->  select job, 'object-detection' as type, line, ...
                       from read_parquet(['<lake>/boxes/job=.../part-<ingest>.parquet', ...])

or, while the table has no file, an empty select with the same typed columns. Then every
`sql/<name>.sql` file becomes the view `<name>`: the base views (`boxes` is `select * from
parquet.boxes`, with its grain in a comment), then the analysis views in dependency order. A
table without a file in `sql/` gets `create view <table> as select * from parquet.<table>`.

Injection: the SQL files hold no placeholders. The values spliced into SQL are file URIs and task
types from the Delta log, written as quoted string literals (`'` doubled); table names come from
the schema module and are quoted identifiers. Job names are never part of any SQL text: the
`job` column is read from the files.

A lake on S3 is read through its s3fs filesystem registered in DuckDB (no httpfs extension, which
cannot be downloaded in a closed network).
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from gtlake.errors import LakeError, one_line
from gtlake.schemas import FILE_SCHEMAS, PARTITION_COLUMNS, empty_table
from gtlake.snapshot import LakeFile, Snapshot, take
from gtlake.storage import Location, register_duckdb


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


def _duckdb_types(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> list[str]:
    """The DuckDB type of each column, as DuckDB itself maps the Arrow type."""
    return [str(t) for t in con.from_arrow(empty_table(schema)).types]


def empty_select(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> str:
    """A select with the table's columns and types and no rows."""
    columns = [
        f"cast(null as {kind}) as {sql_name(name)}"
        for name, kind in zip(schema.names, _duckdb_types(con, schema), strict=True)
    ]
    return "select\n    " + ",\n    ".join(columns) + "\nwhere false"


def files_select(files: list[LakeFile], schema: pa.Schema) -> str:
    """A select of the table's columns over an explicit list of its data files.

    A data file stores `job` (the exact name) but not `type` (decided at the end of a job), so
    the files are grouped by type, each group a `read_parquet` of its list with `type` a
    constant; a filter on `type` skips whole groups, a filter on `job` skips files by their
    statistics (each file holds one job).
    """
    by_type: dict[str, list[str]] = {}
    for f in files:
        by_type.setdefault(f.type, []).append(f.uri)
    own = ", ".join(sql_name(n) for n in schema.names if n not in PARTITION_COLUMNS)
    parts = []
    for task_type, uris in sorted(by_type.items()):
        listed = ",\n        ".join(sql_string(u) for u in uris)
        parts.append(
            f'select "job", {sql_string(task_type)} as "type", {own}\n'
            f"from read_parquet([\n        {listed}\n    ], hive_partitioning = false)"
        )
    return "\nunion all\n".join(parts)


def table_select(con: duckdb.DuckDBPyConnection, table: str, files: list[LakeFile]) -> str:
    """The select of `table` over `files` (one snapshot's, see `files_select`), or the empty
    typed select while it has none: the body of the table's view, here and in `gtlake ddl`."""
    schema = table_schemas()[table]
    return files_select(files, schema) if files else empty_select(con, schema)


def sql_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """The view files in creation order: tables, then analysis views, then any other file."""
    files = {p.stem: p for p in sorted(sql_dir.glob("*.sql"))}
    if not files:
        raise LakeError(f"no view definitions (*.sql) found in {sql_dir}")
    tables = [files[t] for t in table_schemas() if t in files]
    analysis = [files[v] for v in ANALYSIS_VIEWS if v in files]
    rest = [p for name, p in files.items() if p not in tables and p not in analysis]
    return [*tables, *analysis, *rest]


def create_views(
    con: duckdb.DuckDBPyConnection,
    lake: Location,
    sql_dir: Path = SQL_DIR,
    snap: Snapshot | None = None,
) -> Snapshot:
    """Create the `parquet.<table>` reads of one snapshot (`snap`, else the lake's now) and
    every view of `sql_dir` in `con`; return the snapshot."""
    register_duckdb(con, lake)
    snap = snap if snap is not None else take(lake)
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    schemas = table_schemas()
    for table in schemas:
        name = f"{RAW_SCHEMA}.{sql_name(table)}"
        _create(con, name, table_select(con, table, snap.files.get(table, [])), f"table {table}")
    files = sql_files(sql_dir)
    defined = {p.stem for p in files}
    for table in schemas:
        if table not in defined:
            _create(con, sql_name(table), f"select * from {RAW_SCHEMA}.{sql_name(table)}", table)
    for path in files:
        _create(con, sql_name(path.stem), path.read_text(encoding="utf-8"), str(path))
    return snap


def _create(con: duckdb.DuckDBPyConnection, name: str, body: str, where: str) -> None:
    body = body.strip().rstrip(";")
    try:
        con.execute(f"create or replace view {name} as\n{body}")
    except duckdb.Error as exc:
        raise LakeError(f"{where}: cannot create view {name}: {one_line(str(exc))}") from exc


def connect(
    lake: Location, database: str = ":memory:", as_of: int | datetime | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the lake's views over one snapshot (taken now, or as of a
    `jobs` version or a time), in memory unless `database` is a file. The connection keeps
    reading that snapshot, whatever ingests commit meanwhile (until `gtlake vacuum` removes
    files older than its retention)."""
    if not lake.is_s3 and not os.path.isdir(lake.root):
        raise LakeError(f"lake {lake.url} does not exist or is not a directory")
    snap = take(lake, as_of)
    con = duckdb.connect(database)
    try:
        con.execute("set TimeZone = 'UTC'")
        create_views(con, lake, snap=snap)
    except BaseException:
        con.close()
        raise
    return con


# DuckDB 1.0 and later open a database file written with this storage version.
STORAGE_VERSION = "v1.0.0"


def write_database(lake: Location, path: str, as_of: int | datetime | None = None) -> None:
    """Write a DuckDB database file at `path` holding the lake's views over one snapshot.

    The views name every data file explicitly (no listing, no extension: DuckDB's own Parquet
    reader), so the file keeps showing the snapshot it was written from until it is written
    again (or `gtlake vacuum` removes the files). It is written with STORAGE_VERSION, so DuckDB
    1.x clients (most BI drivers) open it too. An S3 lake's files are named `s3://...`: a client
    needs S3 access (the httpfs extension with credentials, or an fsspec filesystem registered
    as `gtlake.connect` does).

    The file is built at a temporary path next to `path` and moved into place with
    `os.replace`, so a reader (or a second writer) never sees a half-written file.
    """
    target = os.path.abspath(path)
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{os.path.basename(target)}.{uuid.uuid4().hex}.tmp")
    if not lake.is_s3 and not os.path.isdir(lake.root):
        raise LakeError(f"lake {lake.url} does not exist or is not a directory")
    snap = take(lake, as_of)
    try:
        con = duckdb.connect(":memory:")
        try:
            con.execute("set TimeZone = 'UTC'")
            con.execute(
                f"attach {sql_string(temporary)} as views_file "
                f"(storage_version {sql_string(STORAGE_VERSION)})"
            )
            con.execute("use views_file")
            create_views(con, lake, snap=snap)
            con.execute("checkpoint views_file")
            con.execute("use memory")
            con.execute("detach views_file")
        finally:
            con.close()
        os.replace(temporary, target)
    finally:
        for leftover in (temporary, temporary + ".wal"):
            if os.path.exists(leftover):
                os.remove(leftover)
