"""The reference interpreter of the task-type specs: one label, one line at a time, in Python.

It is the authority on every rule: the vectorised engine (:mod:`gtlake.flatten.vector`) hands it
whatever it does not take in one piece (an odd shape, a wrong type, a line that breaks a rule),
and the tests check that both give the same rows. Rows are dicts keyed by the schema's column
names.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec
import orjson
import pyarrow as pa

from gtlake.errors import LineError
from gtlake.flatten.common import (
    Label,
    created_at,
    find_labels,
    hash_id,
    human_annotated,
    json_text,
    label_job,
    plain,
    text_or_json,
)
from gtlake.flatten.spec import (
    FIRST,
    GENERIC,
    At,
    Index,
    Items,
    Lookup,
    Paired,
    Shared,
    SingleClass,
    Slice,
    Source,
    TaskSpec,
    spec_for,
)
from gtlake.schemas import FILE_SCHEMAS
from gtlake.tasktypes import (
    _kind,
    as_dict,
    as_list,
    class_index,
    decode_raw,
    integer,
    normalize_type,
    number,
    paired_confidences,
)

Row = dict[str, Any]


class Facts(NamedTuple):
    """What one label gives: its own columns (confidence, class), a warning, its item rows."""

    label: Row
    warning: str | None
    items: list[tuple[str, Row]]


class LineRows(NamedTuple):
    object: Row  # the `objects` row without `raw` (the reader adds the line itself)
    labels: list[Row]
    items: list[tuple[str, Row]]  # (table, row) for boxes, classes, segments, entities, ...


# -- checks -----------------------------------------------------------------------------------


def _string(value: Any, what: str, expected: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise LineError(f"{what} is {_kind(value)}, expected {expected}")


CHECK = {
    "any": lambda v, what: v,
    "number": number,
    "integer": integer,
    "class": class_index,
    "class?": lambda v, what: None if v is None else class_index(v, what),
    "name": lambda v, what: v if isinstance(v, str) else None,
    "string": lambda v, what: _string(v, what, "a string"),
    "text": lambda v, what: text_or_json(v),
    "uri": lambda v, what: _string(v, what, "an S3 URI string"),
    "object": as_dict,
    "list": as_list,
}


def map_key(raw: Any) -> str:
    """A class index as the key of a class map: `0` -> "0", `" 5 "` -> "5"."""
    return raw.strip() if isinstance(raw, str) else str(raw)


# -- reading one label ------------------------------------------------------------------------


class _Scope(NamedTuple):
    value: Any
    meta: dict
    source: Any
    item: Any = None
    key: Any = None
    i: int = 0


def _walk(at: At, scope: _Scope) -> Any:
    """The field `at` names: each step below the root must be an object (null reads as {})."""
    node = getattr(scope, at.root)
    names = ["label value" if at.root == "value" else at.root, *at.path]
    for n, step in enumerate(at.path):
        if step == FIRST:
            node = (node[0] if node else None) if isinstance(node, list) else node
            continue
        node = as_dict(node, names[n] if n == 0 or names[n] != FIRST else names[n - 1])
        found = node.get(step)
        for alias in at.alias:
            if found is None:
                found = node.get(alias)
        node = found
    return node


def _read(at: At, scope: _Scope) -> Any:
    what = at.what.format(i=scope.i, key=scope.key) if "{" in at.what else at.what
    return CHECK[at.check](_walk(at, scope), what or ".".join(at.path))


def read_label(kind: str, value: Any, meta: dict, source: Any) -> Facts:
    """The facts of one label of task type `kind`; `value` is a Raw span or a Python value."""
    if type(value) is msgspec.Raw:
        value = decode_raw(value)
    spec = spec_for(kind)
    if spec.requires is not None and meta.get(spec.requires) is None:
        spec = GENERIC
    return interpret(spec, value, meta, source)


def interpret(spec: TaskSpec, value: Any, meta: dict, source: Any) -> Facts:
    scope = _Scope(value, meta, source)
    for check in spec.checks:
        _read(check, scope)
    label: Row = {}
    for column, src in spec.label.items():
        if not isinstance(src, Shared):
            label[column] = _label_source(src, scope)
    rows, warning = _items(spec.items, scope) if spec.items is not None else ([], None)
    for column, src in spec.label.items():
        if isinstance(src, Shared):
            seen = {row[src.column] for row in rows}
            label[column] = seen.pop() if len(seen) == 1 else None
    table = spec.items.table if spec.items is not None else ""
    return Facts(label, warning, [(table, row) for row in rows])


def _label_source(src: Source, scope: _Scope) -> Any:
    if isinstance(src, At):
        return _read(src, scope)
    if isinstance(src, SingleClass):
        return _single_class(src, scope.meta)
    raise TypeError(f"{type(src).__name__} is not a label-level source")


def _single_class(src: SingleClass, meta: dict) -> Any:
    """Video and point-cloud tracking: the label's class when its class map has exactly one."""
    classes = None
    for key in src.maps:
        if classes is None:
            classes = meta.get(key)
    fallback = None if src.part == "id" else CHECK["name"](meta.get("class-name"), "")
    if not isinstance(classes, dict) or len(classes) != 1:
        return fallback
    key, name = next(iter(classes.items()))
    try:
        cid = class_index(key, "class-map key")
    except LineError:  # the sequence file holds the labels; the line loads whatever its map
        return fallback
    return cid if src.part == "id" else CHECK["name"](name, "")


