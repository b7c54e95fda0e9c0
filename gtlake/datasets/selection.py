"""Which labels go into a training set, and in which split.

The selection is SQL over the lake's views (`selection.sql`, a CTE per step): the policy
(`latest` or `verified`), then the `--where` expression over `object_labels` columns, then the
split by a hash of `object_id`. Every value is a DuckDB parameter; the `--where` text is parsed
by DuckDB as one expression (never a statement, a set operation or a second expression) and
applied to the selection as a filter, so it cannot change the query around it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from gtlake.errors import GtlakeError

POLICIES = ("latest", "verified")
SELECTION_SQL = Path(__file__).with_name("selection.sql")
_SPLIT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class DatasetError(GtlakeError):
    """A training set that cannot be built as asked (bad option, unfit format, empty selection)."""


@dataclass(frozen=True)
class Split:
    """One split: its name and its share of the objects."""

    name: str
    fraction: float


DEFAULT_SPLITS = (Split("train", 1.0),)


def parse_splits(text: str) -> tuple[Split, ...]:
    """`train=0.8,val=0.1,test=0.1` -> splits; the fractions must be positive and sum to 1."""
    splits = []
    for part in text.split(","):
        name, sep, fraction = part.partition("=")
        name = name.strip()
        if not sep or not _SPLIT_NAME.fullmatch(name):
            raise DatasetError(f"--split: {part.strip()!r} is not NAME=FRACTION (e.g. train=0.8)")
        try:
            share = float(fraction)
        except ValueError:
            raise DatasetError(f"--split: {fraction.strip()!r} is not a number") from None
        if not share > 0 or math.isinf(share):
            raise DatasetError(f"--split: the share of {name} must be above 0, got {fraction}")
        splits.append(Split(name, share))
    names = [s.name for s in splits]
    if len(set(names)) != len(names):
        raise DatasetError(f"--split: a split is named twice: {text}")
    total = sum(s.fraction for s in splits)
    if abs(total - 1) > 1e-9:
        raise DatasetError(f"--split: the shares add up to {total:g}, not 1")
    return tuple(splits)


def where_expression(where: str | None) -> duckdb.Expression | None:
    """The `--where` text as one DuckDB expression, or a one-line error."""
    if where is None or not where.strip():
        return None
    try:
        return duckdb.SQLExpression(where)
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise DatasetError(f"--where is not one SQL expression: {message}") from None


def select_labels(
    con: duckdb.DuckDBPyConnection,
    policy: str = "latest",
    where: str | None = None,
    splits: tuple[Split, ...] = DEFAULT_SPLITS,
    seed: int = 0,
    good_verdicts: tuple[str, ...] = ("good",),
) -> pa.Table:
    """The selected labels: `object_labels` columns plus `split`, one row per (object, family)."""
    if policy not in POLICIES:
        raise DatasetError(f"--policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    bounds, total = [], 0.0
    for split in splits:
        total += split.fraction
        bounds.append(total)
    bounds[-1] = 1.0  # the last split takes what rounding left
    params = {
        "policy": policy,
        "good_verdicts": [v.lower() for v in good_verdicts],
        "seed": str(seed),
        "split_names": [s.name for s in splits],
        "split_bounds": bounds,
    }
    expression = where_expression(where)
    try:
        relation = con.sql(SELECTION_SQL.read_text(encoding="utf-8"), params=params)
        if expression is not None:
            relation = relation.filter(expression)
        relation = relation.order("source_ref, source, object_id, origin_job, attribute")
        return relation.to_arrow_table()
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        if expression is not None:
            raise DatasetError(f"--where {where!r}: {message}") from None
        raise
