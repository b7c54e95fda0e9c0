"""A consistent view of the lake: every table at one point, as explicit file lists.

`take(lake)` reads the `jobs` table once (at its latest version, or as of a version or time), keeps
per job the current row (the latest `ingested_at`), pins every other table at the highest version
those rows name in `table_versions`, and lists the files of each table at that version whose
(job, ingest_id) is a job's current one. Every reader goes through it (the DuckDB views, `scan`,
`export`, the Dagster checks), so no reader ever sees one job's rows from two ingests, or new
`objects` beside old `boxes`. The files are immutable and stay on storage until `gtlake vacuum`,
so a snapshot stays readable while ingests go on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake import lake as delta
from gtlake.errors import LakeError
from gtlake.schemas import DELTA_PARTITIONS, FILE_SCHEMAS, TABLES, empty_table
from gtlake.storage import Location, fetch_all


@dataclass(frozen=True)
class LakeFile:
    """One data file of a snapshot: where it is and the partition it belongs to."""

    uri: str
    job: str
    type: str
    ingest_id: str
    rows: int


@dataclass(frozen=True)
class Snapshot:
    lake: Location
    jobs_version: int  # the `jobs` table's version: the lake's commit point (-1: empty lake)
    jobs: dict[str, dict[str, Any]]  # job -> its current `jobs` row
    versions: dict[str, int]  # table -> pinned version (-1: nothing to read)
    files: dict[str, list[LakeFile]]

    def job_files(self, table: str, job: str) -> list[LakeFile]:
        return [f for f in self.files[table] if f.job == job]


def parse_as_of(text: str) -> int | datetime:
    """`--as-of`: a version of the `jobs` table (an integer) or an ISO 8601 time (UTC if no
    zone is given)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LakeError(
            f"--as-of {text!r} is neither a version number nor an ISO time (2026-12-03T10:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _jobs_table(lake: Location, as_of: int | datetime | None):
    latest = delta.check_layout(lake)
    if as_of is None:
        return latest
    if isinstance(as_of, int):
        dt = delta.open_table(lake, delta.JOBS, as_of)
        if dt is None and as_of is not None:
            raise LakeError(f"the lake {lake.url} has no jobs table to read as of {as_of}")
        return dt
    dt = latest
    if dt is None:
        raise LakeError(f"the lake {lake.url} has no jobs table to read as of {as_of}")
    try:
        dt.load_as_version(as_of)
    except Exception as exc:  # noqa: BLE001 - delta-rs raises several types
        raise LakeError(f"cannot read {lake.url} as of {as_of.isoformat()}: {exc}") from None
    return dt


def current_jobs(
    lake: Location, as_of: int | datetime | None = None
) -> tuple[int, dict[str, dict[str, Any]]]:
    """(the `jobs` version read, {job: its current row}); (-1, {}) for a new lake."""
    try:
        dt = _jobs_table(lake, as_of)
    except LakeError:
        raise
    except Exception as exc:  # noqa: BLE001 - delta-rs raises several types
        raise LakeError(f"cannot read the jobs table of {lake.url}: {exc}") from None
    if dt is None:
        return -1, {}
    try:
        logged = delta.jobs_from_log(dt)
    except Exception as exc:  # noqa: BLE001 - delta-rs raises several types
        raise LakeError(f"cannot read the jobs table of {lake.url}: {exc}") from None
    # the rows from the log's statistics; else (a file written without them) from the files
    rows = _pylist(logged) if logged is not None else _jobs_rows(lake, dt)
    current: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen = current.get(row["job"])
        if seen is None or _order(row) > _order(seen):
            current[row["job"]] = row
    return dt.version(), current


def _jobs_rows(lake: Location, dt) -> list[dict[str, Any]]:
    """Every row of the `jobs` table at `dt`'s version, with its partition values.

    The files (one small file per job) are fetched at once (concurrently on S3) and read with
    `pyarrow.parquet.ParquetFile`, not `DeltaTable.to_pyarrow_table`: that goes through
    `pyarrow.dataset`, which imports pandas (50 MB in every process that reads the lake)."""
    actions = delta._actions(dt)
    base = delta.table_uri(lake, delta.JOBS)
    uris = [f"{base}/{a['path']}" for a in actions]
    paths = [u.split("://", 1)[1] if lake.is_s3 else u for u in uris]
    rows: list[dict[str, Any]] = []
    for action, uri, data in zip(actions, uris, fetch_all(lake.fs(), paths), strict=True):
        if isinstance(data, FileNotFoundError):
            raise LakeError(
                f"cannot read the jobs table of {lake.url}: {uri} not found (removed by "
                "`gtlake vacuum`: a version older than its retention cannot be read)"
            )
        if isinstance(data, Exception):
            raise LakeError(f"cannot read the jobs table of {lake.url}: {uri}: {data}")
        try:
            table = pq.ParquetFile(pa.BufferReader(data)).read(use_threads=False)
        except (OSError, pa.ArrowException) as exc:
            raise LakeError(f"cannot read the jobs table of {lake.url}: {uri}: {exc}") from None
        partitions = {name: action[name] for name in DELTA_PARTITIONS}
        rows.extend({**partitions, **row, **partitions} for row in _pylist(table))
    return rows


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1}


