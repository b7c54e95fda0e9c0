"""The DuckDB views as assets: one asset per view of the views file, grain and columns described.

Every view the views file holds (each `sql/<name>.sql`, and a plain view per table without a
file) is an asset `gtlake/views/<name>`: its description is the grain comment at the top of its
SQL file, its column schema is what DuckDB binds (a column that is a table's column carries that
column's description from `gtlake.schemas`), and its dependencies are the relations its SQL reads,
found in DuckDB's own parse tree (`json_serialize_sql`): `parquet.<table>` is the table's asset,
any other name the view of that name (CTE names excluded). All of this is worked out once when
the definitions load, over an empty lake (every view exists, typed, on an empty lake).

The views are one multi-asset (`lake_views`): materializing it binds every view over the lake and
records each view's column schema. Views refresh after their tables change (an automation
condition: a dependency updated, none in progress, and no job partition of any table has a
failed blocking check); the views file depends on every view and refreshes after them.
"""

from __future__ import annotations

import functools
import json
import operator
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from graphlib import TopologicalSorter

import dagster as dg
import duckdb

from dagster_project import viewsfile
from dagster_project.assets import GROUP, PREFIX, VIEWS_KEY, VIEWS_POOL, table_key
from dagster_project.resources import GtlakeResource
from gtlake.schemas import COLUMN_DESCRIPTIONS, PARTITION_COLUMNS, TABLES
from gtlake.storage import Location
from gtlake.views import RAW_SCHEMA, SQL_DIR, connect, sql_name

VIEWS_GROUP = "gtlake_views"


def view_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([PREFIX, "views", name])


@dataclass(frozen=True)
class ViewDef:
    name: str
    description: str
    tables: tuple[str, ...]  # lake tables read directly (`parquet.<table>`)
    views: tuple[str, ...]  # other views read
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), in order


def header_comment(sql: str) -> str:
    """The comment lines at the top of a view's SQL, as one paragraph (the view's grain)."""
    lines = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        lines.append(stripped[2:].strip())
    return " ".join(line for line in lines if line)


