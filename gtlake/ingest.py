"""Ingest: list the jobs, read each job's manifest block by block, flatten, write its partitions.

Jobs are independent: each one is read, flattened and committed on its own (in parallel worker
processes when there are several, which never outlive the run: `gtlake.processes`), and a job whose
fingerprint is unchanged since the last ingest is skipped unless `full` is set. A job already in
the lake whose manifests went away keeps its rows (`kept_reason`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.context import BaseContext
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc

from gtlake.errors import GtlakeError, LakeError, LineError, ManifestError
from gtlake.flatten import LineRows, created_at, find_labels, flatten_line, label_job
from gtlake.flatten.reference import rows_table
from gtlake.flatten.vector import GroupRows, flatten_group, text_column
from gtlake.frames import Reference, frame_tables, references
from gtlake.jobtables import job_tables
from gtlake.lake import StagedJob, _hook, commit, ensure_tables
from gtlake.manifest import (
    Bad,
    Parsed,
    RangeReader,
    line_ends,
    line_ranges,
    parse,
    read_blocks,
)
from gtlake.processes import worker_pool
from gtlake.schemas import FILE_SCHEMAS, TABLES
from gtlake.source import OUTPUT_MANIFEST, JobDir, list_jobs
from gtlake.state import JobState, read_states
from gtlake.storage import Location, open_input, store_errors
from gtlake.writer import JobWriter, remove_stale_staging

BATCH_JOBS = 64
SPLIT_MIN = 64  # a group the vectorised engine refuses is halved down to this many lines
REFERENCE_ONLY = "GTLAKE_REFERENCE"  # set (to anything): flatten every line by the reference path

log = logging.getLogger(__name__)

UNLABELED = "unlabeled"
# Progress within a job: (job, manifest bytes read so far, manifest size), after each block.
OnBytes = Callable[[str, int, int], None]
_bytes_queue = None  # in a worker process: where its OnBytes reports go (see `ingest`)
_SAMPLE = 200  # lines of the first block that give the provisional own attribute


@dataclass
class JobResult:
    job: str
    type: str = UNLABELED
    status: str = "in-progress"
    manifest: str | None = None
    lines: int = 0
    labeled_lines: int = 0
    quarantined: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    skipped: bool = False
    message: str | None = None
    error: str | None = None
    unreachable: bool = False
    seconds: float = 0.0


@dataclass
class IngestReport:
    jobs: list[JobResult]
    seconds: float
    vanished: list[str] = field(default_factory=list)  # in the lake, gone from the source

    @property
    def failed(self) -> list[JobResult]:
        return [j for j in self.jobs if j.error]


@dataclass
class _Attribute:
    """What the pass over a manifest learns about one label attribute."""

    kind: str
    lines: int = 0
    own_job: bool = False
    latest: datetime | None = None


def choose_own_attribute(job: str, attributes: dict[str, _Attribute]) -> str | None:
    """The job's own label attribute: the one whose `job-name` is the job; else the latest made."""
    named = [a for a, s in attributes.items() if s.own_job]
    if named:
        return max(named, key=lambda a: attributes[a].lines)
    dated = [a for a, s in attributes.items() if s.latest is not None]
    if dated:
        return max(dated, key=lambda a: attributes[a].latest)
    return max(attributes, key=lambda a: attributes[a].lines) if attributes else None


def _learn(
    job: str,
    attributes: dict[str, _Attribute],
    attribute: str,
    kind: str,
    label_jobs: list[str | None] | pa.Array,
    created: list[datetime | None] | pa.Array,
) -> None:
    """Count one attribute's labels, note whether they name the job, and the latest date."""
    seen = attributes.get(attribute)
    if seen is None:
        seen = attributes[attribute] = _Attribute(kind)
    seen.lines += len(label_jobs)
    lowered = job.lower()
    if isinstance(label_jobs, pa.Array):
        if not seen.own_job and len(label_jobs):
            names = pc.unique(label_jobs).drop_null().to_pylist()  # few: compared as below
            seen.own_job = any(name.lower() == lowered for name in names)
        latest = pc.max(created).as_py() if len(created) else None
        if latest is not None:
            latest = latest.replace(tzinfo=None)
    else:
        if not seen.own_job:
            seen.own_job = any(n is not None and n.lower() == lowered for n in label_jobs)
        dates = [d for d in created if d is not None]
        latest = max(dates) if dates else None
    if latest is not None and (seen.latest is None or latest > seen.latest):
        seen.latest = latest


