"""The tables of a job that do not come from its manifest's lines.

`files` (every object listed under the job directory), `iterations` (one row per intermediate
manifest), `worker_responses` and `consolidation` (parsed from the response and consolidation
files), and `quarantine` rows for response or consolidation files that cannot be read. Small files
are fetched in batches (concurrently on S3, one GET each). A file that is malformed, or vanished
between the listing and the read, is quarantined with `line` null and never fails the job; a file
the store fails to serve fails the job (SourceError naming the file); a store that cannot be
reached raises ConnectionError (naming the file), which stops the whole run early.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from gtlake.consolidation import consolidation_rows, direction_of
from gtlake.errors import SourceError
from gtlake.iterations import count_lines
from gtlake.responses import worker_response_rows
from gtlake.source import JobDir, SourceFile
from gtlake.storage import Location, fetch_all, open_input, store_errors
from gtlake.writer import to_arrow

BATCH = 512  # files fetched per round
RAW_LIMIT = 1 << 20  # characters of a quarantined file kept in `quarantine.raw`
_PARSED_KINDS = ("worker-response", "consolidation-request", "consolidation-response")


def files_rows(job: JobDir) -> list[tuple]:
    """Rows of `files`, by path."""
    return [
        (f.path, f.kind, f.size, f.etag, f.last_modified)
        for f in sorted(job.files, key=lambda f: f.path)
    ]


def iteration_rows(job: JobDir, source: Location, own_attribute: str | None) -> list[tuple]:
    """Rows of `iterations`: each intermediate manifest read once and counted."""
    fs = source.fs() if job.intermediate() else None
    rows = []
    for number, f in job.intermediate():
        path = f"{job.path}/{f.path}"
        try:
            with store_errors(), open_input(fs, path, f.size) as stream:
                counts = count_lines(stream, own_attribute)
        except FileNotFoundError:
            continue  # replaced while the job runs; the next ingest sees the new listing
        except ConnectionError as exc:  # the store, not the file: the run stops early
            raise ConnectionError(f"{path}: {exc}") from None
        except OSError as exc:
            raise SourceError(f"{path}: cannot be read: {exc}") from None
        rows.append((number, f.path, *counts, f.size))
    return rows


def _parsed_rows(f: SourceFile, data: bytes) -> tuple[str, list[tuple]]:
    if f.kind == "worker-response":
        return "worker_responses", worker_response_rows(f.path, data)
    return "consolidation", consolidation_rows(f.path, data, direction_of(f.kind))


def response_tables(job: JobDir, source: Location) -> Iterator[tuple[str, pa.Table]]:
    """`worker_responses`, `consolidation` and `quarantine` tables, a batch of files at a time."""
    wanted = sorted((f for f in job.files if f.kind in _PARSED_KINDS), key=lambda f: f.path)
    if not wanted:
        return
    fs = source.fs()
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        contents = fetch_all(fs, [f"{job.path}/{f.path}" for f in batch])
        out: dict[str, list[tuple]] = {t: [] for t in ("worker_responses", "consolidation")}
        out["quarantine"] = []
        for f, data in zip(batch, contents, strict=True):
            if isinstance(data, FileNotFoundError):
                out["quarantine"].append(_bad(f, "file vanished between listing and read", ""))
                continue
            if isinstance(data, ConnectionError):
                raise ConnectionError(f"{job.path}/{f.path}: {data}") from None
            if isinstance(data, Exception):
                raise SourceError(f"{job.path}/{f.path}: cannot be read: {data}") from None
            try:
                table, rows = _parsed_rows(f, data)
            except ValueError as exc:
                text = data[:RAW_LIMIT].decode("utf-8", "backslashreplace")
                out["quarantine"].append(_bad(f, f"{f.kind} file: {exc}", text))
                continue
            out[table].extend(rows)
        for table, rows in out.items():
            if rows:
                yield table, to_arrow(table, rows)


def _bad(f: SourceFile, error: str, raw: str) -> tuple:
    return (f.path, None, None, error, raw)


def job_tables(
    job: JobDir, source: Location, own_attribute: str | None
) -> Iterator[tuple[str, pa.Table]]:
    """Every non-manifest table of the job, as (table, Arrow table) pairs to write."""
    yield "files", to_arrow("files", files_rows(job))
    iterations = iteration_rows(job, source, own_attribute)
    if iterations:
        yield "iterations", to_arrow("iterations", iterations)
    yield from response_tables(job, source)
