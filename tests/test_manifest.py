"""Unit tests of gtlake.manifest: line splitting, line numbers, offsets and quarantine reasons."""

from __future__ import annotations

import io
import json
from math import inf
from pathlib import Path

import pytest

from gtlake.errors import ManifestError
from gtlake.flatten import plain
from gtlake.manifest import BOM, MAX_DEPTH, Bad, Parsed, RawLine, parse, read_blocks, too_deep

SEEDS = Path(__file__).parent / "data" / "seeds"
INVALID = sorted(p.stem for p in (SEEDS / "invalid").glob("*.jsonl"))


def lines(data: bytes, block_size: int = 1 << 20) -> list[RawLine]:
    return [raw for block in read_blocks(io.BytesIO(data), block_size) for raw in block]


def test_line_numbers_are_0_based_and_count_blank_lines() -> None:
    data = b'{"a":1}\n\n   \n{"b":2}\n\r\n{"c":3}\n'
    got = lines(data)
    assert [(r.line, r.offset, r.data, r.last) for r in got] == [
        (0, 0, b'{"a":1}', False),
        (3, 13, b'{"b":2}', False),
        (5, 23, b'{"c":3}', False),
    ]
    for r in got:
        assert data[r.offset : r.offset + len(r.data)] == r.data


def test_bom_and_crlf() -> None:
    data = BOM + b'{"a":1}\r\n{"b":2}\r\n'
    got = lines(data)
    assert [(r.line, r.offset, r.data) for r in got] == [(0, 3, b'{"a":1}'), (1, 12, b'{"b":2}')]
    assert all(type(parse(r)) is Parsed for r in got)


def test_bom_only_stripped_at_the_start_of_the_file() -> None:
    got = lines(b'{"a":1}\n' + BOM + b'{"b":2}\n')
    assert got[1].data == BOM + b'{"b":2}'
    assert type(parse(got[1])) is Bad


def test_last_line_without_line_end_is_flagged() -> None:
    got = lines(b'{"a":1}\n{"b":')
    assert [(r.line, r.last) for r in got] == [(0, False), (1, True)]
    bad = parse(got[1])
    assert type(bad) is Bad
    assert bad.error.startswith("truncated last line (no line end): invalid JSON")
    assert (bad.line, bad.offset, bad.raw) == (1, 8, '{"b":')
    # a complete last line without a line end is fine
    assert type(parse(lines(b'{"a":1}\n{"b":2}')[1])) is Parsed


@pytest.mark.parametrize("block_size", [1, 2, 3, 5, 7, 16, 64, 1 << 20])
def test_block_size_does_not_change_the_lines(block_size: int) -> None:
    data = BOM + b'{"a":1}\r\n\n{"long":"' + b"x" * 100 + b'"}\n  \n{"c":"\xc3\xa9"}\n{"d":'
    expected = lines(data)
    assert lines(data, block_size) == expected
    assert [r.line for r in expected] == [0, 2, 4, 5]


def test_empty_and_blank_input() -> None:
    assert lines(b"") == []
    assert lines(b"\n\n \r\n") == []
    assert lines(BOM) == []


def test_invalid_utf8_is_reported_with_the_byte() -> None:
    (raw,) = lines(b'{"a":"caf\xe9"}\n')
    bad = parse(raw)
    assert type(bad) is Bad
    assert bad.error == "invalid UTF-8 at byte 9 of the line"
    assert bad.raw == '{"a":"caf\\xe9"}'


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (b"[1, 2]", "a list"),
        (b'"source-ref"', "a string"),
        (b"42", "a number"),
        (b"4.5", "a number"),
        (b"true", "a boolean"),
        (b"null", "null"),
    ],
)
def test_a_line_that_is_not_an_object(text: bytes, kind: str) -> None:
    bad = parse(RawLine(3, 10, text, False))
    assert bad == Bad(3, 10, f"line is {kind}, expected a JSON object", text.decode())


@pytest.mark.parametrize("name", INVALID)
def test_documented_trailing_comma_examples_are_invalid_json(name: str) -> None:
    data = (SEEDS / "invalid" / f"{name}.jsonl").read_bytes()
    (raw,) = lines(data)
    bad = parse(raw)
    assert type(bad) is Bad
    assert bad.error.startswith("invalid JSON: ")
    assert bad.raw == data.decode().rstrip("\n")


