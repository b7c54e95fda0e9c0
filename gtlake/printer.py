"""Aligned text tables: the one printer of `gtlake sql` results and the command line's reports.

Columns are aligned by display width (a CJK character takes two cells, as `rich` measures it),
numbers to the right, cells cut to CELL_WIDTH (a cut cell ends in `…`); rows come in batches, so
a result is printed without being held whole.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Sequence
from typing import IO, Any

import orjson
from rich.cells import cell_len, set_cell_size

CELL_WIDTH = 60
MAX_ROWS = 40  # rows a table shows by default, as DuckDB's `.maxrows`


def write_table(
    columns: Sequence[str],
    batches: Iterable[Sequence[tuple]],
    out: IO[str],
    max_rows: int = MAX_ROWS,
    numeric: Sequence[bool] | None = None,
    plain: bool = False,
) -> None:
    """Aligned columns (by display width: CJK characters take two cells), numbers to the right,
    cells cut to CELL_WIDTH; then the row count.

    At most `max_rows` rows are printed and held; the rest are only counted, and the count line
    says how many were shown. With `max_rows` 0 every row is printed, a batch at a time, the
    column widths growing as wider cells come. `plain` (the command line's reports): no rule
    under the header, no cell cut, no row count.
    """
    shown = total = 0
    widths: list[int] | None = None
    right = list(numeric) if numeric is not None else None
    for batch in batches:
        total += len(batch)
        room = len(batch) if max_rows <= 0 else min(len(batch), max_rows - shown)
        if room <= 0:
            continue
        rows = batch[:room]
        shown += room
        if right is None:
            right = _numeric_by_value(len(columns), rows)
        cells = [[_one_line(text(v)) if plain else _cut(text(v)) for v in row] for row in rows]
        if widths is None:
            widths = [cell_len(c) for c in columns]
        for row in cells:
            widths = [max(w, cell_len(c)) for w, c in zip(widths, row, strict=True)]
        if shown == room:  # the first rows: the header goes first
            _header(columns, widths, right, out, rule=not plain)
        for row in cells:
            out.write(_line(row, widths, right) + "\n")
    if widths is None:
        _header(columns, [cell_len(c) for c in columns], [False] * len(columns), out, not plain)
    if plain:
        return
    plural = "" if total == 1 else "s"
    cut = f", {shown:,} shown" if shown < total else ""
    out.write(f"({total:,} row{plural}{cut})\n")


def _numeric_by_value(count: int, rows: Sequence[tuple]) -> list[bool]:
    """Without column types: right-align columns whose every shown value is a number."""
    return [
        all(isinstance(r[i], (int, float, decimal.Decimal)) or r[i] is None for r in rows)
        and any(r[i] is not None for r in rows)
        for i in range(count)
    ]


def _header(
    columns: Sequence[str], widths: list[int], right: list[bool], out: IO[str], rule: bool = True
) -> None:
    out.write(_line(columns, widths, right) + "\n")
    if rule:
        out.write("  ".join("-" * w for w in widths) + "\n")


def _line(values: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    parts = []
    for value, width, to_right in zip(values, widths, right, strict=True):
        pad = " " * (width - cell_len(value))
        parts.append(pad + value if to_right else value + pad)
    return "  ".join(parts).rstrip()


def text(value: Any, csv: bool = False) -> str:
    if value is None:
        return "" if csv else "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if csv else _short_float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (list, dict, tuple)):
        return orjson.dumps(value, default=json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _short_float(value: float) -> str:
    text = f"{value:.6g}"
    return repr(value) if "e" in text and abs(value) >= 1 else text


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def _cut(text: str) -> str:
    """One line of at most CELL_WIDTH cells (a cut cell ends in `…`)."""
    text = _one_line(text)
    if cell_len(text) <= CELL_WIDTH:
        return text
    return set_cell_size(text, CELL_WIDTH - 1).rstrip() + "…"


def json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.timedelta,)):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)
