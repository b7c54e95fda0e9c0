"""A task-type spec compiled to Arrow: decode a column of label values (or metadata) into typed
Arrow arrays with pyarrow's JSON reader, then build the label columns and the item tables with
Arrow kernels (list flattening, `take`, `index_in`), with no Python per label or per item.

pyarrow's reader is strict, which is what makes this exact: a field of the wrong JSON type, an
integer beyond int64, a number beyond float64, a duplicate key... fails the whole decode, and
anything a check rejects beyond the decode (a null class index, a date that is not plainly ISO)
raises :class:`Fallback` too. Either way the caller hands the lines to the reference interpreter,
which accepts them or quarantines exactly the offending ones.

Supported: label-level fields of the value and the metadata, items that are the objects or
values of one list, their index, paired confidences, map lookups and text slices. Specs using
anything else (`entries`, `Shared`, `SingleClass`, a rows reader) are read per label by the
reference interpreter (see `gtlake.flatten.vector`).
"""

from __future__ import annotations

import io
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from gtlake.flatten.reference import CHECK
from gtlake.flatten.spec import FIRST, At, Index, Items, Lookup, Paired, Shared, Slice, TaskSpec
from gtlake.schemas import FILE_SCHEMAS


class Fallback(Exception):
    """These lines need the reference interpreter."""


_TYPES = {
    "number": pa.float64(),
    "integer": pa.int64(),
    "class?": pa.int64(),
    "class": pa.int64(),
    "name": pa.string(),
    "string": pa.string(),
    "uri": pa.string(),
    "text": pa.string(),
}
# Label columns common to every type, from the metadata (older snake_case spellings coalesced).
COMMON_META = {
    "type": pa.string(),
    "job-name": pa.string(),
    "job_name": pa.string(),
    "creation-date": pa.string(),
    "creation_date": pa.string(),
    "human-annotated": pa.string(),
    "human_annotated": pa.string(),
    "adjustment-status": pa.string(),
}


def supported(spec: TaskSpec) -> bool:
    """Whether the whole spec compiles to Arrow."""
    if spec.checks or spec.requires:
        return False
    sources: list[Any] = list(spec.label.values())
    if spec.items is not None:
        items = spec.items
        if items.reader is not None or items.shape == "entries" or items.over is None:
            return False
        if items.over.root not in ("value", "meta") or FIRST in items.over.path:
            return False
        sources += list(items.columns.values())
    for src in sources:
        if isinstance(src, At):
            if src.check not in _TYPES or src.alias or src.root not in ("value", "meta", "item"):
                return False
            if src.root == "item" and FIRST in src.path:
                return False
        elif isinstance(src, Lookup):
            if src.map.root != "meta" or len(src.map.path) != 1 or src.check not in _LOOKUP_TYPES:
                return False
        elif isinstance(src, Slice):
            if src.text.root != "source":
                return False
        elif not isinstance(src, (Index, Paired)):
            return False
    return True


# -- decoding ---------------------------------------------------------------------------------


def _insert(tree: dict, path: tuple[str, ...], leaf: pa.DataType) -> None:
    """Add a field at `path` to a tree of nested dicts (FIRST: a list of the object below)."""
    node = tree
    for step in path[:-1]:
        node = node.setdefault(step, {})
    node[path[-1]] = leaf


def _build(tree: dict | pa.DataType) -> pa.DataType:
    if isinstance(tree, pa.DataType):
        return tree
    if FIRST in tree:
        return pa.list_(_build(tree[FIRST]))
    return pa.struct([pa.field(k, _build(v)) for k, v in tree.items()])


def _item_type(items: Items) -> pa.DataType:
    if items.shape == "scalars":
        (src,) = [s for s in items.columns.values() if isinstance(s, At) and s.root == "item"]
        return _TYPES[src.check]
    tree: dict = {}
    for src in items.columns.values():
        if isinstance(src, At) and src.root == "item":
            _insert(tree, src.path, _TYPES[src.check])
    return _build(tree) if tree else pa.struct([])


