"""`gtlake sql`: run SQL over the lake's views and print the results.

QUERY may hold several statements (`;`-separated); each statement that returns rows is printed.
Without QUERY, statements are read from standard input (a prompt is shown on a terminal; piped
input works the same, without the prompt), each ending with `;`.

Formats: `table` (aligned columns, long cells cut to 60 characters, then the row count), `csv`
(header line, empty for NULL, lists and structs as JSON) and `json` (JSON Lines: one object per
row, values typed, timestamps in ISO 8601).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import sys
import uuid
from collections.abc import Iterable, Sequence
from typing import IO, Any

import duckdb
import orjson

from gtlake import views
from gtlake.errors import GtlakeError
from gtlake.snapshot import parse_as_of
from gtlake.storage import Location

FORMATS = ("table", "csv", "json")
CELL_WIDTH = 60
BATCH = 10_000
# statements whose result is only DuckDB's row count of nothing: not printed
SILENT = {
    duckdb.StatementType.CREATE,
    duckdb.StatementType.DROP,
    duckdb.StatementType.ALTER,
    duckdb.StatementType.SET,
    duckdb.StatementType.VARIABLE_SET,
    duckdb.StatementType.TRANSACTION,
    duckdb.StatementType.ATTACH,
    duckdb.StatementType.DETACH,
    duckdb.StatementType.LOAD,
}
PROMPT, CONTINUE = "gtlake> ", "   ...> "
HELP = """\
Statements end with ';'. Commands: .tables (list the views), .help, .quit
Views: one per table (objects, labels, boxes, ...) and object_labels, job_lineage, object_history,
confidence_ranked, low_confidence, box_adjustments, verification_results, worker_stats."""


class QueryError(GtlakeError):
    """A statement DuckDB rejected; the message is DuckDB's, first line first."""


def sql_command(
    lake: Location,
    query: str | None,
    fmt: str = "table",
    save: str | None = None,
    as_of: str | None = None,
) -> int:
    """Entry point of `gtlake sql`; returns the exit status."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    moment = parse_as_of(as_of) if as_of else None
    if save:
        views.write_database(lake, save, as_of=moment)
        print(f"wrote the views over {views.lake_url(lake)} to {save}", file=sys.stderr)
        if query is None:
            return 0
    con = views.connect(lake, as_of=moment)
    try:
        if query is not None:
            run(con, query, fmt, sys.stdout)
            return 0
        return repl(con, fmt, sys.stdin, sys.stdout)
    finally:
        con.close()


def run(con: duckdb.DuckDBPyConnection, text: str, fmt: str, out: IO[str]) -> None:
    """Execute every statement of `text`, printing each result that has columns."""
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise QueryError(_message(exc)) from None
    for statement in statements:
        try:
            cursor = con.execute(statement)
        except duckdb.Error as exc:
            raise QueryError(_message(exc)) from None
        if cursor.description and statement.type not in SILENT:
            write(cursor, fmt, out)


def repl(con: duckdb.DuckDBPyConnection, fmt: str, stdin: IO[str], out: IO[str]) -> int:
    """Read statements until end of input; 1 when any statement failed, else 0."""
    interactive = stdin.isatty()
    if interactive:
        print(f"gtlake sql: DuckDB {duckdb.__version__}. .help for help, .quit to leave.")
    failed = False
    buffer: list[str] = []
    while True:
        if interactive:
            sys.stderr.write(CONTINUE if buffer else PROMPT)
            sys.stderr.flush()
        line = stdin.readline()
        if not line:
            break
        if not buffer and line.strip().startswith("."):
            if _command(con, line.strip(), out):
                break
            continue
        buffer.append(line)
        text = "".join(buffer)
        if not text.strip():
            buffer.clear()
        elif text.rstrip().endswith(";") and _complete(text):
            failed |= not _run_reporting(con, text, fmt, out)
            buffer.clear()
    text = "".join(buffer)
    if text.strip():
        failed |= not _run_reporting(con, text, fmt, out)
    if interactive:
        sys.stderr.write("\n")
    return 1 if failed else 0


def _complete(text: str) -> bool:
    """Whether the `;` ending `text` ends a statement (not one inside an open string)."""
    try:
        duckdb.extract_statements(text)
    except duckdb.ParserException as exc:
        return "unterminated" not in str(exc)
    except duckdb.Error:
        return True
    return True


def _run_reporting(con: duckdb.DuckDBPyConnection, text: str, fmt: str, out: IO[str]) -> bool:
    try:
        run(con, text, fmt, out)
    except QueryError as exc:
        print(f"gtlake: error: {exc}", file=sys.stderr)
        return False
    out.flush()
    return True


def _command(con: duckdb.DuckDBPyConnection, command: str, out: IO[str]) -> bool:
    """A dot command; True means leave."""
    name = command.split()[0].lower()
    if name in (".quit", ".exit", ".q"):
        return True
    if name == ".tables":
        rows = con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'main' order by table_name"
        ).fetchall()
        print("\n".join(r[0] for r in rows), file=out)
    elif name == ".help":
        print(HELP, file=out)
    else:
        print(f"gtlake: error: unknown command {name} (try .help)", file=sys.stderr)
    return False


def _message(exc: duckdb.Error) -> str:
    return str(exc).strip()


# -- output -----------------------------------------------------------------------------------


def write(cursor: duckdb.DuckDBPyConnection, fmt: str, out: IO[str]) -> None:
    columns = [d[0] for d in cursor.description]
    batches = _batches(cursor)
    if fmt == "csv":
        write_csv(columns, batches, out)
    elif fmt == "json":
        write_json(columns, batches, out)
    else:
        write_table(columns, [row for batch in batches for row in batch], out)


def _batches(cursor: duckdb.DuckDBPyConnection) -> Iterable[list[tuple]]:
    while True:
        try:
            rows = cursor.fetchmany(BATCH)
        except duckdb.Error as exc:
            raise QueryError(_message(exc)) from None
        if not rows:
            return
        yield rows


def write_csv(columns: Sequence[str], batches: Iterable[list[tuple]], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for rows in batches:
        writer.writerows([[_text(v, csv=True) for v in row] for row in rows])


def write_json(columns: Sequence[str], batches: Iterable[list[tuple]], out: IO[str]) -> None:
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    for rows in batches:
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            out.write(orjson.dumps(record, default=_json_default, option=options).decode())
            out.write("\n")


def write_table(columns: Sequence[str], rows: list[tuple], out: IO[str]) -> None:
    cells = [[_cut(_text(v)) for v in row] for row in rows]
    right = [
        bool(rows) and all(isinstance(r[i], (int, float, decimal.Decimal)) or r[i] is None
                           for r in rows)
        and any(r[i] is not None for r in rows)
        for i in range(len(columns))
    ]  # fmt: skip
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out.write(line(columns) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write(line(row) + "\n")
    out.write(f"({len(rows)} row{'' if len(rows) == 1 else 's'})\n")


def _text(value: Any, csv: bool = False) -> str:
    if value is None:
        return "" if csv else "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if csv else _short_float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (list, dict, tuple)):
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _short_float(value: float) -> str:
    text = f"{value:.6g}"
    return repr(value) if "e" in text and abs(value) >= 1 else text


def _cut(text: str) -> str:
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.timedelta,)):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)
