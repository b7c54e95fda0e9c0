"""What every label attribute shares: finding the labels of a line, the common metadata fields,
the object id, and the line rebuilt from its stored columns (`gtlake export`).

Ground Truth writes, for each label attribute ``A``, the keys ``A`` (or ``A-ref``) and
``A-metadata`` (``A-ref-metadata`` in real reference outputs). A key is a label attribute only when
its metadata is an object whose ``type`` starts with ``groundtruth/``; every other key is passed
through untouched into ``objects.attributes`` (``textract-ref``, ``annotator-metadata``, hand-made
pre-labels, ...).

A line arrives as a dict whose values are either plain Python values or ``msgspec.Raw`` spans of the
original JSON text (the manifest reader splits each line only at its top level). Raw values are
decoded only where a column needs them, and passthrough keys, label values and metadata are stored
as their original text, so nothing is re-serialised on the hot path and nothing can change.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
import orjson

from gtlake.errors import LineError
from gtlake.tasktypes import decode_raw, is_groundtruth_type

SOURCE_KEYS = ("source-ref", "source")
_JOB_PREFIX = "labeling-job/"
_Raw = msgspec.Raw
_decode = decode_raw


def plain(value: Any) -> Any:
    """A value as a Python object (decoding a Raw span)."""
    return _decode(value) if type(value) is _Raw else value


def json_text(value: Any) -> str:
    """A value as JSON text: a Raw span's original text, else compact JSON."""
    if type(value) is _Raw:
        return bytes(value).decode()
    return orjson.dumps(value).decode()


class Label(NamedTuple):
    attribute: str  # the key holding the value: `bounding-box`, `city-streets-ref`
    metadata_key: str  # `bounding-box-metadata`, `city-streets-metadata`, `x-ref-metadata`
    metadata: dict


def find_labels(obj: dict[str, Any]) -> list[Label]:
    """The label attributes of a line, in key order."""
    labels = []
    for key, meta in obj.items():
        if not key.endswith("-metadata"):
            continue
        if type(meta) is _Raw:
            meta = _decode(meta)
        if type(meta) is not dict or not is_groundtruth_type(meta.get("type")):
            continue
        base = key[:-9]
        if "-metadata" in base:  # label attribute names never contain -metadata
            continue
        if base in obj:
            labels.append(Label(base, key, meta))
        elif base + "-ref" in obj:
            labels.append(Label(base + "-ref", key, meta))
        else:
            raise LineError(f"label metadata {key!r} has no label attribute {base!r}")
    return labels


def meta_field(meta: dict, name: str) -> Any:
    """A metadata field, also under its older snake_case spelling (`job_name`)."""
    value = meta.get(name)
    return meta.get(name.replace("-", "_")) if value is None else value


def label_job(meta: dict) -> str | None:
    name = meta_field(meta, "job-name")
    if not isinstance(name, str):
        return None
    return name[len(_JOB_PREFIX) :] if name.startswith(_JOB_PREFIX) else name


def created_at(meta: dict) -> datetime | None:
    """`creation-date` has no timezone and is UTC; a `Z` or an offset is honoured."""
    text = meta_field(meta, "creation-date")
    if text is None:
        return None
    if not isinstance(text, str):
        raise LineError(f"creation-date is {type(text).__name__}, expected an ISO date string")
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError as exc:
        raise LineError(f"creation-date {text!r} is not an ISO date") from exc
    return stamp if stamp.tzinfo is None else stamp.astimezone(UTC).replace(tzinfo=None)


def human_annotated(meta: dict) -> bool | None:
    value = meta_field(meta, "human-annotated")
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in ("yes", "no"):
        return value.lower() == "yes"
    raise LineError(f"human-annotated is {value!r}, expected 'yes' or 'no'")


def object_id(obj: dict[str, Any]) -> str | None:
    """A stable 64-bit hash (hex) of the data object's `source-ref`, else its `source`."""
    for key in SOURCE_KEYS:
        value = plain(obj.get(key))
        if isinstance(value, str):
            return hash_id(value)
    return None


def hash_id(text: str | None) -> str | None:
    return None if text is None else hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def text_or_json(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else orjson.dumps(value).decode()


def rebuild_line(
    source_ref: str | None,
    source: str | None,
    attributes: str,
    labels: list[tuple[str, str, str, str]],
) -> dict[str, Any]:
    """The inverse of flattening: the line as a dict, from the stored columns.

    ``labels`` holds (attribute, metadata_key, value JSON, metadata JSON) per label.
    """
    obj: dict[str, Any] = {}
    if source_ref is not None:
        obj["source-ref"] = source_ref
    if source is not None:
        obj["source"] = source
    obj.update(loads(attributes))
    for attribute, metadata_key, value, metadata in labels:
        obj[attribute] = loads(value)
        obj[metadata_key] = loads(metadata)
    return obj


def rebuild_text(
    source_ref: str | None,
    source: str | None,
    attributes: str,
    labels: list[tuple[str, str, str, str]],
) -> bytes:
    """The line as JSON text, from the stored columns: :func:`rebuild_line` without parsing.

    Every value is the stored text of the original line, so numbers come back exactly as
    written (`1e999`, integers beyond 64 bits, `0.10000000000000000001`), which no round trip
    through Python or JSON library numbers guarantees.
    """
    parts = []
    if source_ref is not None:
        parts.append(b'"source-ref":' + orjson.dumps(source_ref))
    if source is not None:
        parts.append(b'"source":' + orjson.dumps(source))
    inner = attributes.strip()[1:-1].strip()  # `{...}`, as `object_text` writes it
    if inner:
        parts.append(inner.encode())
    for attribute, metadata_key, value, metadata in labels:
        parts.append(orjson.dumps(attribute) + b":" + value.encode())
        parts.append(orjson.dumps(metadata_key) + b":" + metadata.encode())
    return b"{" + b",".join(parts) + b"}"


def loads(text: str | bytes) -> Any:
    """Parse stored JSON text; the standard library takes what orjson refuses (ints > 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