def _provisional_own(job: str, parsed: list[Parsed]) -> str | None:
    """A first guess from the first block, so rows can be written as they are read."""
    attributes: dict[str, _Attribute] = {}
    for p in parsed:
        try:
            labels = find_labels(p.obj)
        except LineError:
            continue
        for label in labels:
            created = None
            with contextlib.suppress(LineError):
                created = created_at(label.metadata)
            _learn(job, attributes, label.attribute, "", [label_job(label.metadata)], [created])
    return choose_own_attribute(job, attributes)


class _Block:
    """The rows of one block of lines, by table: Arrow tables from the vectorised path, named rows
    from the reference path."""

    def __init__(self, job: str, attributes: dict[str, _Attribute]) -> None:
        self.job = job
        self.attributes = attributes
        self.parts: dict[str, list[pa.Table]] = {t: [] for t in TABLES}
        self.rows: dict[str, list] = {t: [] for t in TABLES}
        self.raw: list[bytes] = []
        self.mixed = False  # rows of several groups of lines: put back in line order

    def add_bad(self, file: str, bad: Bad) -> None:
        self.rows["quarantine"].append(
            {"file": file, "line": bad.line, "byte_offset": bad.offset, "error": bad.error,
             "raw": bad.raw}
        )  # fmt: skip

    def add_group(self, group: GroupRows) -> None:
        self.parts["objects"].append(group.objects)
        self.parts["labels"].extend(group.labels)
        for table, parts in group.items.items():
            self.parts[table].extend(parts)
        for learned in group.learned:
            _learn(self.job, self.attributes, *learned)

    def add_line(self, p: Parsed, rows: LineRows) -> None:
        self.rows["objects"].append(rows.object)
        self.raw.append(p.data)
        self.rows["labels"].extend(rows.labels)
        for table, row in rows.items:
            self.rows[table].append(row)
        for row in rows.labels:
            _learn(
                self.job, self.attributes, row["attribute"], row["label_type"],
                [row["label_job"]], [row["created_at"]],
            )  # fmt: skip

    def arrow(self, table: str) -> pa.Table | None:
        """The block's rows of `table` (None when it has none)."""
        parts = list(self.parts[table])
        rows = self.rows[table]
        if rows:
            raw = {"raw": text_column(self.raw)} if table == "objects" else None
            parts.append(rows_table(table, rows, raw))
        if not parts:
            return None
        if len(parts) == 1 and not self.mixed:
            return parts[0]
        # Groups of differently keyed lines, and lines read one by one: back in line order (a
        # stable sort keeps each line's labels and items in the order they were read).
        data = pa.concat_tables(parts)
        return data.take(pc.sort_indices(data, [("line", "ascending")]))


def new_ingest_id() -> str:
    """An id for one ingest of one job: the time (sortable) and a random part."""
    return f"{time.time_ns():x}-{uuid.uuid4().hex[:12]}"


def ingest_job(
    job: JobDir, lake: Location, source: Location, on_bytes: OnBytes | None = None
) -> JobResult:
    """Read one job's manifest and replace its rows in the lake (one commit batch of one job)."""
    ensure_tables(lake)
    result, staged = stage_job(job, lake, source, on_bytes)
    commit(lake, [staged])
    if staged.error:
        raise LakeError(staged.error)
    return result


