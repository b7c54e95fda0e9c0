"""Iterations: how far a job had come after each of its intermediate manifests.

`manifests/intermediate/<n>/output.manifest` is the cumulative output after iteration `n`. Its row
in `iterations` counts `lines` (non-blank lines that parse as a JSON object), `labeled_lines`
(those lines carrying the job's own label attribute) and `bad_lines` (non-blank lines that do
not parse; they are counted here, not quarantined: only the ingested manifest feeds quarantine).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple

import msgspec

from gtlake.manifest import BLOCK_SIZE, BOM, Bad, RawLine, parse, read_blocks


class Counts(NamedTuple):
    lines: int
    labeled_lines: int
    bad_lines: int


def count_lines(stream: IO[bytes], own_attribute: str | None) -> Counts:
    """Count a manifest's lines a block at a time (memory stays flat).

    A block whose lines are all JSON objects is validated in one msgspec call: its line ends
    become commas, and the resulting JSON array is decoded into structs holding only the own
    attribute. A block with anything else (a bad or blank line, a byte-order mark, invalid UTF-8)
    is counted line by line, exactly as the manifest reader sees it.
    """
    lines = labeled = bad = 0
    decode = _block_decoder(own_attribute)
    first = True
    for chunk in _chunks(stream):
        fast = decode is not None and not (first and chunk.startswith(BOM))
        found = _fast(decode, chunk) if fast else None
        if found is None:
            counts = _count_slowly(chunk, own_attribute, first)
            lines, labeled, bad = (
                lines + counts.lines,
                labeled + counts.labeled_lines,
                bad + counts.bad_lines,
            )
        else:
            lines += len(found)
            if own_attribute is not None:
                labeled += sum(1 for f in found if f.own is not msgspec.UNSET)
        first = False
    return Counts(lines, labeled, bad)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in blocks that end at a line end (the last one may not)."""
    rest = b""
    while block := stream.read(BLOCK_SIZE):
        data = rest + block
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest


def _fast(decode: Callable[[bytes], list], chunk: bytes) -> list | None:
    if not chunk.isascii():
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            return None
    body = chunk[:-1] if chunk.endswith(b"\n") else chunk
    try:
        return decode(b"[" + body.replace(b"\n", b",") + b"]")
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None  # counted line by line: a line nested too deep is a bad line there


def _count_slowly(chunk: bytes, own_attribute: str | None, first: bool) -> Counts:
    lines = labeled = bad = 0
    for block in read_blocks(io.BytesIO(chunk)) if first else [_raw_lines(chunk)]:
        for raw in block:
            parsed = parse(raw)
            if type(parsed) is Bad:
                bad += 1
                continue
            lines += 1
            # An unlabeled object is written without its label attribute: the key alone tells.
            if own_attribute is not None and own_attribute in parsed.obj:
                labeled += 1
    return Counts(lines, labeled, bad)


def _raw_lines(chunk: bytes) -> list[RawLine]:
    """The non-blank lines of a chunk that does not start the file (no byte-order mark)."""
    pieces = (p[:-1] if p.endswith(b"\r") else p for p in chunk.split(b"\n"))
    return [RawLine(0, 0, p, False) for p in pieces if p and not p.isspace()]


def _block_decoder(own_attribute: str | None) -> Callable[[bytes], list] | None:
    """Decodes a JSON array of objects into structs holding just the own attribute (or UNSET);
    None for an attribute name msgspec cannot take as a field name (quotes, backslashes)."""
    if own_attribute is None:
        struct = msgspec.defstruct("Line", [])
    else:
        fields = [("own", msgspec.Raw | msgspec.UnsetType, msgspec.UNSET)]
        try:
            struct = msgspec.defstruct("Line", fields, rename={"own": own_attribute})
        except ValueError:
            return None
    return msgspec.json.Decoder(list[struct]).decode
