"""Iterations: how far a job had come after each of its intermediate manifests.

`manifests/intermediate/<n>/output.manifest` is the cumulative output after iteration `n`. Its row
in `iterations` counts `lines` (non-blank lines that parse as a JSON object), `labeled_lines`
(those lines carrying the job's own label attribute) and `bad_lines` (non-blank lines that do
not parse; they are counted here, not quarantined: only the ingested manifest feeds quarantine).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import IO, NamedTuple

import msgspec

from gtlake.manifest import Bad, parse, read_blocks


class Counts(NamedTuple):
    lines: int
    labeled_lines: int
    bad_lines: int


def count_lines(stream: IO[bytes], own_attribute: str | None) -> Counts:
    """Count a manifest's lines block by block (memory stays flat).

    A block whose lines are all JSON objects is validated in one msgspec call (the lines joined
    into one JSON array, decoded into a struct holding only the own attribute); a block with a
    bad line is counted line by line.
    """
    lines = labeled = bad = 0
    decode = _block_decoder(own_attribute)
    for block in read_blocks(stream):
        found = None
        if decode is not None:
            with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                found = decode(b"[" + b",".join([raw.data for raw in block]) + b"]")
        if found is not None:
            lines += len(found)
            if own_attribute is not None:
                labeled += sum(1 for f in found if f.own is not msgspec.UNSET)
            continue
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