def stage_job(
    job: JobDir,
    lake: Location,
    source: Location,
    on_bytes: OnBytes | None = None,
    cores: int = 1,
) -> tuple[JobResult, StagedJob]:
    """Read one job's manifest and write its files; committing them is `gtlake.lake.commit`.

    With `cores` > 1 a large local manifest is flattened in that many worker processes, a byte
    range each at a time (`_ranged_parts`)."""
    manifest, status = job.manifest()
    result = JobResult(job.name, status=status, manifest=manifest.path if manifest else None)
    fingerprint = job.fingerprint()
    ingest_id = new_ingest_id()
    writer = JobWriter(lake, job.name, ingest_id)
    try:
        reading = _Reading(job.name)
        attributes = reading.attributes
        refs: list[Reference] = []  # labels that refer to sequence files
        if manifest is None:
            result.message = "no manifest yet (no output or intermediate manifest)"
        else:
            path = f"{job.path}/{manifest.path}"
            try:
                stream = open_input(source.fs(), path, manifest.size)
            except ConnectionError:
                raise
            except OSError as exc:
                raise ManifestError(path, reason=f"cannot be read: {exc}") from exc
            with stream:
                if cores > 1 and not source.is_s3 and manifest.size >= RANGE_MIN:
                    ranged = _ranged_parts(stream, source, path, manifest, cores, reading, writer)
                    for found, done in ranged:  # each range's files are adopted by `writer`
                        refs.extend(found)
                        if on_bytes is not None:
                            on_bytes(job.name, done, manifest.size)
                else:
                    for tables, done in _block_rows(stream, manifest.path, reading):
                        for table, data in tables.items():
                            writer.write(table, data)
                            if table == "labels":
                                refs.extend(references(data))
                        if on_bytes is not None:
                            on_bytes(job.name, done, manifest.size)
            result.bytes = manifest.size
            if writer.rows["objects"] + writer.rows["quarantine"] == 0:
                result.message = "empty manifest"
        final = choose_own_attribute(job.name, attributes)
        if final != reading.own and writer.rows["labels"]:
            _fix_inherited(writer, final)
        result.type = attributes[final].kind if final else UNLABELED
        result.lines = writer.rows["objects"]
        result.quarantined = writer.rows["quarantine"]
        result.labeled_lines = attributes[final].lines if final else 0
        for table, data in job_tables(job, source, final):
            writer.write(table, data)
        for table, data in frame_tables(job, source, lake, refs, final):
            writer.write(table, data)
        result.rows = {**writer.rows, "jobs": 1}
        files = writer.finish(result.type)
    except BaseException:
        writer.abort()
        raise
    state = _jobs_row(result, final, fingerprint)
    staged = StagedJob(job.name, result.type, ingest_id, files, state)
    _hook("staged", [job.name])
    return result, staged


class _Reading:
    """What reading a manifest learns as it goes: its label attributes, and the own attribute
    guessed from the first block (rows are written with it; fixed at the end if it changes)."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.attributes: dict[str, _Attribute] = {}
        self.own: str | None = None
        self.decided = False

    def decide(self, parsed: list) -> None:
        if not self.decided:
            sample = [p for p in parsed[:_SAMPLE] if type(p) is Parsed]
            self.own = _provisional_own(self.job, sample)
            self.decided = self.own is not None

    def merge(self, attributes: dict[str, _Attribute]) -> None:
        """Add what a worker learned from its byte range."""
        for name, seen in attributes.items():
            mine = self.attributes.setdefault(name, _Attribute(seen.kind))
            mine.lines += seen.lines
            mine.own_job = mine.own_job or seen.own_job
            if seen.latest is not None and (mine.latest is None or seen.latest > mine.latest):
                mine.latest = seen.latest


Tables = dict[str, pa.Table]


def _block_tables(block: _Block) -> Tables:
    return {t: data for t in TABLES if (data := block.arrow(t)) is not None}


def _block_rows(stream: IO[bytes], file: str, reading: _Reading) -> Iterator[tuple[Tables, int]]:
    """Each block's tables, and how far the stream is read."""
    for block in read_blocks(stream):
        parsed = [parse(raw) for raw in block]
        reading.decide(parsed)
        rows = _flatten_block(reading.job, reading.attributes, file, parsed, reading.own)
        yield _block_tables(rows), stream.tell()


