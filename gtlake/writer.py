"""Writing one job's data files: one Parquet file per table, streamed block by block (a manifest
large enough to be read in byte ranges adds a file per range, written by the worker process
that read it).

The files are written where they will stay, under the table's folder
(`<lake>/<table>/<key>/part-<ingest_id>.parquet`); nothing refers to them until the lake
commits them (`gtlake.lake.Committer`), so a reader never sees a file being written, and a run
killed before its commit leaves only unreferenced files, which `gtlake vacuum` removes. An S3
lake's files are written to a local temporary folder and uploaded when the job is finished (a PUT
is atomic; the upload is still invisible until the commit).

`<key>` is a bounded, directory-safe form of the job name (see `job_key`); the full name is the
`job` column of every row and the `job` partition value in the Delta log.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake.errors import LakeError
from gtlake.schemas import FILE_SCHEMAS, INGEST_ID, TABLES, stored_schema
from gtlake.storage import Location, store_errors

STAGING_PREFIX = "gtlake-staging-"
# Snappy: Parquet's usual codec, read everywhere, and about twice as fast to write as zstd here.
# Dictionary encoding only where values repeat, and no min/max statistics on the free-text and JSON
# columns (large_string): nobody filters on the text of a whole line, and the statistics of a
# multi-kilobyte string would only fatten the footer.
_NO_DICTIONARY = {"object_id", "source_ref", "source", "text", "comment", "path", "etag"}
_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
KEY_PREFIX_CHARS = 60
# Small writes (a sequence file's frames, a block's few feedback rows) are gathered into one row
# group of up to this many rows or bytes: a row group per write gave a 36,000-line video job's
# `frame_boxes` file 36,000 row groups and an 84 MB footer, which DuckDB parsed again for every
# view that reads the table (2.4 GB to open the views).
ROW_GROUP_ROWS = 65_536
ROW_GROUP_BYTES = 4 << 20


def _write_options(table: str) -> dict[str, Any]:
    fields = [f for f in stored_schema(table) if f.type != pa.large_string()]
    return {
        "compression": "snappy",
        "use_dictionary": [f.name for f in fields if f.name not in _NO_DICTIONARY],
        "write_statistics": [f.name for f in fields],
    }


def job_key(job: str) -> str:
    """The folder of a job's files: at most 60 safe characters of the name and a hash of it.

    Local file systems limit a path component to 255 bytes, S3 allows 1,024-byte keys, so the
    folder cannot be the name itself; the hash keeps names that differ only in other characters
    apart. Readers never parse it: `job` comes from the rows and the Delta log.
    """
    digest = hashlib.sha256(job.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    readable = _KEY_CHARS.sub("_", job)[:KEY_PREFIX_CHARS].strip("._") or "job"
    # no `=`: a folder `job=...` would make path-parsing readers (polars, DuckDB's
    # hive_partitioning) take the folder name for the job's
    return f"{readable}-{digest}"


def type_folder(task_type: str) -> str:
    """`type=<type>`: task types are `[a-z0-9-]` (an unknown one with other characters gets them
    replaced and a hash, as `job_key` does: the Delta log percent-encodes `%` in paths)."""
    if not _KEY_CHARS.search(task_type) and task_type and len(task_type) <= KEY_PREFIX_CHARS:
        return f"type={task_type}"
    return f"type={job_key(task_type)}"


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


@dataclass(frozen=True)
class DataFile:
    """A written (not yet committed) file: its path inside the table's folder, size and rows."""

    path: str
    size: int
    rows: int


