"""The DuckDB views file: rewritten whole by any run, read by anyone, never seen half-written.

DuckDB lets one process write a database file. Runs of different job partitions execute at the
same time (several workers, several machines), and each may refresh the views file, so no refresh
ever opens the live file for writing: `gtlake.views.write_database` builds a private file next to
it (a name no other writer uses) and moves it into place with `os.replace`, which is atomic on one
filesystem. Readers open the file read-only and see the old file or the new one,
never a half-written one; two overlapping refreshes both produce a complete file and the later
rename wins. The file holds view definitions over one snapshot of the lake (explicit file lists
from the Delta log), not data, so a refresh is cheap; it shows what was committed at refresh time,
so the last refresh should follow the last ingest: every `ingest` run refreshes after its own
tables are committed, and `make run` refreshes once more at the end. The file names an S3 lake's
files as `s3://...`: `query` registers the lake's filesystem in the connection first.
"""

from __future__ import annotations

import duckdb

from gtlake.storage import Location


def refresh(lake: Location, path: str) -> list[str]:
    """Rewrite the views file at `path` for `lake`; return the names of its views.

    `gtlake.views.write_database` builds the database under a private temporary name next to
    `path` and moves it into place with `os.replace`.
    """
    from gtlake.views import write_database

    write_database(lake, path)
    return view_names(path)


def view_names(path: str) -> list[str]:
    """The user views defined in the file, sorted."""
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute(
            "select view_name from duckdb_views() where not internal and schema_name = 'main' "
            "order by view_name"
        ).fetchall()
    return [name for (name,) in rows]


def query(path: str, sql: str, lake: Location | None = None) -> tuple[list[str], list[tuple]]:
    """Run one query on the views file, read-only: column names and rows. For an S3 `lake`
    its filesystem is registered first (no httpfs extension needed)."""
    from gtlake.storage import register_duckdb

    with duckdb.connect(path, read_only=True) as con:
        if lake is not None:
            register_duckdb(con, lake)
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()