def _items(spec: Items, scope: _Scope) -> tuple[list[Row], str | None]:
    if spec.reader is not None:
        return spec.reader(scope.value, scope.meta, scope.source)
    container = _read(spec.over, scope)
    entries = list(container.items() if spec.shape == "entries" else enumerate(container))
    count = len(entries)
    # label-level parts of the item columns, in declaration order: constants, maps, pairings
    constant: Row = {}
    maps: dict[str, dict] = {}
    paired: dict[str, list] = {}
    warning = None
    for column, src in spec.columns.items():
        if isinstance(src, At) and src.root in ("value", "meta", "source"):
            constant[column] = _read(src, scope)
        elif isinstance(src, Lookup):
            maps[column] = _read(src.map, scope)
        elif isinstance(src, Paired):
            paired[column], warning = paired_confidences(scope.meta, src.list_key, count, src.noun)
    rows = []
    for n, (key, item) in enumerate(entries):
        i = n
        here = scope._replace(item=item, key=key if spec.shape == "entries" else None, i=i)
        if spec.shape == "objects":
            as_dict(item, spec.item.format(i=i))
        elif spec.shape == "entries":
            as_dict(item, spec.item.format(key=key))
        row: Row = {}
        raw: Row = {}
        for column, src in spec.columns.items():
            if column in constant:
                row[column] = constant[column]
            elif isinstance(src, At):
                raw[column] = _walk(src, here)
                row[column] = _read(src, here)
            elif isinstance(src, Index):
                row[column] = n
            elif isinstance(src, Paired):
                row[column] = paired[column][n]
            elif isinstance(src, Lookup):
                given = raw.get(src.key)
                if given is None:
                    row[column] = None
                    continue
                text = map_key(given)
                what = src.what.format(key=text) if src.what else ""
                row[column] = CHECK[src.check](maps[column].get(text), what)
            elif isinstance(src, Slice):
                text = _read(src.text, here)
                start, end = row[src.start], row[src.end]
                known = text is not None and start is not None and end is not None
                row[column] = text[start:end] if known else None
        rows.append(row)
    return rows, warning


# -- reading one line -------------------------------------------------------------------------


def flatten_line(line: int, obj: dict[str, Any], own_attribute: str | None) -> LineRows:
    """Rows of one parsed line. Raises LineError when the line breaks a Ground Truth rule."""
    labels = find_labels(obj)
    return line_rows(line, obj, own_attribute, labels)


def line_rows(line: int, obj: dict[str, Any], own: str | None, labels: list[Label]) -> LineRows:
    label_keys = {key for label in labels for key in (label.attribute, label.metadata_key)}
    source_ref = plain(obj.get("source-ref"))
    source = plain(obj.get("source"))
    source_ref = source_ref if isinstance(source_ref, str) else None
    source = source if isinstance(source, str) else None
    oid = hash_id(source_ref if source_ref is not None else source)
    passthrough = [
        (k, v)
        for k, v in obj.items()
        if k not in label_keys
        and not (k == "source-ref" and source_ref is not None)
        and not (k == "source" and source is not None)
    ]
    object_row = {
        "line": line,
        "object_id": oid,
        "source_ref": source_ref,
        "source": source,
        "attributes": object_text(passthrough),
    }
    prefix = {"line": line, "object_id": oid}
    label_rows: list[Row] = []
    items: list[tuple[str, Row]] = []
    for attribute, metadata_key, meta in labels:
        kind = normalize_type(meta["type"])
        raw_value = obj[attribute]
        try:
            facts = read_label(kind, raw_value, meta, source)
            row = {
                **prefix,
                "attribute": attribute,
                "metadata_key": metadata_key,
                "label_job": label_job(meta),
                "label_type": kind,
                "is_inherited": attribute != own,
                "human_annotated": human_annotated(meta),
                "created_at": created_at(meta),
                "confidence": None,
                "class_id": None,
                "class_name": None,
                **facts.label,
                "adjustment_status": text_or_json(meta.get("adjustment-status")),
                "value": json_text(raw_value),
                "metadata": json_text(obj[metadata_key]),
                "warning": facts.warning,
            }
        except LineError as exc:
            raise LineError(f"label {attribute!r} ({kind}): {exc}") from None
        label_rows.append(row)
        for table, item in facts.items:
            item.update(prefix)
            item["attribute"] = attribute
            items.append((table, item))
    return LineRows(object_row, label_rows, items)


def object_text(pairs: list[tuple[str, Any]]) -> str:
    """The passthrough keys as one JSON object, each value kept as its original text."""
    if not pairs:
        return "{}"
    parts = [orjson.dumps(k).decode() + ":" + json_text(v) for k, v in pairs]
    return "{" + ",".join(parts) + "}"


def rows_table(table: str, rows: list[Row], extra: dict[str, pa.Array] | None = None) -> pa.Table:
    """Named rows (dicts keyed by column name) as an Arrow table of `table`'s schema; `extra`
    gives whole columns (the `objects.raw` text) instead."""
    schema = FILE_SCHEMAS[table]
    if not extra:
        return pa.Table.from_pylist(rows, schema=schema)
    names = [name for name in schema.names if name not in extra]
    columns = {n: pa.array([row.get(n) for row in rows], schema.field(n).type) for n in names}
    columns.update(extra)
    return pa.Table.from_arrays([columns[n] for n in schema.names], schema=schema)