class JobWriter:
    """Streams a job's tables into Parquet files, one per table, tagged with the ingest id.

    A large manifest's byte ranges are written by worker processes, each with a writer of its
    own for the same job and ingest id (`part`: a suffix of the file names, `staging`: the job
    writer's); the job's writer `adopt`s their files, which come first in each table."""

    def __init__(
        self,
        lake: Location,
        job: str,
        ingest_id: str,
        staging: str | None = None,
        part: str = "",
    ) -> None:
        self.lake = lake
        self.job = job
        self.ingest_id = ingest_id
        self.key = job_key(job)
        self.part = part
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[pa.Table]] = {}  # written, not yet in a row group
        self._held: dict[str, tuple[int, int]] = {}  # rows and bytes of `_pending`
        self._written: dict[str, int] = dict.fromkeys(TABLES, 0)  # in this writer's own files
        self._parts: list[tuple[str, dict[str, int]]] = []  # adopted: (part, rows by table)
        self.staging: str | None = staging
        self._own_staging = False
        self._moved: list[str] = []
        if lake.is_s3 and staging is None:
            self.staging = tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-")
            self._own_staging = True

    def relative(self, table: str, task_type: str | None = None, part: str | None = None) -> str:
        """The file's path inside the table's folder (as the Delta log names it): while it is
        written `<key>/part-<ingest_id>.parquet`, finished `<key>/type=<type>/part-...` (readers
        that take partition values from paths, like polars' `scan_delta`, find `type` there;
        `job` and `ingest_id` are columns of the file)."""
        name = f"part-{self.ingest_id}{self.part if part is None else part}.parquet"
        if task_type is None:
            return f"{self.key}/{name}"
        return f"{self.key}/{type_folder(task_type)}/{name}"

    def _path(self, table: str, part: str | None = None) -> str:
        if self.staging is not None:
            return os.path.join(self.staging, table, self.relative(table, None, part))
        return self.lake.join(table, self.relative(table, None, part))

    def write(self, table: str, data: pa.Table) -> None:
        """Add rows to the table's file. A write of ROW_GROUP_ROWS rows or ROW_GROUP_BYTES bytes
        is written at once; smaller ones are held and written together when they reach that."""
        if data.num_rows == 0:
            return
        self._written[table] += data.num_rows
        size = data.get_total_buffer_size()
        if data.num_rows >= ROW_GROUP_ROWS or size >= ROW_GROUP_BYTES:
            self._flush(table)  # what is held first: the rows stay in order
            self._write_group(table, data)
            return
        self._pending.setdefault(table, []).append(data)
        rows, held = self._held.get(table, (0, 0))
        self._held[table] = (rows + data.num_rows, held + size)
        if rows + data.num_rows >= ROW_GROUP_ROWS or held + size >= ROW_GROUP_BYTES:
            self._flush(table)

    def _flush(self, table: str) -> None:
        """Write the held rows of `table` as one row group (they are small: one copy)."""
        self._held.pop(table, None)
        pending = self._pending.pop(table, None)
        if pending:
            self._write_group(table, pa.concat_tables(pending).combine_chunks())

    def _write_group(self, table: str, data: pa.Table) -> None:
        writer = self._writers.get(table)
        path = self._path(table)
        try:
            if writer is None:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                writer = pq.ParquetWriter(path, stored_schema(table), **_write_options(table))
                self._writers[table] = writer
            writer.write_table(self._tagged(table, data))
        except OSError as exc:
            raise LakeError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def _tagged(self, table: str, data: pa.Table) -> pa.Table:
        n = data.num_rows
        job = pa.repeat(pa.scalar(self.job, pa.string()), n)
        ingest = pa.repeat(pa.scalar(self.ingest_id, pa.string()), n)
        columns = [job, ingest, *data.columns]
        return pa.Table.from_arrays(columns, schema=stored_schema(table))

    def close_table(self, table: str) -> str | None:
        """Finish a table's file and return its path (None when it has no rows)."""
        self._flush(table)
        writer = self._writers.pop(table, None)
        if writer is not None:
            writer.close()
        return self._path(table) if self._written[table] else None

    def close_part(self) -> dict[str, int]:
        """Close every file of a part writer (in a worker) for the job's writer to `adopt`;
        {table: rows} of the tables with rows."""
        for table in TABLES:
            self.close_table(table)
        return {table: n for table, n in self._written.items() if n}

    def adopt(self, part: str, rows: dict[str, int]) -> None:
        """Take in the closed files a part writer wrote (`close_part`) into this one's place."""
        self._parts.append((part, rows))

    @property
    def rows(self) -> dict[str, int]:
        """Rows by table: this writer's files and the adopted parts'."""
        total = dict(self._written)
        for _, rows in self._parts:
            for table, n in rows.items():
                total[table] += n
        return total

    def _pieces(self) -> list[tuple[str, dict[str, int]]]:
        """(part, rows by table) of every file set: the adopted parts, then this writer's."""
        return [*self._parts, (self.part, self._written)]

    def rewrite_staged(self, table: str, fix: Callable[[pa.Table], pa.Table]) -> None:
        """Rewrite a table's files row group by row group through `fix` (for a column decided
        late); memory stays that of one row group. `fix` sees the table's own columns."""
        self.close_table(table)
        own = FILE_SCHEMAS[table].names
        for part, rows in self._pieces():
            if not rows.get(table):
                continue
            path = self._path(table, part)
            fixed = path + ".fixed"
            source = pq.ParquetFile(path)
            with pq.ParquetWriter(fixed, stored_schema(table), **_write_options(table)) as out:
                for index in range(source.num_row_groups):
                    group = source.read_row_group(index)
                    out.write_table(self._tagged(table, fix(group.select(own))))
            source.close()
            os.replace(fixed, path)

    def finish(self, task_type: str) -> dict[str, list[DataFile]]:
        """Close every file and move it to its place (upload it to an S3 lake); {table: files}
        of the tables with rows (adopted parts first). The files are still unreferenced:
        committing them is `gtlake.lake`'s part."""
        try:
            for table in TABLES:
                self.close_table(table)
            files: dict[str, list[DataFile]] = {}
            pairs = []  # (where it was written, where it goes)
            for table in TABLES:
                for part, rows in self._pieces():
                    if rows.get(table):
                        written = self._path(table, part)
                        f = DataFile(
                            self.relative(table, task_type, part),
                            os.path.getsize(written),
                            rows[table],
                        )
                        files.setdefault(table, []).append(f)
                        pairs.append((written, self.lake.join(table, f.path)))
            if self.staging is not None:
                _upload(self.lake.fs(), pairs)
            else:
                for written, target in pairs:
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    os.replace(written, target)
                    self._moved.append(target)
        except OSError as exc:
            raise LakeError(f"cannot write job {self.job!r} to {self.lake.url}: {exc}") from exc
        finally:
            if self._own_staging:
                shutil.rmtree(self.staging, ignore_errors=True)
        return files

    def abort(self) -> None:
        """Drop what was written (never raises: a full disk must not stop the next job)."""
        self._pending.clear()
        self._held.clear()
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # the file is removed below either way
                writer.close()
        self._writers.clear()
        if self._own_staging:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        for path in self._moved:
            with contextlib.suppress(OSError):
                os.remove(path)
        for table in TABLES:
            for part, _ in self._pieces():
                for path in (self._path(table, part), self._path(table, part) + ".fixed"):
                    with contextlib.suppress(OSError):
                        os.remove(path)


def remove_stale_staging() -> None:
    """Remove the local staging folders of S3 ingests whose process is gone (killed)."""
    folder = tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not name.startswith(STAGING_PREFIX):
            continue
        pid = name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _upload(fs, pairs: list[tuple[str, str]]) -> None:
    """PUT local files to keys (fsspec uploads a list concurrently)."""
    if pairs:
        with store_errors():
            fs.put([local for local, _ in pairs], [key for _, key in pairs])


__all__ = ["INGEST_ID", "DataFile", "JobWriter", "job_key", "to_arrow"]
