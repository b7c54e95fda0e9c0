"""The lake's Delta tables: creating them, committing jobs in batches, the snapshot rule, vacuum.

Every table is a Delta Lake table (`<lake>/<table>/_delta_log/`) partitioned by `job`, `type` and
`ingest_id`; every row carries the id of the ingest run that wrote it. A batch of jobs is
committed in three steps:

1. **append** — each table gets one commit adding the batch's files. Nobody sees these rows yet:
   readers keep only rows whose (job, ingest_id) is the job's current one in `jobs`.
2. **switch** — one commit to `jobs` replaces the batch's jobs rows (an overwrite of their `job`
   partitions). Each new row names its `ingest_id` and, in `table_versions`, the version of every
   table that holds its rows. This commit is the atomic switch: before it readers see the old
   ingest, after it the new one, in every table at once. Two ingests of one job that switch at
   the same time conflict (delta-rs conflict detection): the loser fails with a one-line error
   and its rows stay invisible. (Two first ingests of a new job both add a row; readers take the
   later `ingested_at`, for the rows and the fingerprint alike, and the next ingest replaces both.)
3. **cleanup** — per table, one delete (metadata only: the predicate names partition columns) of
   the batch's jobs' rows of the ingests this switch replaced, and of ingests that never switched
   (a killed run) whose files are older than `ORPHAN_GRACE_S`. Readers never depend on it.

The snapshot rule (`gtlake.snapshot`): read `jobs` once; per job the current row (the latest
`ingested_at`); pin every other table at the highest version the current rows name, and keep
only the files of current (job, ingest_id) pairs. Files a commit removes stay on storage until
`vacuum`, so a reader holding an older snapshot keeps working.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gtlake.errors import GtlakeError, LakeError
from gtlake.schemas import DELTA_PARTITIONS, FILE_SCHEMAS, TABLES, delta_schema, stored_schema
from gtlake.storage import Location, delta_options
from gtlake.writer import DataFile, _upload, job_key, type_folder

log = logging.getLogger(__name__)

JOBS = "jobs"
DATA_TABLES = tuple(t for t in TABLES if t != JOBS)
# A checkpoint every 20 commits keeps the log a reader replays short.
TABLE_CONFIG = {"delta.checkpointInterval": "20"}
ORPHAN_GRACE_S = 3600.0
DEFAULT_RETAIN_HOURS = 168

# Test hooks: called as hook(point, jobs) at "staged" (by the ingest), "appended", "switching"
# (the jobs table read, its commit not yet made), "switched" and "cleaned".
HOOKS: list[Callable[[str, list[str]], None]] = []


def _hook(point: str, jobs: list[str]) -> None:
    for hook in list(HOOKS):
        hook(point, jobs)


class CommitConflict(GtlakeError):
    """Another ingest of the same job committed first."""


def table_uri(lake: Location, table: str) -> str:
    return f"s3://{lake.join(table)}" if lake.is_s3 else lake.join(table)


def check_layout(lake: Location):
    """Refuse a lake written by gtlake before Delta (Hive-partitioned Parquet, no `_delta_log`);
    returns the `jobs` table as it is now (None for a new lake)."""

    # (not DeltaTable.is_deltatable: it holds the GIL while it waits for the store)
    jobs = open_table(lake, JOBS)
    if jobs is not None:
        return jobs
    try:
        old = lake.fs().exists(lake.join(JOBS))
    except OSError as exc:
        raise LakeError(f"cannot read the lake {lake.url}: {exc}") from None
    if old:
        raise LakeError(
            f"{lake.url} is a Parquet lake from an older gtlake (no Delta log in {JOBS}/); "
            "rebuild it: move it away and run `gtlake ingest SOURCE --lake "
            f"{lake.url} --full`"
        )
    return None


def open_table(lake: Location, table: str, version: int | None = None):
    """The table's `DeltaTable` (at `version`), or None when the table does not exist yet."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(
            table_uri(lake, table), version=version, storage_options=delta_options(lake)
        )
    except TableNotFoundError:
        return None
    except OSError as exc:
        raise LakeError(f"cannot read table {table} of {lake.url}: {exc}") from None