def root_types(spec: TaskSpec) -> tuple[pa.DataType | None, pa.DataType]:
    """The Arrow types the value and the metadata decode to (value None: not needed)."""
    trees: dict[str, Any] = {"value": {}, "meta": dict(COMMON_META)}
    scalar_value: pa.DataType | None = None
    sources: list[Any] = list(spec.label.values())
    items = spec.items
    if items is not None and items.shape != "entries":  # entries: see `build_entries`
        sources += list(items.columns.values())
        leaf = pa.list_(_item_type(items))
        if items.over.path:
            _insert(trees[items.over.root], items.over.path, leaf)
        else:
            scalar_value = leaf
    for src in sources:
        if isinstance(src, At) and src.root in ("value", "meta"):
            if src.path:
                _insert(trees[src.root], src.path, _TYPES[src.check])
            else:
                scalar_value = _TYPES[src.check]
        elif isinstance(src, Paired):
            trees["meta"][src.list_key] = pa.list_(pa.struct([(src.field, pa.float64())]))
    value = (
        scalar_value
        if scalar_value is not None
        else (_build(trees["value"]) if trees["value"] else None)
    )
    return value, _build(trees["meta"])


def decode(raws: list, kind: pa.DataType) -> pa.Array:
    """One Arrow array of `kind` from JSON spans, each wrapped as `{"v":<span>}` on its line."""
    parts = [b'{"v":'] * (3 * len(raws))
    parts[1::3] = raws
    parts[2::3] = [b"}\n"] * len(raws)
    data = b"".join(parts)
    options = pj.ParseOptions(
        explicit_schema=pa.schema([("v", kind)]), unexpected_field_behavior="ignore"
    )
    read = pj.ReadOptions(use_threads=False, block_size=max(len(data), 1 << 20) + 1)
    try:
        table = pj.read_json(io.BytesIO(data), read_options=read, parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Fallback(str(exc)) from None
    if table.num_rows != len(raws):
        raise Fallback("row count")
    return table.column("v").combine_chunks()


def decode_class(raws: list) -> pa.Array:
    """Class indexes given as integers or as digit strings (`"0"`, both in real files)."""
    try:
        return decode(raws, pa.int64())
    except Fallback:
        text = decode(raws, pa.string())
    digits = pc.match_substring_regex(text, r"^ *-?[0-9]{1,18} *$")
    if text.null_count or not pc.all(digits).as_py():
        raise Fallback("class index")
    return pc.cast(pc.utf8_trim(text, " "), pa.int64())


# -- columns ----------------------------------------------------------------------------------


def field(array: pa.Array, path: tuple[str, ...]) -> pa.Array:
    """The child at `path` of a struct array (null where a parent is null)."""
    for step in path:
        array = first(array) if step == FIRST else pc.struct_field(array, step)
    return array


def first(lists: pa.Array) -> pa.Array:
    """Each list's first element, null for an empty or null list."""
    counts = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
    flat = pc.list_flatten(lists)
    starts = np.cumsum(counts) - counts
    index = pa.array(starts, pa.int64(), mask=counts == 0)
    return flat.take(index)


def checked(array: pa.Array, check: str) -> pa.Array:
    """What the decode leaves to check: a null class index, an integer of 309 digits and more
    (pyarrow reads it as infinity, the reference says it is beyond a float64)."""
    if check == "class" and array.null_count:
        raise Fallback("null class index")
    if pa.types.is_floating(array.type) and pc.any(pc.is_inf(array)).as_py():
        raise Fallback("a number beyond float64")
    return array


def meta_columns(meta: pa.Array) -> dict[str, pa.Array]:
    """The common label columns, as `gtlake.flatten.common` reads them."""

    def either(name: str) -> pa.Array:
        older = name.replace("-", "_")
        return pc.coalesce(pc.struct_field(meta, name), pc.struct_field(meta, older))

    job = either("job-name")
    prefixed = pc.starts_with(job, "labeling-job/")
    label_job = pc.if_else(prefixed, pc.utf8_slice_codeunits(job, 13), job)
    said = either("human-annotated")
    lowered = pc.ascii_lower(said)
    valid = pc.or_(pc.is_null(said), pc.is_in(lowered, pa.array(["yes", "no"])))
    if not pc.all(valid).as_py():
        raise Fallback("human-annotated")
    human = pc.equal(lowered, "yes")
    dates = either("creation-date")
    iso = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}|\.[0-9]{6})?$"
    if not pc.all(pc.fill_null(pc.match_substring_regex(dates, iso), True)).as_py():
        raise Fallback("creation-date")
    stamp = FILE_SCHEMAS["labels"].field("created_at").type
    created = pc.cast(pc.cast(dates, pa.timestamp("us")), stamp)
    return {
        "type": pc.struct_field(meta, "type"),
        "label_job": label_job,
        "human_annotated": human,
        "created_at": created,
        "adjustment_status": pc.struct_field(meta, "adjustment-status"),
    }


