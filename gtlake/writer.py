"""Writing one job's partitions: stage every table's Parquet file, then swap them into the lake.

A job's rows are streamed, block by block, into `<lake>/_staging/<id>/` (one Parquet file per
table, one row group per block). On commit each `<lake>/<table>/job=<job>/` directory is exchanged
with its staged replacement in one `renameat2(RENAME_EXCHANGE)` call, so a reader of a local lake
sees either the old partition or the new one, never a mix (where the kernel or filesystem lacks the
call, two renames leave a moment with neither, still never a mix). Tables are swapped one after the
other: for that moment a reader can see the new `objects` beside the old `labels`.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import uuid
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake.errors import LakeError
from gtlake.schemas import FILE_SCHEMAS, TABLES
from gtlake.storage import Location, partition_value

PART = "part-0.parquet"
STAGING = "_staging"
_WRITE_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 1}


def to_arrow(table: str, rows: Sequence[tuple], extra: dict[str, pa.Array] | None = None) -> pa.Table:
    """Row tuples (in schema order, minus any `extra` columns given as arrays) to an Arrow table."""
    schema = FILE_SCHEMAS[table]
    extra = extra or {}
    names = [name for name in schema.names if name not in extra]
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    arrays = dict(zip(names, columns, strict=True))
    built = []
    for f in schema:
        if f.name in extra:
            built.append(extra[f.name])
        else:
            built.append(pa.array(arrays[f.name], type=f.type))
    return pa.Table.from_arrays(built, schema=schema)


class JobWriter:
    """Streams a job's tables into staging files and commits them as the job's partitions."""

    def __init__(self, lake: Location, job: str) -> None:
        if lake.is_s3:
            raise LakeError("writing the lake to S3 is not supported yet")
        self.lake = lake
        self.job = job
        self.staging = lake.join(STAGING, uuid.uuid4().hex)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        try:
            os.makedirs(self.staging, exist_ok=True)
        except OSError as exc:
            raise LakeError(f"cannot write the lake at {lake.url}: {exc.strerror}") from exc

    def _path(self, table: str) -> str:
        return os.path.join(self.staging, table, PART)

    def write(self, table: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        writer = self._writers.get(table)
        if writer is None:
            os.makedirs(os.path.dirname(self._path(table)), exist_ok=True)
            writer = pq.ParquetWriter(self._path(table), FILE_SCHEMAS[table], **_WRITE_OPTIONS)
            self._writers[table] = writer
        writer.write_table(data)
        self.rows[table] += data.num_rows

    def close_table(self, table: str) -> str | None:
        """Finish a table's staged file and return its path (None when it has no rows)."""
        writer = self._writers.pop(table, None)
        if writer is not None:
            writer.close()
        return self._path(table) if self.rows[table] else None

    def replace_staged(self, table: str, data: pa.Table) -> None:
        """Replace a finished staged table with `data` (used when a column is decided late)."""
        pq.write_table(data, self._path(table), **_WRITE_OPTIONS)

    def commit(self, task_type: str) -> None:
        """Swap every table's `job=<job>` directory for the staged one (tables without rows are
        removed from the job's partition)."""
        for table in list(self._writers):
            self.close_table(table)
        job_dir = f"job={partition_value(self.job)}"
        type_dir = f"type={partition_value(task_type)}"
        for table in TABLES:
            staged_file = self._path(table)
            target = os.path.join(self.lake.root, table, job_dir)
            if os.path.exists(staged_file):
                new_dir = os.path.join(self.staging, table, job_dir)
                os.makedirs(os.path.join(new_dir, type_dir))
                os.rename(staged_file, os.path.join(new_dir, type_dir, PART))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                _swap_in(new_dir, target)
            elif os.path.isdir(target):
                old = os.path.join(self.staging, table, "old")
                os.makedirs(os.path.dirname(old), exist_ok=True)
                os.rename(target, old)
        self.abort()

    def abort(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        shutil.rmtree(self.staging, ignore_errors=True)
        try:
            os.rmdir(os.path.dirname(self.staging))
        except OSError:
            pass


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
except (AttributeError, OSError):  # pragma: no cover - non-glibc platforms
    _renameat2 = None


def _swap_in(new_dir: str, target: str) -> None:
    """Put `new_dir` at `target`; the old `target` ends up at `new_dir` (to be deleted)."""
    if not os.path.exists(target):
        os.rename(new_dir, target)
        return
    if _renameat2 is not None:
        done = _renameat2(
            _AT_FDCWD, os.fsencode(new_dir), _AT_FDCWD, os.fsencode(target), _RENAME_EXCHANGE
        )
        if done == 0:
            return
    parked = new_dir + ".old"
    os.rename(target, parked)
    os.rename(new_dir, target)
    os.rename(parked, new_dir)
