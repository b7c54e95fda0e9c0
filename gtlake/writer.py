"""Writing one job's partitions: stage every table's Parquet file, then swap them into the lake.

A job's rows are streamed, block by block, into `<lake>/_staging/<id>/` (one Parquet file per
table, one row group per block). On commit each `<lake>/<table>/job=<job>/` directory is exchanged
with its staged replacement in one `renameat2(RENAME_EXCHANGE)` call, so a reader of a local lake
sees either the old partition or the new one, never a mix (where the kernel or filesystem lacks the
call, two renames leave a moment with neither, still never a mix). Tables are swapped one after the
other: for that moment a reader can see the new `objects` beside the old `labels`.

An S3 lake is staged in a local temporary directory and committed by `commit_s3`: every table's
file is uploaded (concurrently) over the same key, `<table>/job=<job>/type=<type>/part-0.parquet`
(a PUT replaces an object atomically, so a reader gets the old file or the new one, never both),
then the job's leftover keys (another `type=`, tables that now have no rows) are removed in one
bulk delete, and the `jobs` row (the ingest state) is uploaded last. The README says what a
reader can see meanwhile.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake.errors import LakeError
from gtlake.schemas import FILE_SCHEMAS, TABLES
from gtlake.storage import Location, partition_dir, partition_value, store_errors

PART = "part-0.parquet"
STAGING = "_staging"
# Snappy: Parquet's usual codec, read everywhere, and about twice as fast to write as zstd here.
# Dictionary encoding only where values repeat, and no min/max statistics on the free-text and JSON
# columns (large_string): nobody filters on the text of a whole line, and the statistics of a
# multi-kilobyte string would only fatten the footer.
_NO_DICTIONARY = {"object_id", "source_ref", "source", "text", "comment", "path", "etag"}


def _write_options(table: str) -> dict[str, Any]:
    fields = [f for f in FILE_SCHEMAS[table] if f.type != pa.large_string()]
    return {
        "compression": "snappy",
        "use_dictionary": [f.name for f in fields if f.name not in _NO_DICTIONARY],
        "write_statistics": [f.name for f in fields],
    }


def to_arrow(
    table: str, rows: Sequence[tuple], extra: dict[str, pa.Array] | None = None
) -> pa.Table:
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
        self.lake = lake
        self.job = job
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        try:
            if lake.is_s3:
                self.staging = tempfile.mkdtemp(prefix="gtlake-staging-")
            else:
                # One directory per job, beside the tables (no reader looks there), so that
                # concurrent jobs never create or remove a directory another one uses.
                self.staging = lake.join(f"{STAGING}-{uuid.uuid4().hex}")
                os.makedirs(self.staging)
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
            writer = pq.ParquetWriter(
                self._path(table), FILE_SCHEMAS[table], **_write_options(table)
            )
            self._writers[table] = writer
        writer.write_table(data)
        self.rows[table] += data.num_rows

    def close_table(self, table: str) -> str | None:
        """Finish a table's staged file and return its path (None when it has no rows)."""
        writer = self._writers.pop(table, None)
        if writer is not None:
            writer.close()
        return self._path(table) if self.rows[table] else None

    def rewrite_staged(self, table: str, fix: Callable[[pa.Table], pa.Table]) -> None:
        """Rewrite a staged table row group by row group through `fix` (for a column decided
        late); memory stays that of one row group."""
        path = self.close_table(table)
        if path is None:
            return
        fixed = path + ".fixed"
        source = pq.ParquetFile(path)
        with pq.ParquetWriter(fixed, FILE_SCHEMAS[table], **_write_options(table)) as out:
            for index in range(source.num_row_groups):
                out.write_table(fix(source.read_row_group(index)))
        source.close()
        os.replace(fixed, path)

    def commit(self, task_type: str) -> None:
        """Swap every table's `job=<job>` directory for the staged one (tables without rows are
        removed from the job's partition)."""
        for table in list(self._writers):
            self.close_table(table)
        if self.lake.is_s3:
            staged = {t: self._path(t) for t in TABLES if os.path.exists(self._path(t))}
            try:
                commit_s3(self.lake, self.job, task_type, staged)
            finally:
                self.abort()
            return
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


STATE_TABLE = "jobs"


def commit_s3(lake: Location, job: str, task_type: str, staged: dict[str, str]) -> None:
    """Replace the job's partitions in an S3 lake with the `staged` local files, by table.

    1. upload every data table's file over `<table>/job=<job>/type=<type>/part-0.parquet`,
       concurrently; 2. delete, in one bulk request, the job's other keys of those tables (an
    old `type=`, or a table without rows now); 3. upload the `jobs` file; 4. delete its leftover.
    The state goes last so that a commit cut short leaves the old fingerprint and the next ingest
    redoes the job.
    """
    fs = lake.fs()
    job_dir = f"job={partition_value(job)}"
    target = {t: lake.join(partition_dir(t, job, task_type), PART) for t in staged}
    try:
        with store_errors():
            existing = _list_job_keys(fs, [lake.join(t) for t in TABLES], f"{job_dir}/")
            data = [t for t in staged if t != STATE_TABLE]
            _upload(fs, [(staged[t], target[t]) for t in data])
            keep = set(target.values())
            old_data = [
                k for k in existing if k not in keep and not _in_table(lake, k, STATE_TABLE)
            ]
            if old_data:
                fs.rm(old_data)
            if STATE_TABLE in staged:
                _upload(fs, [(staged[STATE_TABLE], target[STATE_TABLE])])
            old_state = [k for k in existing if k not in keep and _in_table(lake, k, STATE_TABLE)]
            if old_state:
                fs.rm(old_state)
    except OSError as exc:
        raise LakeError(f"cannot commit job {job!r} to the lake {lake.url}: {exc}") from None


def _in_table(lake: Location, key: str, table: str) -> bool:
    return key.startswith(lake.join(table) + "/")


def _list_job_keys(fs, tables: list[str], job_dir: str) -> list[str]:
    """Every key of `job_dir` in each table, listed concurrently (one LIST each, from threads:
    the filesystem's public calls are thread-safe and run on its own event loop). `find` with a
    `prefix` lists exactly that prefix and makes no HEAD when it holds nothing."""
    with ThreadPoolExecutor(max_workers=min(len(tables), 16) or 1) as pool:
        found = list(pool.map(lambda table: fs.find(table, prefix=job_dir), tables))
    return [key for keys in found for key in keys]


def _upload(fs, pairs: list[tuple[str, str]]) -> None:
    """PUT local files to keys, concurrently (`put` with lists runs the uploads together)."""
    if pairs:
        fs.put([local for local, _ in pairs], [key for _, key in pairs])


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