_MAP_READERS: dict[str, msgspec.json.Decoder] = {}


def _map_reader(key: str) -> msgspec.json.Decoder:
    """A decoder of a list of metadata objects that keeps one field, as its JSON text."""
    reader = _MAP_READERS.get(key)
    if reader is None:
        struct = msgspec.defstruct("Only", [("field", msgspec.Raw, None)], rename={"field": key})
        reader = _MAP_READERS[key] = msgspec.json.Decoder(list[struct])
    return reader


_DISTINCT_MAPS = {
    "name": msgspec.json.Decoder(list[dict[str, Any] | None]),
    "number": msgspec.json.Decoder(list[dict[str, float | None] | None]),  # not bool, not text
}


def map_ids(meta_raws: list, key: str, check: str = "name") -> tuple[np.ndarray, list[dict]]:
    """Per line, the index of its distinct `key` map; and the distinct maps, decoded in one call
    (values as `check` wants them: `number` decodes numbers only, refusing anything else)."""
    try:
        tops = _map_reader(key).decode(b"[" + b",".join(meta_raws) + b"]")
    except msgspec.ValidationError as exc:
        raise Fallback(str(exc)) from None
    index: dict[bytes, int] = {}
    ids = np.empty(len(tops), np.int64)
    for n, top in enumerate(tops):
        raw = top.field
        text = b"null" if raw is None else bytes(raw)
        at = index.get(text)
        if at is None:
            at = index[text] = len(index)
        ids[n] = at
    try:
        maps = _DISTINCT_MAPS[check].decode(b"[" + b",".join(index) + b"]")
    except msgspec.ValidationError as exc:  # not an object, a value of another type, 1e400
        raise Fallback(str(exc)) from None
    return ids, [m or {} for m in maps]


_LOOKUP_TYPES = {"name": pa.string(), "number": pa.float64()}


def lookup(src: Lookup, keys: pa.Array, parent: np.ndarray, meta_raws: list) -> pa.Array:
    """`src.map[str(key)]` per item, the map being its own label's (values checked as the
    reference checks them; a value it refuses sends the lines to the reference)."""
    ids, maps = map_ids(meta_raws, src.map.path[0], src.check)
    owners = np.repeat(np.arange(len(maps)), [len(m) for m in maps])
    entry_keys = [k for m in maps for k in m]
    if src.check == "name":
        entry_values = [v if type(v) is str else None for m in maps for v in m.values()]
    else:
        entry_values = [v for m in maps for v in m.values()]
    values = checked(pa.array(entry_values, _LOOKUP_TYPES[src.check]), src.check)
    text = pc.cast(keys, pa.string())
    if len(maps) == 1:
        return values.take(pc.index_in(text, value_set=pa.array(entry_keys, pa.string())))
    entries = pa.table({"m": pa.array(owners), "k": pa.array(entry_keys, pa.string()), "v": values})
    wanted = pa.table(
        {"m": pa.array(ids[parent]), "k": text, "i": pa.array(np.arange(len(parent)))}
    )
    joined = wanted.join(entries, keys=["m", "k"], join_type="left outer")
    return joined.sort_by("i").column("v").combine_chunks()


