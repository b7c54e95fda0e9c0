"""Exceptions that carry where the problem is: the file, the line, and the cause."""

from __future__ import annotations


class GtlakeError(Exception):
    """Base class: a problem gtlake reports as one line, without a traceback."""


class LineError(GtlakeError):
    """A manifest line that parses as JSON but breaks a Ground Truth rule; it goes to quarantine."""


class ManifestError(GtlakeError):
    """A manifest (or a line of it) that could not be read."""

    def __init__(self, path: str, line: int | None = None, reason: str = "") -> None:
        self.path, self.line, self.reason = path, line, reason
        where = path if line is None else f"{path}:{line + 1}"
        super().__init__(f"{where}: {reason}" if reason else where)


class SourceError(GtlakeError):
    """SOURCE is missing or cannot be listed."""


class LakeError(GtlakeError):
    """LAKE cannot be written or read."""


_HINTS = ("Did you mean", "Candidate bindings:")
_TRACEBACK = "Traceback (most recent call last):"


def one_line(text: str) -> str:
    """A multi-line message (DuckDB's, say) cut to what a one-line error needs.

    The first line, plus DuckDB's hint when it gives one ("Did you mean ...", "Candidate
    bindings: ..."). When DuckDB embeds a Python traceback (an fsspec filesystem that failed), the
    traceback's last line, the exception itself, stands in for it.
    """
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0]
    if head.endswith(_TRACEBACK):
        cause = next((line for line in reversed(lines) if _is_exception_line(line)), "")
        head = (head[: -len(_TRACEBACK)] + cause).strip()
    hints = [line for line in lines[1:] if line.startswith(_HINTS)]
    return " ".join([head, *hints])


def _is_exception_line(line: str) -> bool:
    name = line.split(":", 1)[0]
    return (
        ":" in line
        and name.replace(".", "").isidentifier()
        and name.endswith(("Error", "Exception"))
    )
