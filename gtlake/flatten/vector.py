"""The vectorised engine: a group of lines that share one set of keys, flattened at once.

Within one job's manifest the lines nearly always have the same keys. For a group of such lines
the label attributes are found once; the `objects` columns are built one column at a time from
the lines' raw spans; for each label attribute, its task type's spec (`gtlake.flatten.spec`) is
compiled to Arrow (`gtlake.flatten.compiled`): values and metadata decoded into typed columns in
one call each, the item tables built with list kernels. Specs the compiler does not take are read
label by label by the reference interpreter, inside the group.

Whenever a group does something unusual (a key whose metadata is a label on some lines only, a
source that is a string on some lines only, a field of another type than the spec says, a value
a check refuses, ...), `flatten_group` returns None and the caller halves the group, down to the
lines it hands to the reference interpreter (`gtlake.flatten.reference`), which quarantines
exactly the offending lines. Both paths give the same rows (tests/test_engine.py).
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any, NamedTuple

import msgspec
import orjson
import pyarrow as pa

from gtlake.errors import LineError
from gtlake.flatten import compiled
from gtlake.flatten.common import created_at, hash_id, human_annotated, label_job, text_or_json
from gtlake.flatten.compiled import Fallback, root_types, supported
from gtlake.flatten.reference import Row, read_label, rows_table
from gtlake.flatten.spec import spec_for
from gtlake.manifest import Parsed
from gtlake.schemas import FILE_SCHEMAS
from gtlake.tasktypes import is_groundtruth_type, normalize_type


class Learned(NamedTuple):
    """What a group teaches about one label attribute (to choose the job's own attribute)."""

    attribute: str
    kind: str
    label_jobs: pa.Array  # string
    created: pa.Array  # timestamp


class GroupRows(NamedTuple):
    objects: pa.Table
    labels: list[pa.Table]
    items: dict[str, list[pa.Table]]  # boxes, classes, ...: Arrow tables
    learned: list[Learned]


class _Head(msgspec.Struct):
    type: Any = None


_heads = msgspec.json.Decoder(list[_Head]).decode
_values = msgspec.json.Decoder(list[Any]).decode


def _array(raws: list) -> bytes:
    """One JSON array from raw spans (copied once): decoded in a single msgspec call."""
    if not raws:
        return b"[]"
    parts = [b","] * (2 * len(raws) + 1)  # [ raw , raw , ... raw ]
    parts[0], parts[-1] = b"[", b"]"
    parts[1::2] = raws
    return b"".join(parts)


def text_column(values: list, pieces: int = 1) -> pa.Array:
    """A `large_string` column from bytes-like values (bytes, `msgspec.Raw` spans of valid UTF-8
    lines), each row the concatenation of `pieces` consecutive values: the text is copied once,
    into the buffer Arrow uses, however large a line is (`pa.array` of bytes would hold a second
    copy next to the Python objects)."""
    data = b"".join(values)  # one value alone: that very bytes object, no copy at all
    lengths = list(map(len, values))
    if pieces > 1:
        lengths = [sum(lengths[i : i + pieces]) for i in range(0, len(lengths), pieces)]
    offsets = pa.array(accumulate(lengths, initial=0), pa.int64())
    return pa.Array.from_buffers(
        pa.large_string(), len(lengths), [None, offsets.buffers()[1], pa.py_buffer(data)]
    )


def _strings(raws: list) -> list | None:
    """A key's values when every one is a string (None when none is); raises _Mixed otherwise."""
    values = _values(_array(raws))
    kinds = {type(v) is str for v in values}
    if kinds == {True}:
        return values
    if kinds == {False}:
        return None
    raise _Mixed


class _Mixed(Exception):
    """The group's lines differ in a way the columnar path does not handle."""


def flatten_group(lines: list[Parsed], own_attribute: str | None) -> GroupRows | None:
    """Rows of lines that all have the same keys, or None when the group needs the slow path."""
    try:
        return _flatten_group(lines, own_attribute)
    except (_Mixed, Fallback, LineError, msgspec.ValidationError, pa.ArrowException):
        return None


def _flatten_group(lines: list[Parsed], own: str | None) -> GroupRows:
    objs = [p.obj for p in lines]
    keys = tuple(objs[0])
    n = len(lines)
    line_numbers = [p.line for p in lines]

    labels: list[tuple[str, str]] = []  # (attribute, metadata key), in key order
    kinds: list[str] = []  # their task types
    for key in keys:
        if not key.endswith("-metadata") or "-metadata" in key[:-9]:
            continue
        raws = _array([o[key] for o in objs])
        try:
            types = {h.type for h in _heads(raws)}
        except msgspec.ValidationError:  # some values are not objects
            types = {v.get("type") if type(v) is dict else None for v in _values(raws)}
        flags = {is_groundtruth_type(t) for t in types}
        if flags == {False}:
            continue
        if flags != {True} or len(types) != 1:
            raise _Mixed
        base = key[:-9]
        kinds.append(normalize_type(types.pop()))
        if base in keys:
            labels.append((base, key))
        elif base + "-ref" in keys:
            labels.append((base + "-ref", key))
        else:
            raise _Mixed  # metadata without its attribute: the slow path quarantines the lines

    label_keys = {k for pair in labels for k in pair}
    source_ref = _strings([o["source-ref"] for o in objs]) if "source-ref" in keys else None
    source = _strings([o["source"] for o in objs]) if "source" in keys else None
    skip = set(label_keys)
    if source_ref is not None:
        skip.add("source-ref")
    if source is not None:
        skip.add("source")
    source_ref = source_ref or [None] * n
    source = source or [None] * n
    oids = [hash_id(r if r is not None else s) for r, s in zip(source_ref, source, strict=True)]
    passthrough = [k for k in keys if k not in skip]
    if passthrough:
        # Each row `{"k1":v1,"k2":v2}` as pieces: `{"k1":`, v1, `,"k2":`, v2, `}`.
        heads = [b"{" + orjson.dumps(passthrough[0]) + b":"]
        heads += [b"," + orjson.dumps(k) + b":" for k in passthrough[1:]]
        pieces = []
        for o in objs:
            for head, key in zip(heads, passthrough, strict=True):
                pieces.append(head)
                pieces.append(o[key])
            pieces.append(b"}")
        attributes = text_column(pieces, 2 * len(passthrough) + 1)
    else:
        attributes = pa.array([b"{}"] * n, pa.large_string())
    objects = pa.Table.from_arrays(
        [
            pa.array(line_numbers, pa.int64()),
            pa.array(oids, pa.string()),
            pa.array(source_ref, pa.string()),
            pa.array(source, pa.large_string()),
            attributes,
            text_column([p.data for p in lines]),
        ],
        schema=FILE_SCHEMAS["objects"],
    )

    tables, items, learned = [], {}, []
    prefix = {"line": objects.column("line"), "object_id": objects.column("object_id")}
    for (attribute, metadata_key), kind in zip(labels, kinds, strict=True):
        meta_raws = [o[metadata_key] for o in objs]
        value_raws = [o[attribute] for o in objs]
        spec = spec_for(kind)
        if supported(spec) or compiled.entries_supported(spec):
            meta = compiled.decode(meta_raws, root_types(spec)[1])
            common = compiled.meta_columns(meta)
            if supported(spec):
                facts, found = compiled.build(spec, value_raws, meta_raws, meta, source)
            else:
                facts, found = compiled.build_entries(spec, value_raws, meta_raws)
            if found is not None:
                table, columns, parent = found
                take = pa.array(parent)
                columns.update({k: v.take(take) for k, v in prefix.items()})
                columns["attribute"] = pa.array([attribute] * len(parent), pa.string())
                schema = FILE_SCHEMAS[table]
                items.setdefault(table, []).append(
                    pa.Table.from_arrays([columns[c] for c in schema.names], schema=schema)
                )
        else:
            metas = _values(_array(meta_raws))
            common = _common(metas)
            item_tables, facts = _label_items(
                kind, value_raws, metas, source, line_numbers, oids, attribute
            )
            for table, data in item_tables.items():
                items.setdefault(table, []).append(data)
        schema = FILE_SCHEMAS["labels"]
        columns = {
            **prefix,
            "attribute": pa.array([attribute] * n, pa.string()),
            "metadata_key": pa.array([metadata_key] * n, pa.string()),
            "label_type": pa.array([kind] * n, pa.string()),
            "is_inherited": pa.array([attribute != own] * n, pa.bool_()),
            "value": text_column(value_raws),
            "metadata": text_column(meta_raws),
            "confidence": pa.nulls(n, pa.float64()),
            "class_id": pa.nulls(n, pa.int64()),
            "class_name": pa.nulls(n, pa.string()),
            **common,
            **facts,
        }
        columns = [columns[c].cast(schema.field(c).type) for c in schema.names]
        tables.append(pa.Table.from_arrays(columns, schema=schema))
        learned.append(Learned(attribute, kind, common["label_job"], common["created_at"]))
    return GroupRows(objects, tables, items, learned)


def _common(metas: list[dict]) -> dict[str, pa.Array]:
    """The common label columns of decoded metadata, read one label at a time."""
    schema = FILE_SCHEMAS["labels"]
    return {
        "label_job": pa.array([label_job(m) for m in metas], pa.string()),
        "human_annotated": pa.array([human_annotated(m) for m in metas], pa.bool_()),
        "created_at": pa.array([created_at(m) for m in metas], schema.field("created_at").type),
        "adjustment_status": pa.array(
            [text_or_json(m.get("adjustment-status")) for m in metas], pa.string()
        ),
    }


_LABEL_FACTS = ("confidence", "class_id", "class_name", "warning")


def _label_items(
    kind: str,
    values: list,
    metas: list[dict],
    sources: list,
    lines: list[int],
    oids: list,
    attribute: str,
) -> tuple[dict[str, pa.Table], dict[str, pa.Array]]:
    """The item tables of one label attribute over a group of lines, and the label columns its
    type gives (confidence, class, warning)."""
    values = _values(_array(values))
    by_table: dict[str, list[Row]] = {}
    columns: dict[str, list] = {name: [] for name in _LABEL_FACTS}
    for line, oid, value, meta, source in zip(lines, oids, values, metas, sources, strict=True):
        facts = read_label(kind, value, meta, source)
        for name in _LABEL_FACTS[:3]:
            columns[name].append(facts.label.get(name))
        columns["warning"].append(facts.warning)
        for table, row in facts.items:
            row["line"], row["object_id"], row["attribute"] = line, oid, attribute
            by_table.setdefault(table, []).append(row)
    schema = FILE_SCHEMAS["labels"]
    arrays = {name: pa.array(columns[name], schema.field(name).type) for name in _LABEL_FACTS}
    return {t: rows_table(t, rows) for t, rows in by_table.items()}, arrays