def build(
    spec: TaskSpec, value_raws: list, meta_raws: list, meta: pa.Array, sources: list
) -> tuple[dict[str, pa.Array], tuple[str, dict[str, pa.Array], np.ndarray] | None]:
    """The label columns the spec gives (confidence, class_id, class_name, warning) and its items:
    (table, columns without the line prefix, the index of each item's label)."""
    n = len(meta_raws)
    value_type, _ = root_types(spec)
    value = None
    if value_type is not None:
        value = (
            decode_class(value_raws)
            if value_type == pa.int64() and _class_value(spec)
            else (decode(value_raws, value_type))
        )
    roots = {"value": value, "meta": meta}
    label: dict[str, pa.Array] = {}
    for column, src in spec.label.items():
        label[column] = checked(field(roots[src.root], src.path), src.check)
    items = spec.items
    if items is None:
        label["warning"] = pa.nulls(n, pa.string())
        return label, None
    lists = field(roots[items.over.root], items.over.path)
    counts = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
    flat = pc.list_flatten(lists)
    parent = np.repeat(np.arange(n), counts)
    total = len(flat)
    columns: dict[str, pa.Array] = {}
    warnings = pa.nulls(n, pa.string())
    for column, src in items.columns.items():
        if isinstance(src, At) and src.root == "item":
            got = flat if items.shape == "scalars" else field(flat, src.path)
            columns[column] = checked(got, src.check)
        elif isinstance(src, At):  # one value per label, repeated for its items
            constant = checked(field(roots[src.root], src.path), src.check)
            columns[column] = constant.take(pa.array(parent))
        elif isinstance(src, Index):
            starts = np.cumsum(counts) - counts
            columns[column] = pa.array(np.arange(total) - np.repeat(starts, counts), pa.int32())
        elif isinstance(src, Paired):
            columns[column], warnings = _paired(src, meta, counts, parent)
    for column, src in items.columns.items():
        if isinstance(src, Lookup):
            columns[column] = lookup(src, columns[src.key], parent, meta_raws)
        elif isinstance(src, Slice):
            columns[column] = _slice(columns[src.start], columns[src.end], sources, parent)
    label["warning"] = warnings
    return label, (items.table, columns, parent)


def _class_value(spec: TaskSpec) -> bool:
    return any(isinstance(s, At) and s.root == "value" and s.check == "class" and not s.path
               for s in spec.label.values())  # fmt: skip


def _paired(
    src: Paired, meta: pa.Array, counts: np.ndarray, parent: np.ndarray
) -> tuple[pa.Array, pa.Array]:
    """Confidences paired by position with the items; a count mismatch is a warning."""
    lists = pc.struct_field(meta, src.list_key)
    given = pc.list_value_length(lists)
    has = pc.is_valid(given).to_numpy(zero_copy_only=False)
    given_n = pc.fill_null(given, 0).to_numpy()
    ok = has & (given_n == counts)
    values = checked(pc.struct_field(pc.list_flatten(lists), src.field), "number")
    keep = np.repeat(ok, given_n)
    chosen = values.filter(pa.array(keep)) if len(values) else values
    out = pa.nulls(len(parent), pa.float64())
    if len(chosen):
        out = pc.replace_with_mask(out, pa.array(ok[parent]), chosen)
    warnings: list[str | None] = [None] * len(counts)
    bad = np.flatnonzero(~ok & ((counts > 0) | has))
    for i in bad.tolist():  # only the labels whose counts differ
        count, key, noun = int(counts[i]), src.list_key, src.noun
        found = f"{int(given_n[i])} {key}[]" if has[i] else f"no {key}[]"
        warnings[i] = f"{count} {noun} but {found} confidences; confidences left null"
    return out, pa.array(warnings, pa.string())


def _slice(starts: pa.Array, ends: pa.Array, sources: list, parent: np.ndarray) -> pa.Array:
    """`source[start:end]` per item (a Python slice: the reference's semantics exactly)."""
    texts = [sources[p] for p in parent.tolist()]
    out = [
        t[s:e] if t is not None and s is not None and e is not None else None
        for t, s, e in zip(texts, starts.to_pylist(), ends.to_pylist(), strict=True)
    ]
    return pa.array(out, pa.string())


# -- items that are the entries of an object (segmentation colour maps) -----------------------

