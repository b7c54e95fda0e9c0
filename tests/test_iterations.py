"""gtlake.iterations: counting an intermediate manifest block by block gives the line-by-line
counts of the manifest reader, whatever the block boundaries and whatever odd lines the file
holds: on every real and seed file, the demo and synthetic trees, tricky lines, and a property
test that mixes odd lines into regular blocks."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gtlake.iterations as iterations
from gtlake import demo, synthetic
from gtlake.iterations import Counts, count_lines
from gtlake.manifest import Bad, parse, read_blocks

ROOT = Path(__file__).resolve().parents[1]

LABELED = b'{"source-ref": "s3://b/a.jpg", "pet": 1, "pet-metadata": {"type": "groundtruth/x"}}'
UNLABELED = b'{"source-ref": "s3://b/b.jpg"}'


def reference(data: bytes, own: str | None) -> Counts:
    """Every line through the manifest reader, one at a time."""
    lines = labeled = bad = 0
    for block in read_blocks(io.BytesIO(data)):
        for raw in block:
            parsed = parse(raw)
            if type(parsed) is Bad:
                bad += 1
            else:
                lines += 1
                labeled += own is not None and own in parsed.obj
    return Counts(lines, labeled, bad)


CASES = {
    "clean": b"\n".join([LABELED, UNLABELED] * 40) + b"\n",
    "no final line end": b"\n".join([LABELED, UNLABELED] * 40),
    "crlf": b"\r\n".join([LABELED, UNLABELED] * 40) + b"\r\n",
    "bom": b"\xef\xbb\xbf" + b"\n".join([UNLABELED, LABELED] * 40) + b"\n",
    "blank and space lines": b"\n".join([LABELED, b"", UNLABELED, b"   ", LABELED] * 20) + b"\n",
    "bad lines": b"\n".join([LABELED, b"{bad", UNLABELED, b"[1, 2]", b'"x"'] * 20) + b"\n",
    "truncated last line": b"\n".join([LABELED, UNLABELED] * 40) + b'\n{"source-ref": "s3://b',
    "invalid utf-8": b"\n".join([LABELED, b'{"source": "caf\xe9"}', UNLABELED] * 20) + b"\n",
    "key only in a value": b"\n".join([b'{"source": "pet"}', LABELED] * 40) + b"\n",
    "empty": b"",
    # Two bad lines that joined with a comma would make valid JSON (one object, then a second
    # one on the next line): a block decoded as one array must not count them as two lines.
    "lines that combine": b"\n".join([LABELED, b'{"a":[{"b":1}', b'{"pet":2}]},{"c":1}'] * 20)
    + b"\n",
    "a line that is two objects": b"\n".join([LABELED, b'{"a":1},{"pet":2}', UNLABELED] * 20),
    "nested 101 deep": b"\n".join([LABELED, b'{"pet":' + b"[" * 100 + b"]" * 100 + b"}"] * 20),
    "nested 100 deep": b"\n".join([LABELED, b'{"pet":' + b"[" * 99 + b"]" * 99 + b"}"] * 20),
    "nested 150 deep, brackets in strings": b"\n".join(
        [LABELED, b'{"pet":' + b'["]",' * 150 + b"1" + b"]" * 150 + b"}", UNLABELED] * 20
    ),
    "many brackets, shallow": b"\n".join([b'{"pet":[' + b"[],{}," * 200 + b"1]}"] * 20),
    "key only nested": b"\n".join([b'{"a": {"pet": 1}}', b'{"a": ["pet", {"pet": 2}]}'] * 20),
    "key escaped": b"\n".join([b'{"p\\u0065t": 1}', b'{"pe\\"t": 1}', UNLABELED] * 20),
    "the marker in the data": b"\n".join(
        [b'{"\x7f": 1}', b'{"a": "\\u007f"}', b'{"\\u007F": {"pet": 1}}', LABELED] * 20
    ),
    "leading and trailing whitespace": b"\n".join([b"  " + LABELED + b"\t ", UNLABELED] * 20),
    "form feed lines": b"\n".join([LABELED, b"\x0c", UNLABELED, b"\x0b "] * 20),
    "lone carriage return": b"\n".join([LABELED, b'{"a":1}\r{"pet":1}', UNLABELED] * 20),
    "empty objects": b"\n".join([b"{}", b"{ }", LABELED] * 20),
    "a BOM inside": b"\n".join([LABELED, b"\xef\xbb\xbf" + UNLABELED] * 20),
}


@pytest.mark.parametrize("block_size", [7, 64, 1000, 1 << 20])
@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("own", ["pet", "a", None, 'odd "name"', "\x7f"])
def test_block_counts_equal_line_counts(
    name: str, block_size: int, own: str | None, monkeypatch
) -> None:
    monkeypatch.setattr(iterations, "BLOCK_SIZE", block_size)
    data = CASES[name]
    assert count_lines(io.BytesIO(data), own) == reference(data, own)


def test_a_clean_block_takes_one_decode(monkeypatch) -> None:
    slow = []
    monkeypatch.setattr(iterations, "_count_slowly", lambda *a: slow.append(a) or Counts(0, 0, 0))
    assert count_lines(io.BytesIO(CASES["clean"]), "pet") == Counts(80, 40, 0)
    assert slow == []


def test_blocks_with_bad_lines_are_halved_not_read_line_by_line(monkeypatch) -> None:
    """One bad line in a large block: only a small part around it goes through the reader."""
    slowly = []
    original = iterations._count_slowly
    monkeypatch.setattr(
        iterations, "_count_slowly", lambda body, own: slowly.append(body) or original(body, own)
    )
    lines = [LABELED, UNLABELED] * 2000
    lines[2345] = b"{bad"
    data = b"\n".join(lines) + b"\n"
    assert count_lines(io.BytesIO(data), "pet") == reference(data, "pet") == Counts(3999, 2000, 1)
    assert sum(body.count(b"\n") + 1 for body in slowly) <= iterations.SMALL_BLOCK


# -- every manifest in the repository, and the generated trees ----------------------------------


def _attributes(data: bytes) -> list[str | None]:
    """Every top-level key of the file's lines, and no attribute at all."""
    keys: set[str] = set()
    for block in read_blocks(io.BytesIO(data)):
        for raw in block:
            parsed = parse(raw)
            if type(parsed) is not Bad:
                keys.update(parsed.obj)
    return [None, *sorted(keys)]