RANGE_MIN = 64 << 20  # a manifest this large is flattened by several processes...
RANGE_BYTES = 16 << 20  # ... in byte ranges of about this size


@dataclass
class _RangePart:
    part: str  # the suffix of its files' names
    rows: dict[str, int]  # rows by table, in the files the worker wrote (and closed)
    attributes: dict[str, _Attribute]
    refs: list[Reference]  # labels referring to sequence files


def _flatten_range(
    source: Location,
    path: str,
    span: tuple[int, int, int],
    job: str,
    file: str,
    own: str | None,
    lake: Location,
    ingest_id: str,
    staging: str | None,
) -> _RangePart:
    """Flatten one byte range of a manifest (in a worker process) into Parquet files of its own:
    `span` is (start, end, the line number of its first line)."""
    start, end, first_line = span
    attributes: dict[str, _Attribute] = {}
    refs: list[Reference] = []
    writer = JobWriter(lake, job, ingest_id, staging=staging, part=f"-{start}")
    try:
        with source.fs().open(path, "rb") as stream:
            reader = RangeReader(stream, start, end)
            for block in read_blocks(reader, offset=start):
                rows = _flatten_block(job, attributes, file, [parse(raw) for raw in block], own)
                for table, data in _block_tables(rows).items():
                    data = _shift_lines(data, first_line)
                    writer.write(table, data)
                    if table == "labels":
                        refs.extend(references(data))
        rows = writer.close_part()
    except BaseException:
        writer.abort()
        raise
    return _RangePart(writer.part, rows, attributes, refs)


def _ranged_parts(
    stream: IO[bytes],
    source: Location,
    path: str,
    manifest,
    cores: int,
    reading: _Reading,
    writer: JobWriter,
) -> Iterator[tuple[list[Reference], int]]:
    """A large manifest on every core: byte ranges ending at line ends, each flattened and
    written by one of a pool of `cores` processes into files of its own, which `writer` adopts
    in file order; yields each range's references to sequence files and where it ends. A
    range's first line number is counted here (its line ends before it) before it is handed
    out. At most `cores + 1` ranges are in flight, so memory stays flat."""
    reading.decide([parse(raw) for raw in next(read_blocks(stream), [])])
    ranges = iter(line_ranges(stream, manifest.size, RANGE_BYTES))
    pending: deque = deque()
    lines = 0
    with worker_pool(cores, _range_context()) as pool:

        def submit() -> None:
            nonlocal lines
            span = next(ranges, None)
            if span is not None:
                start, end = span
                args = (source, path, (start, end, lines), reading.job, manifest.path,
                        reading.own, writer.lake, writer.ingest_id, writer.staging)  # fmt: skip
                pending.append((end, pool.submit(_flatten_range, *args)))
                lines += line_ends(stream, start, end)

        for _ in range(cores + 1):
            submit()
        try:
            while pending:
                end, future = pending.popleft()
                done = future.result()
                writer.adopt(done.part, done.rows)
                reading.merge(done.attributes)
                submit()
                yield done.refs, end
        finally:  # an error: the ranges already written go with the job's files
            for _, future in pending:
                if future.done() and not future.cancelled() and future.exception() is None:
                    writer.adopt(future.result().part, future.result().rows)


def _range_context() -> BaseContext:
    """Fork on Linux: a forked range worker starts with every module loaded, a spawned one first
    imports gtlake, pyarrow and pandas (0.6 s of CPU each; on 2 cores the 400,000-line job took
    0.66 of one worker's time with 2 spawned workers, 0.63 forked). Safe for these workers: they
    read a local manifest and write Parquet files (fsspec renews its event loop in a forked
    child), and never touch delta-rs, whose runtime does not survive a fork."""
    return get_context("fork" if sys.platform == "linux" else "spawn")


