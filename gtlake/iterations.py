"""Iterations: how far a job had come after each of its intermediate manifests.

`manifests/intermediate/<n>/output.manifest` is the cumulative output after iteration `n`. Its row
in `iterations` counts `lines` (non-blank lines that parse as a JSON object), `labeled_lines`
(those lines carrying the job's own label attribute as a top-level key) and `bad_lines`
(non-blank lines that do not parse; they are counted here, not quarantined: only the ingested
manifest feeds quarantine). A line is bad exactly when the manifest reader
(`gtlake.manifest.parse`) would quarantine it: invalid JSON, not an object, invalid UTF-8, or
nested deeper than `MAX_DEPTH`.

The rule, and why it is exact with a single decoding pass per block (memory stays flat):

1. The file is read in blocks that end at a line end; a leading byte-order mark is dropped.
2. One block is validated and counted by **one** msgspec call. Each line is wrapped as the value
   of a marker key: the block becomes `[{"\\x7f":LINE1},{"\\x7f":LINE2},...]` (one
   `bytes.replace` of the line ends), decoded into a list of wrapper structs that accept only
   the marker key, whose value must be an object of which only the own attribute is kept
   (msgspec skips, but still validates, everything else).
3. The block is taken as decoded when the decode succeeds and yields exactly one wrapper per
   line, and the block holds no marker of its own (no DEL byte, no `\\u007`), and it is valid
   UTF-8. Then every line is, by itself, a valid JSON object: a wrapper needs the marker as its
   first and only key, and a marker only occurs where it was put before a line; so `n`
   wrappers from `n` markers means no line's text swallowed a line end (a line `{"a":[{"b":1}`
   followed by `{"c":2}]}` would, and then fewer wrappers come out), and each wrapper's value
   is exactly its line. (Joining lines with plain commas is not exact: two bad lines can
   combine into valid JSON.) Labeled lines are the wrappers whose own attribute is set.
4. Depth: only a line with more than `MAX_DEPTH` opening brackets can nest too deep; the block's
   brackets are counted per line with one `bytes.translate`, and only such lines are measured
   exactly (`manifest.too_deep`), as the reader does.
5. Anything else (a blank or whitespace-led line, a bad line, a non-object line, invalid UTF-8)
   makes the block fall back: it is halved at a line end and each half tried again, down to
   `SMALL_BLOCK` lines, which are read line by line through the manifest reader itself. One bad
   line costs about one more decode of its block, not a line-by-line read of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, NamedTuple

import msgspec

from gtlake.manifest import BLOCK_SIZE, BOM, MAX_DEPTH, Bad, RawLine, parse, too_deep

SMALL_BLOCK = 64  # lines: a failing block this small is read line by line
MARK = b"\x7f"  # the marker key: DEL, spelled in JSON only as itself or as \u007f / \u007F
_ESCAPED_MARK = b"\\u007"
_PREFIX = b'[{"\x7f":'
_SEPARATOR = b'},{"\x7f":'
_SUFFIX = b"}]"
_FRAME = len(_PREFIX) + len(_SUFFIX)
_NOT_OPENS = bytes(b for b in range(256) if b not in b"[{\n")


class Counts(NamedTuple):
    lines: int
    labeled_lines: int
    bad_lines: int


def count_lines(stream: IO[bytes], own_attribute: str | None) -> Counts:
    """Count a manifest's lines a block at a time (see the module's docstring for the rule)."""
    decode = _block_decoder(own_attribute)
    lines = labeled = bad = 0
    first = True
    for body in _bodies(stream):
        if first and body.startswith(BOM):
            body = body[len(BOM) :]
        first = False
        counts = _count_block(body, decode, own_attribute, 0)
        lines += counts.lines
        labeled += counts.labeled_lines
        bad += counts.bad_lines
    return Counts(lines, labeled, bad)


def _bodies(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in blocks of whole lines, each without its last line end."""
    rest = b""
    while block := stream.read(BLOCK_SIZE):
        data = rest + block if rest else block
        cut = data.rfind(b"\n")
        if cut >= 0:
            yield data[:cut]
        rest = data[cut + 1 :]
    if rest:
        yield rest