def ensure_tables(lake: Location) -> None:
    """Create every table that does not exist yet (an empty Delta table with its schema)."""
    from deltalake import DeltaTable

    if check_layout(lake) is not None:
        return  # `jobs` is created last (TABLES order): when it exists, every table does
    options = delta_options(lake)
    for table in TABLES:
        uri = table_uri(lake, table)
        if open_table(lake, table) is not None:
            continue
        try:
            DeltaTable.create(
                uri,
                schema=delta_schema(table),
                partition_by=list(DELTA_PARTITIONS),
                mode="ignore",
                configuration=TABLE_CONFIG,
                storage_options=options,
            )
        except Exception as exc:  # noqa: BLE001 - a concurrent create is fine, anything else not
            if open_table(lake, table) is None:
                raise LakeError(f"cannot create table {table} in {lake.url}: {exc}") from None


@dataclass
class StagedJob:
    """A job whose files are written and not yet committed: the ids, the files, the jobs row."""

    job: str
    type: str
    ingest_id: str
    files: dict[str, list[DataFile]]  # a table's files: a large manifest's ranges, then the rest
    state: dict[str, Any]  # the jobs row's own columns, but `table_versions`
    error: str | None = None
    partitions: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.partitions = {"job": self.job, "type": self.type, "ingest_id": self.ingest_id}


def _add(
    path: str, size: int, rows: int, partitions: dict[str, str], row: dict[str, Any] | None = None
):
    """The Delta add action of a file; a one-row file (`row`) gets its every value as its min
    and max statistics, so that the `jobs` table's rows can be read from the log alone."""
    from deltalake.transaction import AddAction

    stats: dict[str, Any] = {"numRecords": rows}
    if row is not None:
        values = {k: _stat(v) for k, v in row.items() if v is not None}
        stats.update(
            minValues=values,
            maxValues=values,
            nullCount={k: int(v is None) for k, v in row.items()},
        )
    return AddAction(path, size, partitions, int(time.time() * 1000), True, json.dumps(stats))


