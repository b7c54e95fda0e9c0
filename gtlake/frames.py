"""The files that video and point-cloud labels refer to: resolve, fetch (or keep), flatten.

A video or point-cloud label's value is the URI of a sequence file (`<attr>-ref`, usually
`s3://.../<job>/annotations/consolidated-annotation/output/<index>/SeqLabel.json`). The file is
looked for in the job's own directory: the part of the URI after `/<job>/`, so a source copied to
another bucket or to a local tree still works. When the URI does not name the job (a renamed job
directory), the job's own label attribute is still resolved from its `annotations/` part; a label
inherited from an earlier job (an adjustment job's input) refers to that job's directory and its
rows are that job's: they are not read again here.

Incremental: a referenced file whose size and ETag (modification time for local files) are those
recorded in the lake's `files` table, and whose rows the lake holds, is not fetched again; its
rows are kept, re-stamped with the line that refers to it now. The others are fetched
concurrently (one GET each on S3, no HEAD; a plain read each locally) and parsed a batch at a
time by :mod:`gtlake.sequence_batch`; a file it refuses goes through
:func:`gtlake.sequences.parse_sequence`, the reference (every file does with
`GTLAKE_REFERENCE`). A file that is not under the job directory, cannot be read or is not a
sequence file becomes a `quarantine` row (file = its path under the job directory, line null)
with the reason; the line that refers to it is loaded all the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from gtlake.errors import LineError, SourceError
from gtlake.schemas import FRAME_TABLES
from gtlake.sequence_batch import Label, Labels, Parsed, parse_batch, stamp_batch
from gtlake.sequences import parse_sequence, stamp, stamp_frames
from gtlake.snapshot import read_job
from gtlake.source import JobDir, SourceFile
from gtlake.storage import Location, fetch_all
from gtlake.writer import to_arrow

BATCH = 256  # files fetched per round
KEEP_BATCH = 4096  # unchanged files whose rows are kept, per round
RAW_LIMIT = 1 << 20  # characters of a quarantined file kept in `quarantine.raw`
REF_TYPES = ("video-", "point-cloud-")  # label types whose `-ref` may be a sequence file
_ANNOTATIONS = "annotations/"
# set (to anything): every sequence file through the reference path (gtlake.ingest's switch too)
REFERENCE_ONLY = "GTLAKE_REFERENCE"


class Reference(NamedTuple):
    """A label that refers to a sequence file."""

    line: int
    object_id: str | None
    attribute: str
    label_type: str
    uri: str
    metadata: str  # the label's metadata, JSON text


def references(labels: pa.Table) -> list[Reference]:
    """The labels of a block (a `labels` table) whose value is a sequence file's URI."""
    kinds = labels["label_type"]
    wanted = pc.or_(*(pc.starts_with(kinds, prefix) for prefix in REF_TYPES))
    chosen = labels.filter(pc.fill_null(wanted, False))
    if chosen.num_rows == 0:
        return []
    out = []
    names = ("line", "object_id", "attribute", "label_type", "value", "metadata")
    for row in chosen.select(list(names)).to_pylist():
        try:
            uri = orjson.loads(row["value"])
        except orjson.JSONDecodeError:
            continue
        if isinstance(uri, str) and uri.lower().endswith(".json"):
            out.append(Reference(row["line"], row["object_id"], row["attribute"],
                                 row["label_type"], uri, row["metadata"]))  # fmt: skip
    return out


def resolve(uri: str, job: str, own: bool) -> str | None:
    """The path under the job directory that `uri` names, or None when it is another job's."""
    marker = f"/{job}/"
    at = uri.rfind(marker)
    if at >= 0:
        return uri[at + len(marker) :]
    if own:
        at = uri.find("/" + _ANNOTATIONS)
        if at >= 0:
            return uri[at + 1 :]
    return None


def _unchanged(now: SourceFile, before: dict | None) -> bool:
    if before is None:
        return False
    return (now.size, now.etag, now.last_modified) == (
        before["size"], before["etag"], before["last_modified"],
    )  # fmt: skip