def _pylist(table: pa.Table) -> list[dict[str, Any]]:
    """`table.to_pylist()`, with the timestamps (microseconds, UTC) converted here: pyarrow
    imports pandas to convert a timestamp."""
    columns = {}
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type) and field.type.unit in _UNIT_US:
            scale = _UNIT_US[field.type.unit]
            values = column.cast(pa.int64()).to_pylist()
            columns[field.name] = [
                None if v is None else _EPOCH + timedelta(microseconds=v * scale) for v in values
            ]
        else:
            columns[field.name] = column.to_pylist()
    rows = zip(*columns.values(), strict=True)
    return [dict(zip(columns, values, strict=True)) for values in rows]


def _order(row: dict[str, Any]) -> tuple:
    stamp = row.get("ingested_at")
    return (stamp.timestamp() if stamp is not None else 0.0, row["ingest_id"])


def take(lake: Location, as_of: int | datetime | None = None) -> Snapshot:
    """The lake's snapshot now (or as of a `jobs` version or a time)."""
    version, jobs = current_jobs(lake, as_of)
    pinned: dict[str, int] = dict.fromkeys(TABLES, -1)
    for row in jobs.values():
        for table, v in json.loads(row.get("table_versions") or "{}").items():
            if table in pinned:
                pinned[table] = max(pinned[table], int(v))
    pinned[delta.JOBS] = version
    wanted = {(job, row["ingest_id"]) for job, row in jobs.items()}
    files: dict[str, list[LakeFile]] = {}
    for table in TABLES:
        files[table] = []
        if pinned[table] < 0:
            continue
        dt = delta.open_table(lake, table, pinned[table])
        if dt is None:
            continue
        base = delta.table_uri(lake, table)
        for action in delta._actions(dt):
            if (action["job"], action["ingest_id"]) in wanted:
                files[table].append(
                    LakeFile(
                        f"{base}/{action['path']}",
                        action["job"],
                        action["type"],
                        action["ingest_id"],
                        int(action["rows"] or 0),
                    )
                )
        files[table].sort(key=lambda f: (f.job, f.uri))
    return Snapshot(lake, version, jobs, pinned, files)


def read_files(
    lake: Location, table: str, files: list[LakeFile], columns: list[str] | None = None
) -> pa.Table:
    """The rows of `files` (the table's own columns, or `columns` of them).

    Each file is read whole (concurrently on S3) and decoded on this thread. Arrow's threads
    must never hold memory Python owns: `pq.read_table` on a Python file object (it goes
    through `pyarrow.dataset`), or a threaded read of a buffer over `bytes`, can leave a pool
    thread dropping the last reference after the interpreter began to exit, and the process
    aborts ("terminate called without an active exception", exit 134: 12 exports in 180 on a
    loaded machine; apache/arrow#34314)."""
    schema = FILE_SCHEMAS[table]
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    if not files:
        return empty_table(schema)
    paths = [f.uri.split("://", 1)[1] if lake.is_s3 else f.uri for f in files]
    parts = []
    for f, data in zip(files, fetch_all(lake.fs(), paths), strict=True):
        if isinstance(data, Exception):
            raise LakeError(f"cannot read {f.uri}: {data}")
        try:
            read = pq.ParquetFile(pa.BufferReader(data)).read(schema.names, use_threads=False)
            parts.append(read.cast(schema))
        except (OSError, pa.ArrowException) as exc:
            raise LakeError(f"cannot read {f.uri}: {exc}") from None
    return pa.concat_tables(parts)


def read_job(lake: Location, table: str, job: str, columns: list[str] | None = None) -> pa.Table:
    """One job's current rows of `table` (its own columns), empty when it has none."""
    snap = take(lake)
    return read_files(lake, table, snap.job_files(table, job), columns)
