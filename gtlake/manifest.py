"""Reading JSON Lines manifests: bytes in, parsed lines and quarantined lines out.

Manifests are read in blocks (4 MiB by default), so memory stays flat however large a file is (a
line longer than a block is joined once, when its end is read). Real files carry a byte-order
mark, CRLF line ends, blank lines, invalid UTF-8 and, while a job runs, a partly written last
line: each line is either parsed or reported with its line number (0-based), byte offset and the
reason. So is a line nested deeper than `MAX_DEPTH` levels, which every reader of it would have to
recurse through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

import msgspec

BLOCK_SIZE = 4 << 20
BOM = b"\xef\xbb\xbf"
# Arrays and objects nested deeper than this are quarantined: real Ground Truth lines nest a
# dozen levels at most, and every reader of the line (msgspec, the standard library, orjson)
# recurses, so a line nested 1,000 deep would otherwise fail far from where it was read.
MAX_DEPTH = 100
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"


class RawLine(NamedTuple):
    line: int  # 0-based line number in the file
    offset: int  # byte offset of the line's first byte
    data: bytes  # the line without its line end (and without a leading BOM)
    last: bool  # the file's last line had no line end


class Parsed(NamedTuple):
    line: int
    offset: int
    data: bytes
    obj: dict[str, Any]  # top-level keys; values are msgspec.Raw spans of the line's text


class Bad(NamedTuple):
    line: int
    offset: int
    error: str
    raw: str


def read_blocks(
    stream: IO[bytes], block_size: int = BLOCK_SIZE, offset: int = 0
) -> Iterator[list[RawLine]]:
    """Non-blank lines of a stream, a block's worth at a time.

    A line longer than a block is gathered piece by piece and joined once, when its end is read
    (memory: the line twice for that moment, never a growing copy per block). A stream that is a
    byte range of a file (`RangeReader`) starting at `offset` gives offsets in the file and line
    numbers counted from the range's first line.
    """
    line_no = 0
    pending: list[bytes] = []  # the start of a line whose end is not read yet
    first = offset == 0  # only the file's first line can start with a byte-order mark
    while True:
        block = stream.read(block_size)
        at_end = not block
        if at_end:
            last = b"".join(pending)
            pieces = [last] if last else []
            pending = []
        else:
            cut = block.rfind(b"\n")
            if cut < 0:
                pending.append(block)
                continue
            end = block.find(b"\n")
            pending.append(block[:end])
            head = b"".join(pending)
            pending = [block[cut + 1 :]] if cut + 1 < len(block) else []
            pieces = [head]
            if cut > end:
                pieces.extend(block[end + 1 : cut].split(b"\n"))
        out: list[RawLine] = []
        for piece in pieces:
            start = offset
            offset += len(piece) + 1
            number = line_no
            line_no += 1
            if first:
                first = False
                if piece.startswith(BOM):
                    piece = piece[3:]
                    start += 3
            if piece.endswith(b"\r"):
                piece = piece[:-1]
            if not piece or piece.isspace():
                continue
            out.append(RawLine(number, start, piece, at_end))
        if out:
            yield out
        if at_end:
            return


_split = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
# What a valid JSON line that is not an object is, by its first byte (decoding it again could
# fail: msgspec refuses numbers such as 1e400 that the JSON grammar allows).
_KINDS = {ord("["): "a list", ord('"'): "a string", ord("t"): "a boolean", ord("f"): "a boolean",
          ord("n"): "null"}  # fmt: skip


def parse(raw: RawLine) -> Parsed | Bad:
    """One line as a JSON object split at its top level, or the reason it is not one.

    The whole line is validated (msgspec), but only the top level is turned into Python objects:
    each value stays a `msgspec.Raw` span of the original text.
    """
    data = raw.data
    try:
        obj = _split(data)
    except RecursionError:
        return Bad(raw.line, raw.offset, TOO_DEEP, _text(data))
    except msgspec.ValidationError:
        kind = _KINDS.get(data.lstrip()[0], "a number")
        return Bad(raw.line, raw.offset, f"line is {kind}, expected a JSON object", _text(data))
    except msgspec.DecodeError as exc:
        return Bad(raw.line, raw.offset, _json_error(raw, exc), _text(data))
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            error = f"invalid UTF-8 at byte {bad.start} of the line"
            return Bad(raw.line, raw.offset, error, _text(data))
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and too_deep(data):
        return Bad(raw.line, raw.offset, TOO_DEEP, _text(data))
    return Parsed(raw.line, raw.offset, data, obj)


_NOT_MARKS = bytes(b for b in range(256) if b not in b'"[]{}')
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # depth does not depend on the kind of bracket
_STRINGS = re.compile(rb'"[^"]*"')


def too_deep(text: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether valid JSON `text` nests arrays and objects more than `limit` levels deep.

    Done on bytes, at C speed: escaped backslashes and quotes are dropped, then everything but
    quotes and brackets (objects' braces become brackets); the strings left (quotes around any
    brackets they held) are dropped, and each pass over what remains removes the innermost level
    (`[]`: one `replace` does not look at what it has just joined).
    """
    if text.count(b"[") + text.count(b"{") <= limit:  # at most `limit` levels to open
        return False
    marks = text.translate(_ONE_KIND, _NOT_MARKS)
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
        marks = text.translate(_ONE_KIND, _NOT_MARKS)
    marks = marks.replace(b'""', b"")
    if b'"' in marks:
        marks = _STRINGS.sub(b"", marks)
    for _ in range(limit):
        marks = marks.replace(b"[]", b"")
        if not marks:
            return False
    return True


def _json_error(raw: RawLine, exc: Exception) -> str:
    try:
        raw.data.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"invalid UTF-8 at byte {bad.start} of the line"
    reason = f"invalid JSON: {exc}"
    if raw.last:
        reason = "truncated last line (no line end): " + reason
    return reason


def _text(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace")


def line_ranges(stream: IO[bytes], size: int, target: int) -> list[tuple[int, int]]:
    """Byte ranges of a file of `size` bytes, about `target` bytes each, every one but the last
    ending just after a line end (a line longer than `target` stays whole in one range)."""
    bounds = [0]
    at = target
    while at < size:
        stream.seek(at)
        while True:
            chunk = stream.read(1 << 16)
            if not chunk:
                at = size
                break
            cut = chunk.find(b"\n")
            if cut >= 0:
                at += cut + 1
                break
            at += len(chunk)
        if at >= size:
            break
        bounds.append(at)
        at += target
    bounds.append(size)
    return list(zip(bounds, bounds[1:], strict=False))


def line_ends(stream: IO[bytes], start: int, end: int) -> int:
    """The line ends between two offsets of a seekable stream (read a block at a time)."""
    stream.seek(start)
    count = 0
    while start < end:
        piece = stream.read(min(BLOCK_SIZE, end - start))
        if not piece:
            break
        count += piece.count(b"\n")
        start += len(piece)
    return count


class RangeReader:
    """A byte range of a seekable stream, read as a stream of its own."""

    def __init__(self, stream: IO[bytes], start: int, end: int) -> None:
        stream.seek(start)
        self.stream = stream
        self.start = start
        self.left = end - start

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size) if size else b""
        self.left -= len(data)
        return data

    def tell(self) -> int:
        return self.stream.tell()
