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
import pyarrow.dataset as ds

from gtlake.errors import GtlakeError, LakeError
from gtlake.flatten import rebuild_line
from gtlake.lakecheck import require_lake
from gtlake.storage import Location, partition_value


def _job_table(lake: Location, table: str, job: str, columns: list[str]):
    path = lake.join(table, f"job={partition_value(job)}")
    fs = lake.fs()
    if not fs.exists(path):
        return None
    dataset = ds.dataset(path, format="parquet", partitioning="hive", filesystem=fs)
    table = dataset.to_table(columns=columns)
    return table.sort_by("line") if "line" in columns else table


def export_lines(lake: Location, job: str) -> list[dict]:
    """The job's manifest lines, rebuilt, in line order."""
    require_lake(lake)
    objects = _job_table(lake, "objects", job, ["line", "source_ref", "source", "attributes"])
    if objects is None:
        # A job ingested with no lines (empty manifest, none yet) has a `jobs` row only.
        if _job_table(lake, "jobs", job, ["lines"]) is None:
            raise LakeError(f"job {job!r} is not in the lake {lake.url}")
        return []
    labels = _job_table(
        lake, "labels", job, ["line", "attribute", "metadata_key", "value", "metadata"]
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