_MSGSPEC_TYPES = {"number": float | None, "name": str | None, "string": str | None}
_ENTRY_READERS: dict[tuple, msgspec.json.Decoder] = {}


def entries_supported(spec: TaskSpec) -> bool:
    """A spec whose items are the entries of one metadata object, each entry's fields plain."""
    items = spec.items
    if spec.requires or items is None or items.shape != "entries" or items.reader is not None:
        return False
    if items.over is None or items.over.root != "meta" or len(items.over.path) != 1:
        return False
    if any(not (isinstance(c, At) and c.root == "value" and not c.path) for c in spec.checks):
        return False
    if any(not isinstance(s, Shared) for s in spec.label.values()):
        return False
    for src in items.columns.values():
        if not isinstance(src, At):
            return False
        if src.root == "item" and (len(src.path) != 1 or src.check not in _MSGSPEC_TYPES):
            return False
        if src.root == "key" and src.check != "class":
            return False
        if src.root == "value" and src.path:
            return False
        if src.root not in ("item", "key", "value"):
            return False
    return True


def _entry_reader(items: Items) -> msgspec.json.Decoder:
    fields = tuple((c, s.path[0], s.check) for c, s in items.columns.items() if s.root == "item")
    reader = _ENTRY_READERS.get(fields)
    if reader is None:
        struct = msgspec.defstruct(
            "Entry",
            [(column, _MSGSPEC_TYPES[check], None) for column, _, check in fields],
            rename={column: key for column, key, _ in fields},
        )
        reader = _ENTRY_READERS[fields] = msgspec.json.Decoder(list[dict[str, struct] | None])
    return reader


def build_entries(
    spec: TaskSpec, value_raws: list, meta_raws: list
) -> tuple[dict[str, pa.Array], tuple[str, dict[str, pa.Array], np.ndarray]]:
    """`build` for a spec of `entries`: the entries decoded by msgspec into typed structs (a
    field of another type refuses the group), their columns gathered list by list."""
    items = spec.items
    n = len(meta_raws)
    value_type = pa.string()
    values = (
        decode(value_raws, value_type)
        if any(s.root == "value" for s in items.columns.values()) or spec.checks
        else pa.nulls(n, value_type)
    )
    tops = _map_reader(items.over.path[0]).decode(b"[" + b",".join(meta_raws) + b"]")
    raws = [b"null" if t.field is None else t.field for t in tops]
    try:
        maps = _entry_reader(items).decode(b"[" + b",".join(raws) + b"]")
    except msgspec.ValidationError as exc:
        raise Fallback(str(exc)) from None
    maps = [m or {} for m in maps]
    counts = np.fromiter(map(len, maps), np.int64, n)
    parent = np.repeat(np.arange(n), counts)
    entries = [e for m in maps for e in m.values()]
    columns: dict[str, pa.Array] = {}
    for column, src in items.columns.items():
        if src.root == "item":
            kind = _TYPES[src.check]
            columns[column] = pa.array([getattr(e, column) for e in entries], kind)
            if src.check == "number":
                columns[column] = checked(columns[column], "number")
        elif src.root == "key":
            columns[column] = pa.array([_class_key(k) for m in maps for k in m], pa.int64())
        else:  # the label's value, repeated
            columns[column] = values.take(pa.array(parent))
    label: dict[str, pa.Array] = {}
    for name, src in spec.label.items():
        shared = [None] * n
        for i, m in enumerate(maps):
            seen = {getattr(e, src.column) for e in m.values()}
            if len(seen) == 1:
                shared[i] = seen.pop()
        label[name] = pa.array(shared, _TYPES["number"])
    label["warning"] = pa.nulls(n, pa.string())
    return label, (items.table, columns, parent)


_CLASS_KEYS: dict[str, int] = {}


def _class_key(key: str) -> int:
    """A map key as a class index, as the reference reads it (cached: few distinct keys)."""
    value = _CLASS_KEYS.get(key)
    if value is None:
        try:
            value = CHECK["class"](key, "key")
        except Exception as exc:
            raise Fallback(str(exc)) from None
        if len(_CLASS_KEYS) < 10_000:
            _CLASS_KEYS[key] = value
    return value