def _stat(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def jobs_from_log(dt) -> pa.Table | None:
    """The `jobs` table's rows read from its log (the statistics of its one-row files, see
    `_add`), without reading a data file; None when a file lacks them (written otherwise).

    (No `pa.table(...)` of a foreign table, compute kernel result `as_py` or timestamp
    `to_pylist` here: each imports pandas, 50 MB in every reader of the lake.)"""
    added = pa.RecordBatchReader.from_stream(dt.get_add_actions(flatten=True)).read_all()
    schema = delta_schema(JOBS)
    names = set(added.column_names)

    def values(name: str) -> list:
        column = added.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64())
        return column.to_pylist()

    if added.num_rows == 0:
        return pa.Table.from_batches([], schema=schema)
    if any(n != 1 for n in values("num_records")):
        return None
    columns = []
    for target in schema:
        name = target.name
        if name in DELTA_PARTITIONS:
            columns.append(added.column(f"partition.{name}").cast(target.type))
            continue
        nulls, low, high = (f"null_count.{name}", f"min.{name}", f"max.{name}")
        if nulls not in names:
            return None
        counts = values(nulls)
        if low not in names:  # the column is null in every file
            if any(c != 1 for c in counts):
                return None
            columns.append(pa.nulls(added.num_rows, type=target.type))
            continue
        lows, highs = values(low), values(high)
        for count, a, b in zip(counts, lows, highs, strict=True):
            if count not in (0, 1) or (count == 0 and (a is None or a != b)):
                return None
        try:
            columns.append(added.column(low).cast(target.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
    return pa.Table.from_arrays(columns, schema=schema)


def opened_table(lake: Location, table: str, opened: dict[str, Any] | None):
    """The table's `DeltaTable`, brought up to date: from `opened` (tables a committer keeps
    open from one commit to the next, reading only the log entries added since), else opened
    (replaying its log from the last checkpoint) and kept there. None when it does not exist."""
    dt = opened.get(table) if opened is not None else None
    if dt is not None:
        dt.update_incremental()
        return dt
    dt = open_table(lake, table)
    if opened is not None and dt is not None:
        opened[table] = dt
    return dt


def commit(lake: Location, batch: list[StagedJob], opened: dict[str, Any] | None = None) -> None:
    """Commit a batch of staged jobs (append, switch, cleanup); a job whose switch conflicts
    with another ingest of it gets its `error` set, the others are committed. `opened`: the
    tables kept open between the commits of one writer (see `opened_table`)."""
    from deltalake.exceptions import CommitFailedError

    if not batch:
        return
    names = [s.job for s in batch]
    versions: dict[str, int] = {}
    tables = opened if opened is not None else {}
    for table in DATA_TABLES:
        dt = tables[table] = opened_table(lake, table, tables)
        if dt is None:
            raise LakeError(f"table {table} of {lake.url} does not exist")
        adds = [
            _add(f.path, f.size, f.rows, s.partitions)
            for s in batch
            for f in s.files.get(table, ())
        ]
        if adds:
            try:
                dt.create_write_transaction(
                    adds, "append", delta_schema(table), list(DELTA_PARTITIONS)
                )
            except (CommitFailedError, OSError) as exc:
                raise LakeError(f"cannot commit to table {table} of {lake.url}: {exc}") from None
            # a version read before the switch: it holds these rows, and no cleanup of an
            # ingest that is current at any later switch (see the module docstring)
            dt.update_incremental()
        versions[table] = dt.version()
    _hook("appended", names)
    previous: dict[str, set[str]] = {}
    switched = _switch(lake, batch, versions, previous, tables)
    _hook("switched", [s.job for s in switched])
    if switched:
        try:
            cleanup(lake, {s.job: s.ingest_id for s in switched}, previous, tables)
        except Exception as exc:  # noqa: BLE001 - readers never depend on the cleanup
            log.warning("cleanup after the commit of %d jobs failed: %s", len(switched), exc)
    _hook("cleaned", [s.job for s in switched])


def _switch(
    lake: Location,
    batch: list[StagedJob],
    versions: dict[str, int],
    replaced: dict[str, set[str]],
    opened: dict[str, Any] | None = None,
) -> list[StagedJob]:
    """Write the jobs rows and commit them as one overwrite of their partitions; on a conflict,
    job by job. Returns the jobs switched; `replaced` gets the ingest ids their rows replaced."""
    from deltalake.exceptions import CommitFailedError

    adds = {s.job: _jobs_file(lake, s, versions) for s in batch}
    groups = [batch]
    switched: list[StagedJob] = []
    while groups:
        group = groups.pop()
        dt = opened_table(lake, JOBS, opened)
        names = {s.job for s in group}
        before = _actions(dt, names)
        _hook("switching", sorted(names))
        try:
            dt.create_write_transaction(
                [adds[s.job] for s in group],
                "overwrite",
                delta_schema(JOBS),
                list(DELTA_PARTITIONS),
                partition_filters=[("job", "in", [s.job for s in group])],
            )
            switched.extend(group)
            for action in before:
                replaced.setdefault(action["job"], set()).add(action["ingest_id"])
        except CommitFailedError as exc:
            if len(group) > 1:
                groups.extend([s] for s in group)
                continue
            group[0].error = (
                f"another ingest of job {group[0].job!r} committed at the same time; its rows "
                f"are kept and this run's are dropped ({str(exc).splitlines()[0]})"
            )
        except OSError as exc:
            for s in group:
                s.error = f"cannot commit job {s.job!r} to {lake.url}: {exc}"
    return switched


def _jobs_file(lake: Location, staged: StagedJob, versions: dict[str, int]):
    row = {
        "job": staged.job,
        "ingest_id": staged.ingest_id,
        **staged.state,
        "table_versions": json.dumps(versions, sort_keys=True),
    }
    data = pa.Table.from_pylist([row], schema=stored_schema(JOBS))
    unique = uuid.uuid4().hex[:8]  # a jobs row can be rewritten for the same ingest
    path = (
        f"{job_key(staged.job)}/{type_folder(staged.type)}/part-{staged.ingest_id}-{unique}.parquet"
    )
    try:
        if lake.is_s3:
            with tempfile.TemporaryDirectory(prefix="gtlake-jobs-") as folder:
                local = os.path.join(folder, "jobs.parquet")
                pq.write_table(data, local)
                size = os.path.getsize(local)
                _upload(lake.fs(), [(local, lake.join(JOBS, path))])
        else:
            target = lake.join(JOBS, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            pq.write_table(data, target)
            size = os.path.getsize(target)
    except OSError as exc:
        raise LakeError(f"cannot write the jobs row of {staged.job!r}: {exc}") from None
    return _add(path, size, 1, staged.partitions, row={k: row[k] for k in FILE_SCHEMAS[JOBS].names})


def _actions(dt, jobs: Collection[str] | None = None) -> list[dict[str, Any]]:
    """The table's files (those of `jobs`): path, size, rows, modification time (ms) and
    partition values."""
    # (through the Arrow stream interface: `pa.table(...)` of a foreign table imports pandas
    # to check for a DataFrame first, 50 MB for every reader of the lake)
    added = pa.RecordBatchReader.from_stream(dt.get_add_actions(flatten=True)).read_all()
    rename = {
        "partition.job": "job",
        "partition.type": "type",
        "partition.ingest_id": "ingest_id",
        "num_records": "rows",
        "size_bytes": "size",
    }
    names = [rename.get(n, n) for n in added.column_names]
    keep = ["path", "size", "rows", "modification_time", "job", "type", "ingest_id"]
    added = added.rename_columns(names).select(keep)
    if jobs is not None:  # filtered in Arrow: a commit's few jobs in a lake of thousands
        added = added.filter(pc.is_in(added["job"], value_set=pa.array(sorted(jobs), pa.string())))
    return added.to_pylist()


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def cleanup(
    lake: Location,
    current: dict[str, str],
    replaced: dict[str, set[str]] | None = None,
    tables: dict | None = None,
) -> int:
    """Remove (from the log; files stay until vacuum) the rows of `current`'s jobs written by
    ingests the switch `replaced`, and by ingests that never switched and are older than
    ORPHAN_GRACE_S. Returns the number of files removed."""
    replaced = replaced or {}
    horizon = (time.time() - ORPHAN_GRACE_S) * 1000
    removed = 0
    tables = tables or {}
    for table in TABLES:
        dt = opened_table(lake, table, tables)  # with what the other writers committed meanwhile
        if dt is None:
            continue
        stale = sorted(
            {
                (a["job"], a["ingest_id"])
                for a in _actions(dt, current)
                if a["ingest_id"] != current[a["job"]]
                and (
                    a["ingest_id"] in replaced.get(a["job"], ()) or a["modification_time"] < horizon
                )
            }
        )
        if not stale:
            continue
        predicate = " or ".join(
            f"(job = {sql_literal(job)} and ingest_id = {sql_literal(ingest)})"
            for job, ingest in stale
        )
        metrics = dt.delete(predicate)
        removed += int(metrics.get("num_removed_files", 0))
    return removed


def vacuum(lake: Location, retain_hours: float = DEFAULT_RETAIN_HOURS) -> dict[str, int]:
    """Delete the files no version younger than `retain_hours` needs, and the files nothing
    refers to (a killed run's) older than that; {table: files deleted}."""
    check_layout(lake)
    done: dict[str, int] = {}
    for table in TABLES:
        dt = open_table(lake, table)
        if dt is None:
            continue
        try:
            deleted = dt.vacuum(
                retention_hours=int(retain_hours),
                dry_run=False,
                enforce_retention_duration=False,
                full=True,
            )
        except Exception as exc:  # noqa: BLE001 - delta-rs raises several types
            raise LakeError(f"cannot vacuum table {table} of {lake.url}: {exc}") from None
        done[table] = len(deleted)
    return done
