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