def _shift_lines(data: pa.Table, by: int) -> pa.Table:
    if not by or "line" not in data.column_names:
        return data
    index = data.schema.get_field_index("line")
    shifted = pc.add(data.column(index), pa.scalar(by, pa.int64()))
    return data.set_column(index, data.schema.field(index), shifted)


def _flatten_block(
    job: str, attributes: dict[str, _Attribute], file: str, parsed: list, own: str | None
) -> _Block:
    """Flatten a block: each group of same-keyed lines vectorised, else line by line (every line
    through the reference interpreter when `GTLAKE_REFERENCE` is set: tests compare the two)."""
    block = _Block(job, attributes)
    groups: dict[tuple | None, list[Parsed]] = {}
    for p in parsed:
        if type(p) is Bad:
            block.add_bad(file, p)
        else:
            groups.setdefault(tuple(p.obj), []).append(p)
    reference = bool(os.environ.get(REFERENCE_ONLY))
    if reference:  # every line in file order
        groups = {None: [p for p in parsed if type(p) is Parsed]}
    block.mixed = len(groups) > 1 or bool(block.rows["quarantine"])
    for lines in groups.values():
        if reference:
            _by_reference(block, file, lines, own)
        else:
            _vectorised(block, file, lines, own)
    return block


def _vectorised(block: _Block, file: str, lines: list[Parsed], own: str | None) -> None:
    """A group of same-keyed lines in one piece; one the engine refuses is halved until the
    pieces it takes are found (`SPLIT_MIN` lines or fewer: line by line, by the reference)."""
    group = flatten_group(lines, own)
    if group is not None:
        block.add_group(group)
    elif len(lines) > SPLIT_MIN:
        block.mixed = True
        half = len(lines) // 2
        _vectorised(block, file, lines[:half], own)
        _vectorised(block, file, lines[half:], own)
    else:
        _by_reference(block, file, lines, own)


def _by_reference(block: _Block, file: str, lines: list[Parsed], own: str | None) -> None:
    for p in lines:
        try:
            rows = flatten_line(p.line, p.obj, own)
        except LineError as exc:
            block.add_bad(file, Bad(p.line, p.offset, str(exc), p.data.decode()))
            continue
        block.add_line(p, rows)


def _fix_inherited(writer: JobWriter, own: str | None) -> None:
    """Rewrite `labels.is_inherited` once the whole file has decided the job's own attribute."""
    index = FILE_SCHEMAS["labels"].get_field_index("is_inherited")

    def fix(labels: pa.Table) -> pa.Table:
        if own is None:
            inherited = pa.array([True] * labels.num_rows)
        else:
            inherited = pc.not_equal(labels["attribute"], pa.scalar(own, pa.string()))
        return labels.set_column(index, "is_inherited", inherited)

    writer.rewrite_staged("labels", fix)


def _jobs_row(result: JobResult, own: str | None, fingerprint: str) -> dict:
    """The job's row of `jobs` (its own columns; `gtlake.lake` adds the table versions)."""
    return {
        "label_attribute": own,
        "status": result.status,
        "manifest": result.manifest,
        "lines": result.lines,
        "labeled_lines": result.labeled_lines,
        "quarantined_lines": result.quarantined,
        "fingerprint": fingerprint,
        "ingested_at": datetime.now(UTC),
    }


def _queue_bytes(job: str, done: int, size: int) -> None:
    _bytes_queue.put((job, done, size))


def _set_bytes_queue(reports) -> None:
    global _bytes_queue
    _bytes_queue = reports


