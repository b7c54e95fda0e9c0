"""`gtlake sql`: run SQL over the lake's views and print the results.

QUERY may hold several statements (`;`-separated); each statement that returns rows is printed.
Without QUERY, statements are read from standard input (a prompt is shown on a terminal; piped
input works the same, without the prompt), each ending with `;`.

Formats: `table` (aligned columns by display width, long cells cut to 60 cells, at most
`--max-rows` rows, 40 by default as DuckDB's `.maxrows`, then the row count: "(N rows, M shown)"
when cut), `csv` (header line, empty for NULL, lists and structs as JSON) and `json` (JSON Lines:
one object per row, values typed, timestamps in ISO 8601). Rows are streamed from DuckDB in
batches in every format; no result is held whole.
"""

from __future__ import annotations

import contextlib
import csv
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import duckdb
import orjson
import pyarrow as pa

from gtlake import views
from gtlake.errors import GtlakeError, one_line
from gtlake.lakecheck import require_lake
from gtlake.printer import MAX_ROWS, json_default, text, write_table
from gtlake.snapshot import parse_as_of
from gtlake.storage import Location

FORMATS = ("table", "csv", "json")
BATCH = 10_000
NUMERIC = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL",
}  # fmt: skip
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
    max_rows: int = MAX_ROWS,
    as_of: str | None = None,
) -> int:
    """Entry point of `gtlake sql`; returns the exit status."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    require_lake(lake)
    moment = parse_as_of(as_of) if as_of else None
    if save:
        views.write_database(lake, save, as_of=moment)
        print(f"wrote the views over {views.lake_url(lake)} to {save}", file=sys.stderr)
        if query is None:
            return 0
    con = views.connect(lake, as_of=moment)
    output = Output(fmt, sys.stdout, max_rows)
    try:
        if query is not None:
            run(con, query, output)
            return 0
        return repl(con, output, sys.stdin)
    finally:
        con.close()


@dataclass(frozen=True)
class Output:
    """Where and how results are printed."""

    fmt: str = "table"
    out: IO[str] = sys.stdout
    max_rows: int = MAX_ROWS  # table format: rows shown per result (0: every row)


def run(con: duckdb.DuckDBPyConnection, text: str, output: Output) -> None:
    """Execute every statement of `text`, printing each result that has columns.

    A query's rows are streamed from DuckDB in Arrow batches, never held whole: the table format
    keeps only the rows it shows and counts the others.
    """
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise QueryError(_message(exc)) from None
    for statement in statements:
        try:
            if statement.type == duckdb.StatementType.SELECT:
                relation = con.sql(statement)
                columns, types = relation.columns, [str(t) for t in relation.types]
                batches: Iterable[Sequence[tuple]] = _arrow_batches(relation)
            else:
                cursor = con.execute(statement)
                if not cursor.description or statement.type in SILENT:
                    continue
                columns = [d[0] for d in cursor.description]
                types = [str(d[1]) for d in cursor.description]
                batches = _batches(cursor)
        except duckdb.Error as exc:
            raise QueryError(_message(exc)) from None
        write(columns, types, batches, output)


def repl(con: duckdb.DuckDBPyConnection, output: Output, stdin: IO[str]) -> int:
    """Read statements until end of input; 1 when any statement failed, else 0.

    On a terminal the lines are read with `readline`: line editing, and a history kept between
    sessions in `history_path()`. Ctrl-C drops the statement being typed; Ctrl-D leaves.
    """
    interactive = stdin.isatty()
    read = _terminal_reader() if interactive else stdin.readline
    if interactive:
        print(f"gtlake sql: DuckDB {duckdb.__version__}. .help for help, .quit to leave.")
    failed = False
    buffer: list[str] = []
    try:
        while True:
            line = read(CONTINUE if buffer else PROMPT) if interactive else read()
            if line == CLEARED:  # Ctrl-C: drop the statement being typed, stay at the prompt
                buffer.clear()
                continue
            if not line:
                break
            if not buffer and line.strip().startswith("."):
                if _command(con, line.strip(), output.out):
                    break
                continue
            buffer.append(line)
            text = "".join(buffer)
            if not text.strip():
                buffer.clear()
            elif text.rstrip().endswith(";") and _complete(text):
                failed |= not _run_reporting(con, text, output)
                buffer.clear()
    finally:
        if interactive:
            _save_history()
    text = "".join(buffer)
    if text.strip():
        failed |= not _run_reporting(con, text, output)
    if interactive:
        sys.stderr.write("\n")
    return 1 if failed else 0


HISTORY_LENGTH = 1000
CLEARED = "\x03"  # what the terminal reader returns for Ctrl-C


def history_path() -> Path:
    """`$XDG_STATE_HOME/gtlake/history` when XDG_STATE_HOME is set, else `~/.gtlake_history`."""
    state = os.environ.get("XDG_STATE_HOME")
    if state:
        return Path(state) / "gtlake" / "history"
    return Path.home() / ".gtlake_history"


def _terminal_reader() -> Callable[[str], str]:
    """`input` with readline's line editing and the saved history; "" at end of input."""
    try:
        import readline
    except ImportError:  # a Python built without readline: plain input, no history
        readline = None
    if readline is not None:
        readline.set_history_length(HISTORY_LENGTH)
        with contextlib.suppress(OSError):
            readline.read_history_file(history_path())

    def read(prompt: str) -> str:
        try:
            return input(prompt) + "\n"
        except EOFError:  # Ctrl-D
            return ""
        except KeyboardInterrupt:  # Ctrl-C: a new line, and the prompt again
            sys.stdout.write("\n")
            sys.stdout.flush()
            return CLEARED

    return read


