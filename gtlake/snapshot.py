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
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake import lake as delta
from gtlake.errors import LakeError
from gtlake.schemas import FILE_SCHEMAS, TABLES
from gtlake.storage import Location


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
        rows = delta.rows_from_log(dt)
        if rows is None:  # a file without its row in the log's statistics: read the files
            rows = pa.table(dt.to_pyarrow_table()).to_pylist()
    except Exception as exc:  # noqa: BLE001
        raise LakeError(f"cannot read the jobs table of {lake.url}: {exc}") from None
    current: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen = current.get(row["job"])
        if seen is None or _order(row) > _order(seen):
            current[row["job"]] = row
    return dt.version(), current


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
    """The rows of `files` (the table's own columns, or `columns` of them)."""
    schema = FILE_SCHEMAS[table]
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    if not files:
        return schema.empty_table()
    fs = lake.fs()
    parts = []
    for f in files:
        path = f.uri.split("://", 1)[1] if lake.is_s3 else f.uri
        try:
            with fs.open(path, "rb") as stream:
                parts.append(pq.read_table(stream, columns=schema.names).cast(schema))
        except (OSError, pa.ArrowException) as exc:
            raise LakeError(f"cannot read {f.uri}: {exc}") from None
    return pa.concat_tables(parts)


def read_job(lake: Location, table: str, job: str, columns: list[str] | None = None) -> pa.Table:
    """One job's current rows of `table` (its own columns), empty when it has none."""
    snap = take(lake)
    return read_files(lake, table, snap.job_files(table, job), columns)