def _run_job(
    job: JobDir,
    lake: Location,
    source: Location,
    on_bytes: OnBytes | None = None,
    cores: int = 1,
) -> tuple[JobResult, StagedJob | None]:
    """Stage one job (in a worker process, or here); the parent commits it in a batch."""
    if on_bytes is None and _bytes_queue is not None:
        on_bytes = _queue_bytes
    started = time.perf_counter()
    staged = None
    try:
        with store_errors():
            result, staged = stage_job(job, lake, source, on_bytes, cores)
    except GtlakeError as exc:
        result = JobResult(job.name, error=str(exc))
    except ConnectionError as exc:  # the store is unreachable: no point trying the other jobs
        result = JobResult(job.name, error=f"cannot reach the store: {exc}", unreachable=True)
    except OSError as exc:
        result = JobResult(job.name, error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a gtlake defect: one line for this job, the other jobs still run
        log.debug("job %s failed", job.name, exc_info=True)
        result = JobResult(job.name, error=f"unexpected {type(exc).__name__}: {exc}")
    result.seconds = time.perf_counter() - started
    return result, staged


def kept_reason(job: JobDir, recorded: JobState | None) -> str | None:
    """Why a job already in the lake keeps its rows instead of being ingested again, if it does.

    Its manifests are gone (a job directory emptied or replaced): like a job that vanished, it
    is kept. Or it was ingested complete and its output manifest is gone: the intermediate
    manifests left are older, so ingesting one would silently replace the final labels.
    """
    if recorded is None:
        return None
    manifest, status = job.manifest()
    if manifest is None and recorded.manifest is not None:
        return "no manifest any more (no output or intermediate manifest); its rows are kept"
    if recorded.status == "complete" and status != "complete":
        return (
            f"the output manifest is gone ({OUTPUT_MANIFEST}); the rows of its complete ingest "
            "are kept, not replaced from an older intermediate manifest"
        )
    return None


def _outcome(future: Future, job: JobDir) -> tuple[JobResult, StagedJob | None]:
    """A pool job's result; a worker that died or could not send its result fails that job."""
    try:
        return future.result()
    except Exception as exc:
        error = f"worker process failed: {type(exc).__name__}: {exc}"
        return JobResult(job.name, error=error), None


class _Committer:
    """Group commit in a thread of the parent: staged jobs queue up while the previous batch
    commits, and each batch (up to BATCH_JOBS jobs) is one commit per table. A lone job is
    committed at once (its result reported as soon as it is in the lake); many small jobs
    finishing faster than a commit share one."""

    def __init__(self, lake: Location, finish: Callable[[JobResult], None]) -> None:
        self.lake = lake
        self._report = finish
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._opened: dict = {}  # the lake's tables, open from one commit to the next
        self._thread = threading.Thread(target=self._run, name="gtlake-commit", daemon=True)
        self._thread.start()

    def add(self, result: JobResult, staged: StagedJob | None) -> None:
        if staged is None:
            self._finish(result)
        else:
            self._queue.put((result, staged))

    def close(self) -> None:
        """Commit what is queued, then stop."""
        self._queue.put(None)
        self._thread.join()

    def _finish(self, result: JobResult) -> None:
        with self._lock:
            self._report(result)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch, stop = [item], False
            while len(batch) < BATCH_JOBS and not self._queue.empty():
                more = self._queue.get()
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[JobResult, StagedJob]]) -> None:
        try:
            commit(self.lake, [staged for _, staged in batch], self._opened)
        except Exception as exc:  # noqa: BLE001 - every job of the batch fails with one line
            self._opened.clear()  # opened afresh for the next batch
            for result, _ in batch:
                result.error = (
                    str(exc)
                    if isinstance(exc, GtlakeError)
                    else (f"cannot commit: {type(exc).__name__}: {exc}")
                )
        for result, staged in batch:
            if staged.error and not result.error:
                result.error = staged.error
            self._finish(result)