@pytest.mark.parametrize(
    "text",
    [b"{", b"{'a': 1}", b'{"a": 1,}', b'{"a": NaN}', b'{"a": "\\ud800"}', b'{"a": {"b": [1,]}}'],
)
def test_invalid_json(text: bytes) -> None:
    bad = parse(RawLine(0, 0, text, False))
    assert type(bad) is Bad and bad.error.startswith("invalid JSON: ")


def test_parsed_line_keeps_its_bytes() -> None:
    raw = RawLine(2, 5, '{"k":"é","n":[1,2.5],"big":1e400}'.encode(), False)
    parsed = parse(raw)
    assert type(parsed) is Parsed
    assert parsed[:3] == (2, 5, raw.data)
    # values may stay undecoded spans of the line (msgspec.Raw); decoded, they are the line's
    assert {k: plain(v) for k, v in parsed.obj.items()} == {"k": "é", "n": [1, 2.5], "big": inf}


def test_messages_for_people_count_lines_from_1() -> None:
    error = ManifestError("manifests/output/output.manifest", 0, "invalid JSON")
    assert str(error) == "manifests/output/output.manifest:1: invalid JSON"
    assert (error.path, error.line, error.reason) == (
        "manifests/output/output.manifest",
        0,
        "invalid JSON",
    )
    assert str(ManifestError("m", None, "unreadable")) == "m: unreadable"


def _nested(depth: int, inner: bytes = b"") -> bytes:
    """A line `depth` levels deep: the object, then `depth - 1` arrays (or objects)."""
    return b'{"a":' + b"[" * (depth - 1) + inner + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize("depth", [2, 99, 100, 101, 999, 1000, 5000])
def test_depth_limit_is_exact_and_never_a_recursion_error(depth: int) -> None:
    result = parse(RawLine(0, 0, _nested(depth), False))
    if depth <= MAX_DEPTH:
        assert type(result) is Parsed
    else:
        assert type(result) is Bad and result.error == "nested deeper than 100 levels"


def test_brackets_inside_strings_do_not_count() -> None:
    tricky = b'"]]]]\\\\\\"[[[[{{\\\\", "b": "\\"]]]"'
    line = _nested(100, b'{"s":' + tricky + b"}")
    assert len(json.loads(line)) == 1
    assert not too_deep(line, 101) and too_deep(line, 100)  # 100 levels + the {"s": ...} object
    many = b'{"s": "' + b"[" * 500 + b'", "t": "' + b"]" * 500 + b'", "u": [[[]]]}'
    assert not too_deep(many, 4) and too_deep(many, 3)


def test_depth_counts_objects_and_arrays_alike() -> None:
    line = b'{"a":' + b'{"b":[' * 60 + b"1" + b"]}" * 60 + b"}"
    assert too_deep(line) and not too_deep(line, 121) and too_deep(line, 120)


# -- byte ranges ------------------------------------------------------------------------------


def test_line_ranges_end_at_line_ends_and_cover_the_file() -> None:
    import io

    from gtlake.manifest import RangeReader, line_ends, line_ranges

    data = b"".join(b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * (i % 7) * 50) for i in range(200))
    data += b"y" * 5000 + b"\n" + b'{"last": 1}'  # a line longer than a range; no final line end
    for target in (1, 100, 999, 4096, len(data), 10 * len(data)):
        ranges = line_ranges(io.BytesIO(data), len(data), target)
        assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        assert all(data[end - 1 : end] == b"\n" for _, end in ranges[:-1])
        lines, numbered = [], 0
        for start, end in ranges:
            reader = RangeReader(io.BytesIO(data), start, end)
            for block in read_blocks(reader, block_size=64, offset=start):
                lines += [(numbered + raw.line, raw.offset, raw.data) for raw in block]
            numbered += line_ends(io.BytesIO(data), start, end)
        blocks = read_blocks(io.BytesIO(data))
        whole = [(raw.line, raw.offset, raw.data) for b in blocks for raw in b]
        assert lines == whole
    assert line_ranges(io.BytesIO(b""), 0, 10) == [(0, 0)]
