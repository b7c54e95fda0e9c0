"""gtlake.iterations: counting an intermediate manifest block by block gives the line-by-line
counts, whatever the block boundaries and whatever odd lines the file holds."""

from __future__ import annotations

import io

import pytest

import gtlake.iterations as iterations
from gtlake.iterations import Counts, count_lines
from gtlake.manifest import Bad, parse, read_blocks

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
}


@pytest.mark.parametrize("block_size", [7, 64, 1000, 1 << 20])
@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("own", ["pet", None, 'odd "name"'])
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