def _check_file(path: Path, monkeypatch) -> None:
    data = path.read_bytes()
    for own in _attributes(data):
        for block_size in (1 << 20, 301):
            monkeypatch.setattr(iterations, "BLOCK_SIZE", block_size)
            assert count_lines(io.BytesIO(data), own) == reference(data, own), (path, own)


REPO_FILES = sorted(
    p
    for base in ("tests/data/real", "tests/data/seeds", "tests/data/docs", "gtlake/samples/real")
    for p in (ROOT / base).rglob("*")
    if p.suffix in (".manifest", ".jsonl")
)


@pytest.mark.parametrize("path", REPO_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_manifest_in_the_repository(path: Path, monkeypatch) -> None:
    _check_file(path, monkeypatch)


def test_every_manifest_of_the_demo_and_synthetic_trees(tmp_path: Path, monkeypatch) -> None:
    demo.write_samples(tmp_path / "demo")
    synthetic.write_synthetic(tmp_path / "synthetic", jobs=10, lines=40, seed=3)
    manifests = sorted(tmp_path.rglob("*.manifest"))
    assert len([p for p in manifests if "intermediate" in p.parts]) >= 20
    for path in manifests:
        _check_file(path, monkeypatch)


# -- a property test ----------------------------------------------------------------------------

_REGULAR = [LABELED, UNLABELED, b'{"source-ref": "s3://b/c.jpg", "pet": {"boxes": [[1], {}]}}']
_ODD = [
    b"",
    b"   ",
    b"\t\x0c",
    b"{",
    b"}",
    b"]}",
    b'{"a":[{"b":1}',
    b'{"a":[',
    b'{"a":"',
    b'"}',
    b"[1, 2]",
    b"null",
    b"1e400",
    b'{"pet": 1e400}',
    b'{"a":1},{"pet":2}',
    b'{"a": "\\"pet\\": 1"}',
    b'{"a": "pet", "b": {"pet": 1}}',
    b'{"p\\u0065t": 1}',
    b'{"\x7f": 1}',
    b'{"a": "\\u007f"}',
    b'{"a": "caf\xc3\xa9", "pet": "\xe2\x82\xac"}',
    b'{"a": "\xff"}',
    b'{"a": "\\ud800"}',
    b'{"pet": 1, "pet": 2}',
    b'{"pet":' + b"[" * 100 + b"]" * 100 + b"}",
    b'{"pet":' + b"[" * 99 + b"]" * 99 + b"}",
    b"{}",
    b" {} ",
    b"\xef\xbb\xbf{}",
]
_line = st.one_of(
    st.sampled_from(_REGULAR),
    st.sampled_from(_ODD),
    st.dictionaries(
        st.sampled_from(["pet", "pet-metadata", "a", "source", "\x7f", 'q"']),
        st.recursive(
            st.none() | st.integers() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
            max_leaves=6,
        ),
        max_size=3,
    ).map(lambda obj: json.dumps(obj, ensure_ascii=False).encode()),
    st.binary(max_size=12),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(_line, max_size=60),
    ends=st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=1, max_size=4),
    bom=st.booleans(),
    final_end=st.booleans(),
    block_size=st.sampled_from([16, 97, 1 << 12]),
    regular=st.integers(min_value=0, max_value=200),
    own=st.sampled_from(["pet", "a", None]),
)
def test_odd_lines_mixed_into_regular_blocks(
    lines, ends, bom, final_end, block_size, regular, own
) -> None:
    """Odd lines among many regular ones (so that most blocks take the fast path)."""
    body = [LABELED, UNLABELED] * (regular // 2) + lines
    body.sort(key=lambda line: hash(line) % 7)  # interleaved, deterministically per example
    data = b"".join(line + ends[i % len(ends)] for i, line in enumerate(body))
    if not final_end and data:
        data = data[: -len(ends[(len(body) - 1) % len(ends)])]
    if bom:
        data = b"\xef\xbb\xbf" + data
    original = iterations.BLOCK_SIZE
    iterations.BLOCK_SIZE = block_size
    try:
        assert count_lines(io.BytesIO(data), own) == reference(data, own)
    finally:
        iterations.BLOCK_SIZE = original


def test_the_fast_path_is_taken_by_a_clean_manifest_and_proves_each_line() -> None:
    """The wrapped block decodes into one wrapper per line; a line swallowing the next fails."""
    decode = iterations._block_decoder("pet")
    assert iterations._fast(decode, CASES["clean"][:-1]) == Counts(80, 40, 0)
    assert iterations._fast(decode, CASES["lines that combine"][:-1]) is None
    # Two bad lines that wrapped still decode, into one wrapper: the count of wrappers tells.
    swallowing = b'{"a":[{"b":1\n{"c":1}}]}'
    wrapped = b'[{"\x7f":{"a":[{"b":1},{"\x7f":{"c":1}}]}}]'
    assert len(decode(wrapped)) == 1
    assert iterations._fast(decode, swallowing) is None
    assert count_lines(io.BytesIO(swallowing), "pet") == Counts(0, 0, 2)