class _Previous:
    """What the lake holds for the job from its last ingest: `files` and the frame tables."""

    def __init__(self, lake: Location, job: str) -> None:
        files = read_job(lake, "files", job, ["path", "size", "etag", "last_modified"])
        self.files = {r["path"]: r for r in files.to_pylist()}
        self.tables = {t: read_job(lake, t, job).combine_chunks() for t in FRAME_TABLES}
        self.by_file: dict[str, dict[str, list[int]]] = {}  # table -> file -> row indexes
        for table, data in self.tables.items():
            index: dict[str, list[int]] = {}
            first: dict[str, tuple] = {}  # the first label that referred to the file
            names = ("line", "object_id", "attribute")
            prefixes = zip(*(data[c].to_pylist() for c in names), strict=True)
            for i, (file, prefix) in enumerate(
                zip(data["file"].to_pylist(), prefixes, strict=True)
            ):
                if first.setdefault(file, prefix) == prefix:
                    index.setdefault(file, []).append(i)
            self.by_file[table] = index
        self.loaded = set(self.by_file["frames"])

    def rows(self, table: str, path: str) -> list[tuple]:
        """The rows `path` gave (those of the first label that referred to it)."""
        indexes = self.by_file[table].get(path)
        if not indexes:
            return []
        data = self.tables[table].take(pa.array(indexes, pa.int64()))
        return list(zip(*(data[c].to_pylist() for c in data.column_names), strict=True))

    def parsed(self, paths: list[str]) -> Parsed:
        """The rows of `paths`, as the fast path gives a batch's rows (to be stamped)."""
        tables, starts = {}, {}
        for table in FRAME_TABLES:
            take: list[int] = []
            starts[table] = [0]
            for path in paths:
                take += self.by_file[table].get(path, ())
                starts[table].append(len(take))
            tables[table] = self.tables[table].take(pa.array(take, pa.int64()))
        return Parsed(list(range(len(paths))), tables, starts)


def frame_tables(
    job: JobDir, source: Location, lake: Location, refs: list[Reference], own: str | None
) -> Iterator[tuple[str, pa.Table]]:
    """`frames`, `frame_boxes`, `cuboids` and `quarantine` tables of the job's sequence files."""
    listed = {f.path: f for f in job.files}
    wanted: dict[str, list[Reference]] = {}
    bad: list[tuple] = []
    for ref in refs:
        path = resolve(ref.uri, job.name, ref.attribute == own)
        if path is None:
            continue
        if path not in listed:
            if path not in wanted:
                bad.append(_bad(path, f"{_who(ref)}: no such file under the job directory"))
            wanted.setdefault(path, [])
            continue
        wanted.setdefault(path, []).append(ref)
    wanted = {p: r for p, r in wanted.items() if r}
    if not wanted:
        if bad:
            yield "quarantine", to_arrow("quarantine", bad)
        return
    previous = _Previous(lake, job.name)
    keep, fetch = [], []
    for path in sorted(wanted):
        before = previous.files.get(path)
        if path in previous.loaded and _unchanged(listed[path], before):
            keep.append(path)
        else:
            fetch.append(path)
    pending = _Pending()
    fast = not os.environ.get(REFERENCE_ONLY)
    for start in range(0, len(keep) if fast else 0, KEEP_BATCH):
        kept = keep[start : start + KEEP_BATCH]
        pending.add_batch(previous.parsed(kept), [(n, wanted[p]) for n, p in enumerate(kept)])
        yield from pending.full()
    for path in keep if not fast else ():  # the reference: row by row
        parsed = {t: previous.rows(t, path) for t in FRAME_TABLES}
        pending.add(parsed, wanted[path])
        yield from pending.full()
    fs = source.fs() if fetch else None
    for start in range(0, len(fetch), BATCH):
        batch = fetch[start : start + BATCH]
        contents = fetch_all(fs, [f"{job.path}/{p}" for p in batch])
        readable = [i for i, data in enumerate(contents) if isinstance(data, bytes)]
        parsed = None
        if fast and readable:
            parsed = parse_batch([batch[i] for i in readable], [contents[i] for i in readable])
        taken = {readable[k]: n for n, k in enumerate(parsed.accepted)} if parsed else {}
        run: list[tuple[int, list[Reference]]] = []  # fast-path files not added yet, in order
        for i, (path, data) in enumerate(zip(batch, contents, strict=True)):
            refs_here = wanted[path]
            if i in taken:
                run.append((taken[i], refs_here))
                continue
            if run:  # the files before this one first: rows stay in file order
                pending.add_batch(parsed, run)
                run = []
            if isinstance(data, FileNotFoundError):
                bad.append(_bad(path, f"{_who(refs_here[0])}: vanished before it was read"))
                continue
            if isinstance(data, ConnectionError):
                raise SourceError(f"{job.path}/{path}: cannot be read: {data}") from None
            if isinstance(data, Exception):
                bad.append(_bad(path, f"{_who(refs_here[0])}: cannot be read: {data}"))
                continue
            try:
                rows = parse_sequence((None, None, None), path, data)
            except (LineError, ValueError) as exc:
                text = data[:RAW_LIMIT].decode("utf-8", "backslashreplace")
                bad.append(_bad(path, f"{_who(refs_here[0])}: not a sequence file: {exc}", text))
                continue
            if not rows.frames:
                bad.append(_bad(path, f"{_who(refs_here[0])}: the sequence file has no frames"))
                continue
            pending.add(rows._asdict(), refs_here)
        if run:
            pending.add_batch(parsed, run)
        yield from pending.full()
    yield from pending.flush()
    if bad:
        yield "quarantine", to_arrow("quarantine", bad)


