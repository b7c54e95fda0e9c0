"""Export: write a job's output manifest back from the lake.

Each line is rebuilt from the stored columns (`objects.source_ref`, `source`, `attributes` and the
`value`/`metadata` of every label of the line), not copied from `raw`, so an export that parses
equal to the input proves the flattening kept everything.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from typing import IO

import orjson

from gtlake.errors import GtlakeError, LakeError
from gtlake.flatten import rebuild_line
from gtlake.snapshot import Snapshot, read_files, take
from gtlake.storage import Location


def _job_table(snap: Snapshot, table: str, job: str, columns: list[str]):
    files = snap.job_files(table, job)
    if not files:
        return None
    data = read_files(snap.lake, table, files, columns)
    return data.sort_by("line") if "line" in columns else data


def export_lines(lake: Location, job: str) -> list[dict]:
    """The job's manifest lines, rebuilt, in line order."""
    snap = take(lake)
    objects = _job_table(snap, "objects", job, ["line", "source_ref", "source", "attributes"])
    if objects is None:
        # A job ingested with no lines (empty manifest, none yet) has a `jobs` row only.
        if job not in snap.jobs:
            raise LakeError(f"job {job!r} is not in the lake {lake.url}")
        return []
    labels = _job_table(
        snap, "labels", job, ["line", "attribute", "metadata_key", "value", "metadata"]
    )
    by_line: dict[int, list] = defaultdict(list)
    if labels is not None:
        for row in zip(*(labels[c].to_pylist() for c in labels.column_names), strict=True):
            by_line[row[0]].append(row[1:])
    columns = [objects[c].to_pylist() for c in objects.column_names]
    return [
        rebuild_line(source_ref, source, attributes, by_line.get(line, []))
        for line, source_ref, source, attributes in zip(*columns, strict=True)
    ]


def export(lake: Location, job: str, out: str | None = None) -> int:
    """Write the job's manifest as JSON Lines to `out` (stdout when None); return the line count."""
    lines = export_lines(lake, job)
    stream: IO[bytes]
    if out is None:
        stream = sys.stdout.buffer
        _write(stream, lines)
    else:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
            with open(out, "wb") as stream:
                _write(stream, lines)
        except OSError as exc:
            raise GtlakeError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return len(lines)


def _write(stream: IO[bytes], lines: list[dict]) -> None:
    for obj in lines:
        stream.write(orjson.dumps(obj))
        stream.write(b"\n")