def ingest(
    source: Location,
    lake: Location,
    names: list[str] | None = None,
    full: bool = False,
    workers: int | None = None,
    on_job: Callable[[JobResult], None] | None = None,
    on_start: Callable[[list[JobDir]], None] | None = None,
    on_bytes: OnBytes | None = None,
) -> IngestReport:
    """Ingest the jobs under `source` (all, or those named) into `lake`.

    `on_start` gets the jobs to ingest, `on_job` each job's result as it finishes and `on_bytes`
    the progress within each job's manifest (in this process, whichever process reads it).

    Stops early (the remaining jobs are reported as not started) once a job finds the store
    unreachable. Jobs in the lake that are gone from the source are reported in `vanished` and
    left in place: removing a job's partitions is a deliberate, manual step.
    """
    started = time.perf_counter()
    _check_writable(lake)
    known = read_states(lake)  # the lake's own state: its `jobs` table
    jobs = list_jobs(source, names, known=list(known))
    remove_stale_staging()
    todo, results = [], []
    for job in jobs:
        recorded = known.get(job.name)
        if not full and recorded is not None and recorded.fingerprint == job.fingerprint():
            results.append(JobResult(job.name, skipped=True))
        elif (kept := kept_reason(job, recorded)) is not None:
            results.append(JobResult(job.name, skipped=True, message=kept))
        else:
            todo.append(job)
    vanished = [] if names else sorted(set(known) - {j.name for j in jobs})
    if todo or not known:  # a lake with jobs has every table (`jobs` is created last)
        ensure_tables(lake)
    if on_start is not None:
        on_start(todo)
    # Largest manifests first, so parallel workers finish together.
    todo.sort(key=lambda j: -(j.manifest()[0].size if j.manifest()[0] else 0))
    cores = workers or os.cpu_count() or 1
    workers = min(cores, len(todo))
    done: dict[str, JobResult] = {}

    def finish(result: JobResult) -> None:
        done[result.job] = result
        if on_job is not None:
            on_job(result)

    batches = _Committer(lake, finish)
    try:
        _run_all(todo, lake, source, workers, on_bytes, batches, cores)
    finally:
        batches.close()
    for job in todo:
        if job.name not in done:
            done[job.name] = JobResult(job.name, error="not started: the store is unreachable")
    results.extend(done.values())
    results.sort(key=lambda r: r.job)
    return IngestReport(results, time.perf_counter() - started, vanished)


def _run_all(
    todo: list[JobDir],
    lake: Location,
    source: Location,
    workers: int,
    on_bytes: OnBytes | None,
    batches: _Committer,
    cores: int = 1,
) -> None:
    """Stage every job (here, or in a pool of worker processes) and hand it to the committer;
    stop early once the store is unreachable. Jobs staged here (one job, or one worker) may use
    `cores` processes for a large manifest."""
    if workers <= 1:
        for job in todo:
            result, staged = _run_job(job, lake, source, on_bytes, cores)
            batches.add(result, staged)
            if result.unreachable:
                break
    else:
        context = get_context("spawn")
        reports = context.SimpleQueue() if on_bytes is not None else None
        relay = _relay(reports, on_bytes) if reports is not None else None
        with worker_pool(workers, context, _set_bytes_queue, (reports,)) as pool:
            futures = {pool.submit(_run_job, job, lake, source): job for job in todo}
            for future in as_completed(futures):
                if future.cancelled():
                    continue
                result, staged = _outcome(future, futures[future])
                batches.add(result, staged)
                if result.unreachable:
                    for pending in futures:
                        pending.cancel()
        # Only once every worker has exited: a worker killed in the middle of a report could
        # leave the queue's lock taken (on an interrupt the daemon relay thread is left alone).
        if relay is not None:
            reports.put(None)
            relay.join()


def _relay(reports, on_bytes: OnBytes) -> threading.Thread:
    """A thread handing the workers' byte reports to `on_bytes` until it reads None."""

    def run() -> None:
        while (report := reports.get()) is not None:
            on_bytes(*report)

    thread = threading.Thread(target=run, name="gtlake-progress", daemon=True)
    thread.start()
    return thread


def _check_writable(lake: Location) -> None:
    if lake.is_s3:
        return
    root = lake.root
    if os.path.exists(root) and not os.path.isdir(root):
        raise LakeError(f"lake {lake.url} exists and is not a directory")
    probe = root
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK | os.X_OK):
        raise LakeError(f"lake {lake.url} is not writable")
