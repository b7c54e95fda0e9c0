"""Column descriptions: declared once in `gtlake.schemas`, quoted by the README's table reference.

The README's reference (section "The lake") has one row per table listing its columns, some with a
note in parentheses; every note must be the column's description in `gtlake.schemas`, every
table must have a row listing exactly its file columns in order, and every column (partition
columns too) must have a description.
"""

from __future__ import annotations

import re

from gtlake.schemas import (
    COLUMN_DESCRIPTIONS,
    DELTA_PARTITIONS,
    FILE_SCHEMAS,
    TABLES,
    column_description,
    full_schema,
)
from tests.conftest import ROOT

ROW = re.compile(r"^\| `(?P<table>\w+)` \| (?P<grain>[^|]+) \| (?P<columns>.+) \|$")
COLUMN = re.compile(r"`(?P<name>\w+)`(?: \((?P<note>[^()]*)\))?(?:, |$)")


def readme_reference() -> dict[str, list[tuple[str, str | None]]]:
    """The README's table reference: table -> [(column, note or None)], in the README's order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## The lake\n", 1)[1].split("\n## ", 1)[0]
    reference = {}
    for line in section.splitlines():
        row = ROW.match(line)
        if row is None or row["table"] == "table":
            continue
        cells = row["columns"]
        columns = [(m["name"], m["note"]) for m in COLUMN.finditer(cells)]
        assert "".join(m[0] for m in COLUMN.finditer(cells)) == cells, line  # nothing skipped
        reference[row["table"]] = columns
    return reference


def test_readme_reference_lists_every_table_and_column_in_order():
    reference = readme_reference()
    assert list(reference) == list(TABLES)
    for table, columns in reference.items():
        assert [name for name, _ in columns] == FILE_SCHEMAS[table].names, table


def test_readme_notes_are_the_schema_descriptions():
    notes = 0
    for table, columns in readme_reference().items():
        for name, note in columns:
            if note is not None:
                assert note == column_description(table, name), (table, name)
                notes += 1
    assert notes > 20


def test_every_column_is_described_and_nothing_else():
    assert set(COLUMN_DESCRIPTIONS) == {"*", *TABLES}
    assert set(COLUMN_DESCRIPTIONS["*"]) == set(DELTA_PARTITIONS)
    for table in TABLES:
        assert set(COLUMN_DESCRIPTIONS[table]) == set(FILE_SCHEMAS[table].names), table
        for name in [*full_schema(table).names, *DELTA_PARTITIONS]:
            assert column_description(table, name).strip(), (table, name)