def _count_block(body: bytes, decode: Callable | None, own: str | None, level: int) -> Counts:
    counts = _fast(decode, body) if decode is not None else None
    if counts is not None:
        return counts
    middle = body.find(b"\n", len(body) // 2)
    if middle < 0:
        middle = body.rfind(b"\n")
    if middle < 0 or level > 20 or body.count(b"\n", 0, middle) < SMALL_BLOCK // 2:
        return _count_slowly(body, own)
    left = _count_block(body[:middle], decode, own, level + 1)
    right = _count_block(body[middle + 1 :], decode, own, level + 1)
    return Counts(*(a + b for a, b in zip(left, right, strict=True)))


def _fast(decode: Callable, body: bytes) -> Counts | None:
    """The block's counts from one decode, or None when the block must be read more closely."""
    if not body or MARK in body or (b"\\" in body and _ESCAPED_MARK in body):
        return None
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    wrapped = b"".join((_PREFIX, body.replace(b"\n", _SEPARATOR), _SUFFIX))
    # Each line end grew into a separator: the buffer's growth counts the lines.
    lines = 1 + (len(wrapped) - len(body) - _FRAME) // (len(_SEPARATOR) - 1)
    try:
        found = decode(wrapped)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    del wrapped
    if len(found) != lines:
        return None
    # Without an own attribute the line struct has no field: nothing is labeled.
    labeled = [f.line.own is not msgspec.UNSET for f in found] if _has_own(found) else []
    bad = 0
    opens = body.translate(None, _NOT_OPENS)  # the opening brackets, line by line
    if len(opens) - lines + 1 > MAX_DEPTH and max(map(len, opens.split(b"\n"))) > MAX_DEPTH:
        texts = body.split(b"\n")
        for i, line_opens in enumerate(opens.split(b"\n")):
            if len(line_opens) > MAX_DEPTH and too_deep(texts[i]):
                bad += 1
                if labeled:
                    labeled[i] = False
    return Counts(lines - bad, sum(labeled), bad)


def _has_own(found: list) -> bool:
    return bool(found[0].line.__struct_fields__)


def _count_slowly(body: bytes, own_attribute: str | None) -> Counts:
    """Line by line through the manifest reader (`body` does not start the file)."""
    lines = labeled = bad = 0
    for raw in _raw_lines(body):
        parsed = parse(raw)
        if type(parsed) is Bad:
            bad += 1
            continue
        lines += 1
        # An unlabeled object is written without its label attribute: the key alone tells.
        if own_attribute is not None and own_attribute in parsed.obj:
            labeled += 1
    return Counts(lines, labeled, bad)


def _raw_lines(body: bytes) -> Iterator[RawLine]:
    """The non-blank lines of a block, as the manifest reader gives them."""
    for piece in body.split(b"\n"):
        if piece.endswith(b"\r"):
            piece = piece[:-1]
        if piece and not piece.isspace():
            yield RawLine(0, 0, piece, False)


def _block_decoder(own_attribute: str | None) -> Callable[[bytes], list] | None:
    """Decodes a block wrapped as in the module's docstring into wrapper structs; None for an
    attribute name msgspec cannot take as a field name (quotes, backslashes, control
    characters): such a manifest is read line by line."""
    fields = []
    rename = {}
    if own_attribute is not None:
        fields = [("own", msgspec.Raw | msgspec.UnsetType, msgspec.UNSET)]
        rename = {"own": own_attribute}
    try:
        line = msgspec.defstruct("Line", fields, rename=rename, gc=False)
    except ValueError:
        return None
    wrapper = msgspec.defstruct(
        "Wrapped",
        [("line", line)],
        rename={"line": MARK.decode()},
        forbid_unknown_fields=True,
        gc=False,
    )
    return msgspec.json.Decoder(list[wrapper]).decode