def _save_history() -> None:
    try:
        import readline
    except ImportError:
        return
    path = history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        readline.write_history_file(path)
    except OSError as exc:
        print(
            f"gtlake: warning: cannot save the history to {path}: {exc.strerror}", file=sys.stderr
        )


def _complete(text: str) -> bool:
    """Whether the `;` ending `text` ends a statement (not one inside an open string)."""
    try:
        duckdb.extract_statements(text)
    except duckdb.ParserException as exc:
        return "unterminated" not in str(exc)
    except duckdb.Error:
        return True
    return True


def _run_reporting(con: duckdb.DuckDBPyConnection, text: str, output: Output) -> bool:
    try:
        run(con, text, output)
    except QueryError as exc:
        print(f"gtlake: error: {exc}", file=sys.stderr)
        return False
    output.out.flush()
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
    return one_line(str(exc))


# -- output -----------------------------------------------------------------------------------


def write(
    columns: Sequence[str], types: Sequence[str], batches: Iterable[Sequence[tuple]], output: Output
) -> None:
    if output.fmt == "csv":
        write_csv(columns, batches, output.out)
    elif output.fmt == "json":
        write_json(columns, batches, output.out)
    else:
        numeric = [t.split("(")[0] in NUMERIC for t in types]
        write_table(columns, batches, output.out, output.max_rows, numeric)


def _batches(cursor: duckdb.DuckDBPyConnection) -> Iterator[list[tuple]]:
    while True:
        try:
            rows = cursor.fetchmany(BATCH)
        except duckdb.Error as exc:
            raise QueryError(_message(exc)) from None
        if not rows:
            return
        yield rows


class _ArrowRows(Sequence):
    """A record batch as a sequence of row tuples, converted to Python only where read."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.batch = batch

    def __len__(self) -> int:
        return self.batch.num_rows

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            start, stop, _ = index.indices(len(self))
            part = self.batch.slice(start, max(stop - start, 0))
            return list(zip(*(c.to_pylist() for c in part.columns), strict=True))
        return self[index : index + 1][0]

    def __iter__(self) -> Iterator[tuple]:
        return iter(self[:])


def _arrow_batches(relation: duckdb.DuckDBPyRelation) -> Iterator[Sequence[tuple]]:
    try:
        reader = relation.to_arrow_reader(BATCH)
        for batch in reader:
            yield _ArrowRows(batch)
    except (duckdb.Error, pa.ArrowException) as exc:
        raise QueryError(_message(exc)) from None


def write_csv(columns: Sequence[str], batches: Iterable[Sequence[tuple]], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for rows in batches:
        writer.writerows([[text(v, csv=True) for v in row] for row in rows])


def write_json(columns: Sequence[str], batches: Iterable[Sequence[tuple]], out: IO[str]) -> None:
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    for rows in batches:
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            out.write(orjson.dumps(record, default=json_default, option=options).decode())
            out.write("\n")
