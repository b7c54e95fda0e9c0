"""Consolidation files: what Ground Truth sent to the consolidation step and what came back.

`annotations/consolidated-annotation/consolidation-request/iteration-<n>/<timestamp>.json` is a
list of `{datasetObjectId, dataObject, annotations: [{workerId, annotationData: {content}}]}`
where `content` is a JSON document encoded as a string; the matching `consolidation-response`
file is a list of `{datasetObjectId, consolidatedAnnotation: {content}}`. Both land in the
`consolidation` table, `direction` telling them apart, with `content` stored parsed (JSON text of
the object, never a string holding JSON), so `content->'$.annotatedResult'` works in SQL.

Grain: one row per worker annotation of a request (one row with null worker when an entry has
none), one row per entry of a response. A malformed file raises `ValueError`; the caller
quarantines it.
"""

from __future__ import annotations

from typing import Any

import orjson

from gtlake.responses import dump, iteration_of, load_json, workforce

REQUEST = "request"
RESPONSE = "response"


def direction_of(kind: str) -> str:
    """`request` or `response` from a `files.kind` (`consolidation-request`, ...)."""
    return REQUEST if kind.endswith("request") else RESPONSE


def parse_content(value: Any, where: str) -> str | None:
    """`content` as JSON text: a string holding JSON is decoded first (JSON inside JSON)."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{where}: content is a string but not JSON: {exc}") from None
    return dump(value)


def _entries(doc: Any) -> list:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and "datasetObjectId" in doc:
        return [doc]
    raise ValueError("expected a list of entries with datasetObjectId")


def _object_id(entry: dict) -> str | None:
    value = entry.get("datasetObjectId")
    return None if value is None else str(value)


def consolidation_rows(relpath: str, data: bytes, direction: str) -> list[tuple]:
    """Rows of `consolidation` (schema order) for one file; ValueError when it is malformed."""
    iteration = iteration_of(relpath)
    rows: list[tuple] = []
    for i, entry in enumerate(_entries(load_json(data))):
        if not isinstance(entry, dict):
            raise ValueError(f"entry {i} is not an object")
        oid = _object_id(entry)
        if direction == RESPONSE:
            consolidated = entry.get("consolidatedAnnotation")
            content = consolidated.get("content") if isinstance(consolidated, dict) else None
            parsed = parse_content(content, f"entry {i}")
            rows.append((iteration, relpath, direction, i, oid, None, None, None, None, parsed))
            continue
        data_object = dump(entry.get("dataObject"))
        annotations = entry.get("annotations") or []
        if not isinstance(annotations, list):
            raise ValueError(f"entry {i}: annotations is not a list")
        if not annotations:
            empty = (None, None, None, None)
            rows.append((iteration, relpath, direction, i, oid, data_object, *empty))
        for j, annotation in enumerate(annotations):
            if not isinstance(annotation, dict):
                raise ValueError(f"entry {i}: annotation {j} is not an object")
            worker = annotation.get("workerId")
            worker = worker if isinstance(worker, str) else None
            payload = annotation.get("annotationData")
            content = payload.get("content") if isinstance(payload, dict) else None
            parsed = parse_content(content, f"entry {i}, annotation {j}")
            rows.append(
                (iteration, relpath, direction, i, oid, data_object, j, worker,
                 workforce(worker), parsed)
            )  # fmt: skip
    return rows
