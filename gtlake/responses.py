"""Worker-response files: the raw answers of every worker, one row per answer.

A file `annotations/worker-response/iteration-<n>/<object-index>/<timestamp>.json` holds
`{"answers": [{answerContent, workerId, submissionTime, acceptanceTime?, timeSpentInSeconds?,
workerMetadata?}]}`: the 2019 shape has only the first three keys, the newer one all of them. The
iteration and the object index come from the path. A file that breaks this shape raises
`ValueError` with the reason; the caller quarantines the whole file (it never fails the job).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

from gtlake.manifest import BOM

WORKFORCES = ("public", "private", "vendor")
_ITERATION = re.compile(r"(?:^|/)iteration-(\d+)(?:/|$)")
_OBJECT_INDEX = re.compile(r"(?:^|/)iteration-\d+/(\d+)/[^/]+$")


def load_json(data: bytes) -> Any:
    """A whole file as JSON (a leading BOM is allowed); ValueError says why it is not."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise ValueError(f"invalid UTF-8 at byte {bad.start}") from None
        raise ValueError(f"invalid JSON: {exc}") from None


def dump(value: Any) -> str | None:
    """Compact JSON text of a parsed value (None stays None)."""
    return None if value is None else orjson.dumps(value).decode()


def iteration_of(relpath: str) -> int | None:
    """`iteration-<n>` in a path, as a number."""
    match = _ITERATION.search(relpath)
    return int(match.group(1)) if match else None


def object_index_of(relpath: str) -> int | None:
    """The `<object-index>` directory of a worker-response path."""
    match = _OBJECT_INDEX.search(relpath)
    return int(match.group(1)) if match else None


def workforce(worker_id: str | None) -> str | None:
    """`public`, `private` or `vendor` from a worker id such as `public.us-east-1.ABC`."""
    if not isinstance(worker_id, str):
        return None
    prefix = worker_id.split(".", 1)[0].lower()
    return prefix if prefix in WORKFORCES else None


def timestamp(value: Any, key: str) -> datetime | None:
    """A worker time (`2019-04-18T16:11:15Z`, fractions allowed) as an aware UTC datetime."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} is {type(value).__name__}, expected an ISO time string")
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key} {value!r} is not an ISO time") from None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"timeSpentInSeconds is {value!r}, expected a number")
    return float(value)


def worker_response_rows(relpath: str, data: bytes) -> list[tuple]:
    """Rows of `worker_responses` (schema order) for one file; ValueError when it is malformed."""
    doc = load_json(data)
    if not isinstance(doc, dict) or not isinstance(doc.get("answers"), list):
        raise ValueError('expected an object with an "answers" list')
    iteration, index = iteration_of(relpath), object_index_of(relpath)
    rows = []
    for i, answer in enumerate(doc["answers"]):
        if not isinstance(answer, dict):
            raise ValueError(f"answer {i} is not an object")
        try:
            worker = answer.get("workerId")
            if worker is not None and not isinstance(worker, str):
                raise ValueError(f"workerId is {type(worker).__name__}, expected a string")
            rows.append(
                (
                    iteration,
                    index,
                    relpath,
                    i,
                    worker,
                    workforce(worker),
                    timestamp(answer.get("acceptanceTime"), "acceptanceTime"),
                    timestamp(answer.get("submissionTime"), "submissionTime"),
                    _seconds(answer.get("timeSpentInSeconds")),
                    dump(answer.get("answerContent")),
                    dump(answer.get("workerMetadata")),
                )
            )
        except ValueError as exc:
            raise ValueError(f"answer {i}: {exc}") from None
    return rows
