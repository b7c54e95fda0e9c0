"""Export: write a job's output manifest back from the lake.

Each line is rebuilt from the stored columns (`objects.source_ref`, `source`, `attributes` and the
`value`/`metadata` of every label of the line), not copied from `raw`, so an export that parses
equal to the input proves the flattening kept everything. The line is put together from the stored
text, never parsed and printed again, so every number comes back as written.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections import defaultdict
from typing import IO

from gtlake.errors import GtlakeError, LakeError
from gtlake.flatten import loads, rebuild_text
from gtlake.lakecheck import require_lake
from gtlake.snapshot import Snapshot, read_files, take
from gtlake.storage import Location


def _job_table(snap: Snapshot, table: str, job: str, columns: list[str]):
    files = snap.job_files(table, job)
    if not files:
        return None
    data = read_files(snap.lake, table, files, columns)
    return data.sort_by("line") if "line" in columns else data


def export_texts(lake: Location, job: str) -> list[bytes]:
    """The job's manifest lines as JSON text, rebuilt from the stored columns, in line order."""
    require_lake(lake)
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
        rebuild_text(source_ref, source, attributes, by_line.get(line, []))
        for line, source_ref, source, attributes in zip(*columns, strict=True)
    ]


def export_lines(lake: Location, job: str) -> list[dict]:
    """The job's manifest lines, rebuilt, as Python objects (`1e999` reads as infinity there;
    the text of `export_texts` keeps it)."""
    return [loads(text) for text in export_texts(lake, job)]


def export(lake: Location, job: str, out: str | None = None) -> int:
    """Write the job's manifest as JSON Lines to `out` (stdout when None); return the line count.

    Every line is rebuilt before anything is written, and `out` is written under a temporary
    name beside it and renamed into place: it is the whole manifest or, on any failure, left
    as it was (never a partial file).
    """
    lines = export_texts(lake, job)
    if out is None:
        _write(sys.stdout.buffer, lines)
        return len(lines)
    target = os.path.abspath(out)
    folder, name = os.path.split(target)
    # Created like any new file (the umask applies), under a name no one else uses.
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        try:
            with open(temporary, "xb") as stream:
                _write(stream, lines)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise GtlakeError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return len(lines)


def _write(stream: IO[bytes], lines: list[bytes]) -> None:
    for text in lines:
        stream.write(text)
        stream.write(b"\n")