def relations(con: duckdb.DuckDBPyConnection, sql: str) -> set[tuple[str, str]]:
    """(schema, name) of every relation `sql` reads, from DuckDB's parse tree, CTEs left out."""
    (tree,) = con.execute("select json_serialize_sql(?)", [sql]).fetchone()
    parsed = json.loads(tree)
    if parsed.get("error"):
        raise ValueError(f"cannot parse view SQL: {parsed.get('error_message')}")
    found: set[tuple[str, str]] = set()
    ctes: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                found.add((node.get("schema_name") or "", node["table_name"]))
            for entry in (node.get("cte_map") or {}).get("map", []):
                ctes.add(entry["key"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(parsed)
    return {(schema, name) for schema, name in found if schema or name not in ctes}


def _describe(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[tuple[str, str], ...]:
    rows = con.execute(f"describe {relation}").fetchall()
    return tuple((str(row[0]), str(row[1])) for row in rows)


def read_views(con: duckdb.DuckDBPyConnection) -> list[ViewDef]:
    """Every view of the connection's main schema, with its grain, reads and columns; a view
    comes after the views it reads."""
    names = [
        name
        for (name,) in con.execute(
            "select view_name from duckdb_views() where not internal and schema_name = 'main' "
            "order by view_name"
        ).fetchall()
    ]
    found = []
    for name in names:
        path = SQL_DIR / f"{name}.sql"
        if path.is_file():
            sql = path.read_text(encoding="utf-8")
            description = header_comment(sql)
        else:  # a table without a file of its own (`gtlake.views.create_views`)
            sql = f"select * from {RAW_SCHEMA}.{sql_name(name)}"
            description = f"{name}: the lake's `{name}` table (`{sql}`)."
        reads = relations(con, sql)
        tables = sorted(n for s, n in reads if s == RAW_SCHEMA and n in TABLES)
        tables += sorted(n for s, n in reads if not s and n in TABLES and n not in names)
        views = sorted(n for s, n in reads if not s and n in names and n != name)
        found.append(
            ViewDef(name, description, tuple(tables), tuple(views), _describe(con, sql_name(name)))
        )
    by_name = {view.name: view for view in found}
    order = TopologicalSorter({view.name: view.views for view in found}).static_order()
    return [by_name[name] for name in order]


def load_views() -> list[ViewDef]:
    """The views as they are defined over an empty lake (what the definitions show)."""
    with tempfile.TemporaryDirectory(prefix="gtlake-views-") as empty:
        con = connect(Location(empty))
        try:
            return read_views(con)
        finally:
            con.close()


def table_types() -> dict[str, dict[str, str]]:
    """Each table's columns and DuckDB types as the views read them."""
    with tempfile.TemporaryDirectory(prefix="gtlake-views-") as empty:
        con = connect(Location(empty))
        try:
            return {
                table: dict(_describe(con, f"{RAW_SCHEMA}.{sql_name(table)}")) for table in TABLES
            }
        finally:
            con.close()


VIEWS = load_views()
_BY_NAME = {view.name: view for view in VIEWS}
_TABLE_TYPES = table_types()


def upstream_tables(name: str, seen: frozenset[str] = frozenset()) -> list[str]:
    """The tables a view reads, directly or through other views, nearest first."""
    view = _BY_NAME[name]
    found = list(view.tables)
    for other in view.views:
        if other not in seen:
            found += [t for t in upstream_tables(other, seen | {name}) if t not in found]
    return found


def read_keys(sql: str) -> list[dg.AssetKey]:
    """The assets a query over the views file reads: views by name, `parquet.<table>` tables."""
    con = duckdb.connect()
    try:
        reads = relations(con, sql)
    finally:
        con.close()
    keys = {view_key(n) for s, n in reads if not s and n in _BY_NAME}
    keys |= {table_key(n) for s, n in reads if s == RAW_SCHEMA and n in TABLES}
    return sorted(keys, key=lambda key: key.to_user_string())


def column_description(view: ViewDef, column: str, kind: str) -> str | None:
    """A view column's description: that of the first table it reads with a column of that name
    and type (a view column that is a table column), else none."""
    if column in PARTITION_COLUMNS and kind == "VARCHAR":
        return COLUMN_DESCRIPTIONS["*"][column]
    for table in upstream_tables(view.name):
        if _TABLE_TYPES[table].get(column) == kind:
            return COLUMN_DESCRIPTIONS[table][column]
    return None


def column_schema(view: ViewDef, columns: tuple[tuple[str, str], ...] | None = None):
    """The view's columns (as bound over an empty lake, or `columns`) in Dagster's format."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=kind, description=column_description(view, name, kind))
            for name, kind in (view.columns if columns is None else columns)
        ]
    )


# A job partition of any lake table whose latest evaluation of a blocking (error) check failed.
# Every table, not only the view's own: one ingest writes a job's rows into every table at once.
_FAILED = dg.AutomationCondition.any_checks_match(
    dg.AutomationCondition.check_failed(), blocking_only=True
)
BLOCKING_CHECK_FAILED = functools.reduce(
    operator.or_, [dg.AutomationCondition.asset_matches(table_key(t), _FAILED) for t in TABLES]
).with_label("a_blocking_check_of_the_lake_failed")

# Refresh once a dependency updated and none is in progress, while no job partition of any table
# has a failed blocking check (its rows are in the lake: fix or re-ingest the job, and the views
# refresh). The asset default's `~any_deps_missing` is left out: with one partition per job, one
# job that never ingested would hold every view back forever.
VIEWS_CONDITION = (
    dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
    & ~BLOCKING_CHECK_FAILED
).with_label("eager_unless_blocking_check_failed")


def _spec(view: ViewDef) -> dg.AssetSpec:
    deps = [table_key(t) for t in view.tables] + [view_key(v) for v in view.views]
    return dg.AssetSpec(
        view_key(view.name),
        description=view.description,
        deps=deps,
        group_name=GROUP,
        kinds={"duckdb"},
        metadata={
            "dagster/column_schema": column_schema(view),
            "sql": f"sql/{view.name}.sql" if (SQL_DIR / f"{view.name}.sql").is_file() else "",
        },
        automation_condition=VIEWS_CONDITION,
    )


VIEW_SPECS = [_spec(view) for view in VIEWS]


@dg.multi_asset(
    name="lake_views",
    specs=VIEW_SPECS,
    can_subset=False,
    description="Bind every DuckDB view over the lake and record its columns.",
)
def lake_views(gtlake: GtlakeResource) -> Iterator[dg.MaterializeResult]:
    con = connect(gtlake.lake_location())
    try:
        bound = {view.name: _describe(con, sql_name(view.name)) for view in VIEWS}
    finally:
        con.close()
    for view in VIEWS:
        yield dg.MaterializeResult(
            asset_key=view_key(view.name),
            metadata={"dagster/column_schema": column_schema(view, bound[view.name])},
        )


@dg.asset(
    key=VIEWS_KEY,
    deps=[spec.key for spec in VIEW_SPECS],
    automation_condition=VIEWS_CONDITION,
    group_name=GROUP,
    kinds={"duckdb"},
    pool=VIEWS_POOL,
    description=(
        "The DuckDB file holding every view over the lake (one per table, and the analysis "
        "views), rewritten whole and moved into place."
    ),
)
def duckdb_views(gtlake: GtlakeResource) -> dg.MaterializeResult:
    names = viewsfile.refresh(gtlake.lake_location(), gtlake.views)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(gtlake.views),
            "views": dg.MetadataValue.int(len(names)),
            "view_names": ", ".join(names),
        }
    )
