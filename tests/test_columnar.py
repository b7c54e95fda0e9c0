"""The columnar path (gtlake.columnar) gives exactly the rows of the line-by-line path."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from gtlake.columnar import flatten_group
from gtlake.flatten import flatten_line
from gtlake.manifest import Parsed, parse, read_blocks
from gtlake.synthetic import write_synthetic
from gtlake.tasktypes import BoxGroup, box_groups_table
from gtlake.writer import to_arrow
from tests.conftest import REAL

SEEDS = Path(__file__).parent / "data" / "seeds" / "valid"


def _manifests(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "manifest" in p.name)


def _line_by_line(lines: list[Parsed], own: str | None) -> dict[str, pa.Table]:
    objects, labels, items = [], [], {}
    for p in lines:
        rows = flatten_line(p.line, p.obj, own)
        objects.append(rows.object)
        labels.extend(rows.labels)
        for table, row in rows.items:
            items.setdefault(table, []).append(row)
    raw = pa.array([p.data for p in lines], pa.large_string())
    out = {
        "objects": to_arrow("objects", objects, {"raw": raw}),
        "labels": to_arrow("labels", labels),
    }
    for table, rows in items.items():
        out[table] = _items(table, rows)
    return out


def _items(table: str, rows: list) -> pa.Table:
    groups = [r for r in rows if type(r) is BoxGroup]
    plain = to_arrow(table, [r for r in rows if type(r) is not BoxGroup])
    return pa.concat_tables([box_groups_table(groups), plain]) if groups else plain


def _columnar(lines: list[Parsed], own: str | None) -> dict[str, pa.Table]:
    group = flatten_group(lines, own)
    assert group is not None, "the group fell back to the line-by-line path"
    labels = pa.concat_tables(group.labels) if group.labels else to_arrow("labels", [])
    out = {"objects": group.objects, "labels": labels}
    for table, rows in group.items.items():
        out[table] = _items(table, rows)
    return out


def _sorted(table: pa.Table) -> pa.Table:
    keys = [c for c in ("line", "attribute", "box_index", "entity_index", "comment_index",
                        "class_id") if c in table.column_names]  # fmt: skip
    return table.sort_by([(k, "ascending") for k in keys])


def _groups(path: Path) -> list[list[Parsed]]:
    groups: dict[tuple, list[Parsed]] = {}
    with open(path, "rb") as stream:
        for block in read_blocks(stream):
            for raw in block:
                p = parse(raw)
                if type(p) is Parsed:
                    groups.setdefault(tuple(p.obj), []).append(p)
    return list(groups.values())


def _assert_same(path: Path, own: str | None = None) -> int:
    compared = 0
    for lines in _groups(path):
        expected = _line_by_line(lines, own)
        got = _columnar(lines, own)
        assert set(got) == {t for t, v in expected.items() if v.num_rows} | {"objects", "labels"}
        for table, data in expected.items():
            assert _sorted(got[table]).equals(_sorted(data)), f"{path}: {table} differs"
        compared += len(lines)
    return compared


def test_the_fixtures_are_there() -> None:
    # A missing fixture directory must fail here, not shrink the parametrized tests to a skip.
    assert len(_manifests(REAL)) >= 10
    assert len(list(SEEDS.glob("*.jsonl"))) >= 10


@pytest.mark.parametrize("path", _manifests(REAL), ids=lambda p: str(p.relative_to(REAL)))
def test_real_files(path: Path) -> None:
    assert _assert_same(path) > 0


def test_documented_examples(tmp_path: Path) -> None:
    for seed in sorted(SEEDS.glob("*.jsonl")):
        assert _assert_same(seed, own="bounding-box") > 0


def test_synthetic_tree_of_every_type(tmp_path: Path) -> None:
    write_synthetic(tmp_path, jobs=12, lines=30, seed=7)
    total = sum(_assert_same(path) for path in _manifests(tmp_path))
    assert total > 12 * 30


@pytest.mark.parametrize(
    "lines",
    [
        # a key that is a label on one line and passthrough on the next
        [{"source": "a", "x": 1, "x-metadata": {"type": "groundtruth/custom"}},
         {"source": "b", "x": 1, "x-metadata": {"type": "my-own"}}],
        # a source that is a string on one line only
        [{"source": "a"}, {"source": 5}],
        # two different types under one attribute
        [{"source": "a", "x": 0, "x-metadata": {"type": "groundtruth/custom"}},
         {"source": "b", "x": 0, "x-metadata": {"type": "groundtruth/image-classification"}}],
        # a value the handler rejects
        [{"source": "a", "x": "dog", "x-metadata": {"type": "groundtruth/image-classification"}}],
    ],
)  # fmt: skip
def test_unusual_groups_fall_back(lines: list[dict]) -> None:
    parsed = [parse_line(i, line) for i, line in enumerate(lines)]
    assert flatten_group(parsed, None) is None


def parse_line(number: int, obj: dict) -> Parsed:
    from gtlake.manifest import RawLine

    p = parse(RawLine(number, 0, orjson.dumps(obj), False))
    assert type(p) is Parsed
    return p
