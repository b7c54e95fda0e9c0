"""The vectorised engine (gtlake.flatten.vector) gives exactly the rows of the reference
interpreter (gtlake.flatten.reference): every table, every column, row order included."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtlake import ingest as ingest_module
from gtlake.flatten import compiled
from gtlake.flatten.compiled import supported
from gtlake.flatten.spec import spec_for
from gtlake.flatten.vector import flatten_group
from gtlake.manifest import Parsed, RawLine, parse, read_blocks
from gtlake.schemas import TABLES
from gtlake.synthetic import write_synthetic
from tests.conftest import REAL

SEEDS = Path(__file__).parent / "data" / "seeds" / "valid"


def _manifests(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "manifest" in p.name)


def _flatten(parsed: list, own: str | None, monkeypatch, reference: bool) -> dict[str, pa.Table]:
    if reference:
        monkeypatch.setenv(ingest_module.REFERENCE_ONLY, "1")
    else:
        monkeypatch.delenv(ingest_module.REFERENCE_ONLY, raising=False)
    block = ingest_module._flatten_block("job", {}, "m", parsed, own)
    out = {}
    for table in TABLES:
        data = block.arrow(table)
        if data is not None:
            out[table] = data
    return out


def _assert_same(parsed: list, monkeypatch, own: str | None = None) -> int:
    vector = _flatten(parsed, own, monkeypatch, reference=False)
    reference = _flatten(parsed, own, monkeypatch, reference=True)
    assert set(vector) == set(reference)
    for table, data in reference.items():
        assert vector[table].schema == data.schema, table
        assert vector[table].to_pylist() == data.to_pylist(), f"{table} differs"
    return sum(1 for p in parsed if type(p) is Parsed)


def _blocks(path: Path) -> list[list]:
    with open(path, "rb") as stream:
        return [[parse(raw) for raw in block] for block in read_blocks(stream)]


def test_the_fixtures_are_there() -> None:
    # A missing fixture directory must fail here, not shrink the parametrized tests to a skip.
    assert len(_manifests(REAL)) >= 10
    assert len(list(SEEDS.glob("*.jsonl"))) >= 10


@pytest.mark.parametrize("path", _manifests(REAL), ids=lambda p: str(p.relative_to(REAL)))
def test_real_files(path: Path, monkeypatch) -> None:
    assert sum(_assert_same(block, monkeypatch) for block in _blocks(path)) > 0


def test_documented_examples(monkeypatch) -> None:
    for seed in sorted(SEEDS.glob("*.jsonl")):
        for block in _blocks(seed):
            assert _assert_same(block, monkeypatch, own="bounding-box") > 0


def test_synthetic_tree_of_every_type(tmp_path: Path, monkeypatch) -> None:
    write_synthetic(tmp_path, jobs=12, lines=30, seed=7)
    total = 0
    for path in _manifests(tmp_path):
        for block in _blocks(path):
            total += _assert_same(block, monkeypatch)
    assert total > 12 * 30


def parse_line(number: int, obj: dict | bytes) -> Parsed:
    data = obj if isinstance(obj, bytes) else orjson.dumps(obj)
    p = parse(RawLine(number, 0, data, False))
    assert type(p) is Parsed
    return p


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
        # a value the spec rejects
        [{"source": "a", "x": "dog", "x-metadata": {"type": "groundtruth/image-classification"}}],
        # a date shaped like ISO that is no date (Arrow's cast refuses it)
        [{"source": "a", "x": 0, "x-metadata": {"type": "groundtruth/image-classification",
                                                 "creation-date": "2023-02-30T00:00:00"}}],
    ],
)  # fmt: skip
def test_unusual_groups_fall_back(lines: list[dict]) -> None:
    parsed = [parse_line(i, line) for i, line in enumerate(lines)]
    assert flatten_group(parsed, None) is None


# -- odd lines mixed into regular blocks --------------------------------------------------------

_BOX = {"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}


def _regular(i: int) -> dict:
    return {
        "source-ref": f"s3://b/{i}.jpg",
        "bb": {"image_size": [{"width": 5, "height": 4, "depth": 3}],
               "annotations": [dict(_BOX, left=i), dict(_BOX, class_id=1)]},
        "bb-metadata": {"objects": [{"confidence": 0.5}, {"confidence": 0.25}],
                        "class-map": {"0": "a", "1": "b"}, "type": "groundtruth/object-detection",
                        "human-annotated": "yes", "creation-date": "2024-01-02T03:04:05.000006",
                        "job-name": "labeling-job/job"},
        "cls": "1",
        "cls-metadata": {"class-name": "b", "confidence": 0.75,
                         "type": "groundtruth/image-classification", "job-name": "other"},
        "ml": [0, 1],
        "ml-metadata": {"class-map": {"0": "x", "1": "y"}, "confidence-map": {"0": 0.5},
                        "type": "groundtruth/text-classification-multilabel"},
        "seg-ref": f"s3://b/{i}.png",
        "seg-ref-metadata": {"internal-color-map": {
            "0": {"class-name": "bg", "confidence": 0.5, "hex-color": "#ffffff"},
            "1": {"class-name": "road", "confidence": 0.5, "hex-color": "#f28333"}},
            "type": "groundtruth/semantic-segmentation"},
    }  # fmt: skip


_ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=5), st.just([]), st.just({}), st.just([1, "2"]), st.just("é€😀"),
    st.just(2**63), st.just(10**400), st.just("7"), st.just(" 7 "), st.just(7.0),
)  # fmt: skip
_PLACES = [
    ("bb", "annotations", 0, "left"), ("bb", "annotations", 1, "class_id"),
    ("bb", "image_size", 0, "width"), ("bb", "annotations"), ("bb", "image_size"), ("bb",),
    ("bb-metadata", "objects", 1, "confidence"), ("bb-metadata", "objects"),
    ("bb-metadata", "class-map", "1"), ("bb-metadata", "class-map"),
    ("bb-metadata", "human-annotated"), ("bb-metadata", "creation-date"),
    ("bb-metadata", "job-name"), ("cls",), ("cls-metadata", "confidence"),
    ("cls-metadata", "class-name"), ("ml",), ("ml", 0), ("ml-metadata", "confidence-map", "0"),
    ("ml-metadata", "class-map"), ("source-ref",), ("extra-key",), ("bb", "annotations", 0, "é"),
    ("seg-ref",), ("seg-ref-metadata", "internal-color-map", "1", "confidence"),
    ("seg-ref-metadata", "internal-color-map", "1"), ("seg-ref-metadata", "internal-color-map"),
    ("seg-ref-metadata", "internal-color-map", "x"),
]  # fmt: skip


def _set(line: dict, place: tuple, value: object) -> None:
    node = line
    for step in place[:-1]:
        node = node[step]
    node[place[-1]] = value


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, 19), st.sampled_from(_PLACES), _ODD_VALUES, st.booleans()),
        max_size=4,
    )
)
def test_odd_lines_in_regular_blocks(changes: list, monkeypatch) -> None:
    lines = [_regular(i) for i in range(20)]
    for at, place, value, drop in changes:
        try:
            if drop and len(place) == 1:
                lines[at].pop(place[0], None)
            else:
                _set(lines[at], place, value)
        except (KeyError, IndexError, TypeError):
            continue
    texts = [json.dumps(line).encode() for line in lines]
    parsed = [parse(RawLine(i, 0, text, False)) for i, text in enumerate(texts)]
    monkeypatch.setattr(ingest_module, "SPLIT_MIN", 2)  # odd lines isolated, the rest vectorised
    _assert_same(parsed, monkeypatch, own="bb")


def test_regular_blocks_take_the_vectorised_path() -> None:
    lines = [parse_line(i, _regular(i)) for i in range(20)]
    group = flatten_group(lines, "bb")
    assert group is not None
    assert group.items["boxes"][0].num_rows == 40
    assert group.items["classes"][0].num_rows == 40
    assert group.items["segments"][0].num_rows == 40
    assert compiled.entries_supported(spec_for("semantic-segmentation"))
    for kind in ("object-detection", "image-classification", "text-classification-multilabel",
                 "text-span", "label-verification", "custom"):  # fmt: skip
        assert supported(spec_for(kind)), kind
    odd = [*lines[:5], parse_line(5, {**_regular(5), "cls": "dog"}), *lines[6:]]
    assert flatten_group(odd, "bb") is None


# -- the whole ingest through the reference path ------------------------------------------------


def _lake_rows(lake: Path) -> dict[str, list]:
    from deltalake import DeltaTable

    out = {}
    for table in TABLES:
        if table in ("jobs", "files"):
            continue
        data = DeltaTable(str(lake / table)).to_pyarrow_table().drop_columns(["ingest_id"])
        rows = data.to_pylist()
        out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def test_forced_fallback_ingest_equals_the_normal_ingest(tmp_path: Path, monkeypatch) -> None:
    from gtlake.ingest import ingest
    from gtlake.storage import Location

    tree = tmp_path / "tree"
    write_synthetic(tree, jobs=9, lines=40, seed=3, intermediates=1)
    source = Location(str(tree))
    monkeypatch.delenv(ingest_module.REFERENCE_ONLY, raising=False)
    ingest(source, Location(str(tmp_path / "vector")), workers=1)
    monkeypatch.setenv(ingest_module.REFERENCE_ONLY, "1")
    ingest(source, Location(str(tmp_path / "reference")), workers=1)
    vector, reference = _lake_rows(tmp_path / "vector"), _lake_rows(tmp_path / "reference")
    assert sum(len(rows) for rows in vector.values()) > 9 * 40
    assert vector == reference


# -- one big manifest on every core -------------------------------------------------------------


@pytest.mark.slow
def test_byte_ranges_in_worker_processes_give_the_same_lake(tmp_path: Path, monkeypatch) -> None:
    from gtlake.ingest import ingest
    from gtlake.storage import Location

    good = [json.dumps(_regular(i)).encode() for i in range(300)]
    lines = [
        b"\xef\xbb\xbf" + good[0],
        *good[1:100],
        b"",
        b"  ",
        b'{"bad": ',
        *good[100:200],
        b"[1, 2]",
        b'{"source-ref": "x", "bb": 5, "bb-metadata": {"type": "groundtruth/object-detection"}}',
        b"\xff\xfe",
        *good[200:],
        b'{"trunc',
    ]
    manifest = tmp_path / "tree" / "job" / "manifests" / "output" / "output.manifest"
    manifest.parent.mkdir(parents=True)
    manifest.write_bytes(b"\r\n".join(lines))  # no line end after the last line
    source = Location(str(tmp_path / "tree"))
    monkeypatch.setattr(ingest_module, "RANGE_MIN", 0)
    monkeypatch.setattr(ingest_module, "RANGE_BYTES", 7000)  # ~50 ranges
    spans: list = []

    def ranges(*args):
        spans.extend(ingest_module.line_ranges.__wrapped__(*args))
        return spans

    ranges.__wrapped__ = ingest_module.line_ranges
    monkeypatch.setattr(ingest_module, "line_ranges", ranges)
    one = ingest(source, Location(str(tmp_path / "one")), workers=1)
    assert spans == []
    two = ingest(source, Location(str(tmp_path / "two")), workers=2)
    assert not one.failed and not two.failed
    assert len(spans) > 20 and spans[-1][1] == manifest.stat().st_size
    assert one.jobs[0].lines == two.jobs[0].lines == 300
    serial, ranged = _lake_rows(tmp_path / "one"), _lake_rows(tmp_path / "two")
    assert sorted(r["line"] for r in serial["quarantine"]) == [102, 203, 204, 205, 306]
    assert serial == ranged