class _Pending:
    """Stamped rows gathered over many sequence files and written as one table each: a table per
    file would make a Parquet row group per file (a video job has one file per line). Rows come
    as tuples (the reference path, kept rows) or as Arrow tables (the fast path), kept in order."""

    ROWS = 65_536  # rows gathered before a table is made

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = {t: [] for t in FRAME_TABLES}
        self.tables: dict[str, list[pa.Table]] = {t: [] for t in FRAME_TABLES}
        self.count: dict[str, int] = dict.fromkeys(FRAME_TABLES, 0)

    def add(self, parsed: dict[str, list[tuple]], refs: list[Reference]) -> None:
        for ref in refs:
            prefix = (ref.line, ref.object_id, ref.attribute)
            meta = _meta(ref)
            for table in FRAME_TABLES:
                rows = parsed[table]
                if not rows:
                    continue
                if table == "frames":
                    rows = stamp_frames(rows, prefix)
                else:
                    rows = stamp(table, rows, prefix, meta)
                self.rows[table] += rows
                self.count[table] += len(rows)

    def add_batch(self, parsed: Parsed, run: list[tuple[int, list[Reference]]]) -> None:
        """The rows of consecutive fast-path files (positions in `parsed.accepted`) for each
        label that refers to them."""
        first, last = run[0][0], run[-1][0]
        labels = Labels([[_label(ref) for ref in refs] for _, refs in run])
        for table in FRAME_TABLES:
            starts = parsed.starts[table]
            if starts[last + 1] == starts[first]:
                continue
            data = parsed.tables[table].slice(starts[first], starts[last + 1] - starts[first])
            here = [s - starts[first] for s in starts[first : last + 2]]
            self._table(table, stamp_batch(table, data, here, labels))

    def _table(self, table: str, data: pa.Table) -> None:
        if self.rows[table]:
            self.tables[table].append(to_arrow(table, self.rows[table]))
            self.rows[table] = []
        self.tables[table].append(data)
        self.count[table] += data.num_rows

    def _take(self, table: str) -> pa.Table:
        if self.rows[table]:
            self.tables[table].append(to_arrow(table, self.rows[table]))
        tables, self.tables[table], self.rows[table] = self.tables[table], [], []
        self.count[table] = 0
        return tables[0] if len(tables) == 1 else pa.concat_tables(tables).combine_chunks()

    def full(self) -> Iterator[tuple[str, pa.Table]]:
        """The tables that have gathered enough rows."""
        for table in FRAME_TABLES:
            if self.count[table] >= self.ROWS:
                yield table, self._take(table)

    def flush(self) -> Iterator[tuple[str, pa.Table]]:
        for table in FRAME_TABLES:
            if self.count[table]:
                yield table, self._take(table)


def _meta(ref: Reference) -> dict:
    meta = orjson.loads(ref.metadata)
    return meta if isinstance(meta, dict) else {}


def _label(ref: Reference) -> Label:
    return Label(ref.line, ref.object_id, ref.attribute, _meta(ref))


def _who(ref: Reference) -> str:
    return f"referred to by line {ref.line + 1} ({ref.attribute})"


def _bad(path: str, error: str, raw: str | None = None) -> tuple:
    return (path, None, None, error, raw)
