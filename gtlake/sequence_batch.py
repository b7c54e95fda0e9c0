"""Many sequence files at once: decoded in compiled code, their rows built as Arrow columns.

The fast path next to :func:`gtlake.sequences.parse_sequence` (the reference, one file at a time,
Python per box). Each file is decoded by msgspec into typed structs (hyphenated keys renamed,
`label-category-attributes` and `frame-attributes` kept as raw JSON text); the columns are then
gathered with C-level `map`/`attrgetter` and Arrow kernels, and values that repeat (class ids,
frame numbers, attribute subtrees) are converted once per distinct value.

The fast path accepts a file only when it would give exactly the reference's rows: a file it
refuses (not JSON, another shape, a wrong type, no frames, a value the reference rejects) is left
to the reference, which gives the rows or the quarantine reason. Stored subtree text is the
reference's `orjson.dumps(value)`: each distinct raw text is decoded and re-serialised once.

Class names and confidences are stamped per label that refers to the file (:func:`stamp_batch`),
as :func:`gtlake.sequences.stamp` does row by row.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate, chain, compress
from operator import attrgetter
from typing import Any, NamedTuple

import msgspec
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from msgspec import UNSET, Raw, Struct, UnsetType, field

from gtlake.errors import LineError
from gtlake.schemas import FILE_SCHEMAS
from gtlake.sequences import class_map, frame_confidences
from gtlake.tasktypes import class_index

_NULL = Raw(b"null")
_CUBOID_COLUMNS = ("center_x", "center_y", "center_z", "length", "width", "height", "roll",
                   "pitch", "yaw")  # fmt: skip
_BOX_COLUMNS = ("left", "top", "width", "height")


class _Annotation(Struct, rename="kebab"):
    """A box or a cuboid: a cuboid has `center-x` (even null), as in the reference."""

    left: float | None = None
    top: float | None = None
    width: float | None = None
    height: float | None = None
    center_x: float | None | UnsetType = UNSET
    center_y: float | None = None
    center_z: float | None = None
    length: float | None = None
    roll: float | None = None
    pitch: float | None = None
    yaw: float | None = None
    class_id: int | str | None = None
    object_id: str | None = None
    object_name: str | None = None
    label_category_attributes: Raw = _NULL


class _Frame(Struct, rename="kebab"):
    annotations: list[_Annotation] | None = None
    frame_no: int | str | None | UnsetType = UNSET
    frame_number: int | str | None = None
    frame: str | None | UnsetType = UNSET
    frame_name: str | None = None
    frame_attributes: Raw = _NULL


class _Sequence(Struct):
    tracking: list[_Frame] | UnsetType = field(default=UNSET, name="tracking-annotations")
    detection: list[_Frame] | UnsetType = field(default=UNSET, name="detection-annotations")


_DECODER = msgspec.json.Decoder(_Sequence)


class Parsed(NamedTuple):
    """The unstamped rows of a batch's accepted files, as Arrow tables (prefix columns null), and
    per table the row range `[starts[i], starts[i + 1])` of the i-th accepted file."""

    accepted: list[int]  # positions in the batch of the files the fast path took
    tables: dict[str, pa.Table]
    starts: dict[str, list[int]]


class _Refused(Exception):
    """A value the fast path does not convert itself: the file goes to the reference."""


def _converter(convert: Any) -> Any:
    """A function from a list of values to their converted list, each distinct value converted
    once; raises _Refused when one cannot be."""

    def run(values: list) -> list:
        done: dict = {}
        for value in set(values):
            try:
                done[value] = convert(value)
            except (LineError, ValueError, TypeError) as exc:
                raise _Refused(str(exc)) from None
        return list(map(done.__getitem__, values))

    return run


def _number(value: object) -> int | None:
    return None if value is None else class_index(value, "number")


def _compact(raw: bytes) -> str | None:
    return None if raw == b"null" else orjson.dumps(orjson.loads(raw)).decode()


_numbers = _converter(_number)
_compacts = _converter(_compact)


def _frame_no(frame: _Frame) -> object:
    return frame.frame_number if frame.frame_no is UNSET else frame.frame_no


def _frame_name(frame: _Frame) -> str | None:
    return frame.frame_name if frame.frame is UNSET else frame.frame


def _decode(data: bytes) -> list[_Frame] | None:
    """The frames of a file in the reference's order, or None when the fast path refuses it."""
    try:
        doc = _DECODER.decode(data)
    except msgspec.DecodeError:
        return None
    if doc.tracking is not UNSET and doc.detection is not UNSET:
        return None  # both lists: rare, the reference numbers each list's frames from 0
    frames = doc.detection if doc.tracking is UNSET else doc.tracking
    if frames is UNSET:
        return None  # neither list: the reference says so
    return frames or None  # no frames: the reference says so


def parse_batch(paths: list[str], contents: list[bytes]) -> Parsed:
    """The rows of the files the fast path accepts; the others are left out of `accepted`."""
    decoded = [_decode(data) for data in contents]
    accepted = [i for i, frames in enumerate(decoded) if frames is not None]
    while True:
        try:
            return _build(paths, decoded, accepted)
        except _Refused:
            accepted = [i for i in accepted if _accepts(paths[i], decoded[i])]


def _accepts(path: str, frames: list[_Frame]) -> bool:
    """Whether one file alone converts: used to find the file a batch was refused for."""
    try:
        _build([path], [frames], [0])
    except _Refused:
        return False
    return True


def _build(paths: list[str], decoded: list[list[_Frame] | None], accepted: list[int]) -> Parsed:
    frames: list[_Frame] = []
    per_file: list[int] = []  # frames of each accepted file
    for i in accepted:
        these = decoded[i]
        assert these is not None
        frames += these
        per_file.append(len(these))
    lists = list(map(attrgetter("annotations"), frames))
    counts = [len(these) if these else 0 for these in lists]
    anns: list[_Annotation] = list(chain.from_iterable(filter(None, lists)))
    frame_starts = list(accumulate(per_file, initial=0))
    file_of_frame = _parents(per_file)
    frame_cols = {
        "file": pa.array([paths[i] for i in accepted], pa.string()).take(file_of_frame),
        "frame_index": _positions(file_of_frame, frame_starts),
        "frame_no": pa.array(_numbers(list(map(_frame_no, frames))), pa.int64()),
        "frame": pa.array(list(map(_frame_name, frames)), pa.string()),
        "frame_attributes": pa.array(
            _compacts(list(map(bytes, map(attrgetter("frame_attributes"), frames)))), pa.string()
        ),
        "annotations": pa.array(counts, pa.int32()),
    }
    tables = {"frames": _table("frames", frame_cols)}
    starts = {"frames": frame_starts}
    frame_of_ann = _parents(counts)
    ann_index = _positions(frame_of_ann, list(accumulate(counts, initial=0)))
    centers = list(map(attrgetter("center_x"), anns))
    boxes = centers.count(UNSET)  # a cuboid has `center-x`, even null
    for table, index_name, columns, count in (
        ("frame_boxes", "box_index", _BOX_COLUMNS, boxes),
        ("cuboids", "cuboid_index", _CUBOID_COLUMNS, len(anns) - boxes),
    ):
        if count in (0, len(anns)):  # all of one kind (or none): no filtering
            chosen = anns if count else []
            where, position = (frame_of_ann, ann_index) if count else (_EMPTY, _EMPTY)
        else:
            cuboid = table == "cuboids"
            mine = pa.array([(c is not UNSET) is cuboid for c in centers], pa.bool_())
            chosen = list(compress(anns, mine.to_pylist()))
            where, position = frame_of_ann.filter(mine), ann_index.filter(mine)
        cols: dict[str, Any] = {
            name: frame_cols[name].take(where)
            for name in ("file", "frame_index", "frame_no", "frame", "frame_attributes")
        }
        cols[index_name] = position
        cols["track_id"] = pa.array(list(map(attrgetter("object_id"), chosen)), pa.string())
        cols["object_name"] = pa.array(list(map(attrgetter("object_name"), chosen)), pa.string())
        cols["class_id"] = pa.array(_numbers(list(map(attrgetter("class_id"), chosen))), pa.int64())
        for name in columns:
            values = pa.array(list(map(attrgetter(name), chosen)), pa.float64())
            if pc.any(pc.is_inf(values)).as_py():
                raise _Refused(f"{name} is beyond the range of a float64")
            cols[name] = values
        raws = map(bytes, map(attrgetter("label_category_attributes"), chosen))
        cols["category_attributes"] = pa.array(_compacts(list(raws)), pa.string())
        tables[table] = _table(table, cols)
        owners = file_of_frame.take(where).to_pylist()  # sorted: each file's rows together
        starts[table] = [bisect_left(owners, k) for k in range(len(accepted) + 1)]
    return Parsed(accepted, tables, starts)


_EMPTY = pa.nulls(0, pa.int32())  # (`pa.array` imports pandas, 0.18 s)


def _parents(counts: list[int]) -> pa.Array:
    """For `counts` children per parent, each child's parent (position), as an int32 array."""
    offsets = pa.array(list(accumulate(counts, initial=0)), pa.int32())
    lists = pa.ListArray.from_arrays(offsets, pa.nulls(offsets[-1].as_py(), pa.int8()))
    return pc.cast(pc.list_parent_indices(lists), pa.int32())


def _positions(parents: pa.Array, starts: list[int]) -> pa.Array:
    """Each child's position among its parent's children."""
    rows = pa.array(range(len(parents)), pa.int32())
    return pc.subtract(rows, pa.array(starts, pa.int32()).take(parents))


def _table(table: str, columns: dict[str, Any]) -> pa.Table:
    schema = FILE_SCHEMAS[table]
    rows = len(next(iter(columns.values())))
    built = [columns.get(f.name, pa.nulls(rows, f.type)) for f in schema]
    return pa.Table.from_arrays(built, schema=schema)


# -- stamping: the label's prefix, class names and confidences ------------------------------------


class Label(NamedTuple):
    """A label referring to a file: its prefix and its metadata (a dict)."""

    line: int
    object_id: str | None
    attribute: str
    meta: dict


class Labels:
    """The labels referring to consecutive files (a list per file), read once for every table:
    their prefix columns, class maps (a few distinct ones) and per-frame confidences."""

    def __init__(self, labels: list[list[Label]]) -> None:
        self.per_file = labels
        pairs = [label for these in labels for label in these]
        self.single = all(len(these) == 1 for these in labels)
        self.prefix = {
            "line": pa.array([p.line for p in pairs], pa.int64()),
            "object_id": pa.array([p.object_id for p in pairs], pa.string()),
            "attribute": pa.array([p.attribute for p in pairs], pa.string()),
        }
        known: dict[bytes, int] = {}
        self.maps: list[dict[str, str]] = []  # the distinct class maps, names only
        self.map_of: list[int] = []  # per pair
        for label in pairs:
            found = class_map(label.meta)
            key = orjson.dumps(found, option=orjson.OPT_SORT_KEYS)
            if key not in known:
                known[key] = len(self.maps)
                self.maps.append({str(k): v for k, v in found.items() if isinstance(v, str)})
            self.map_of.append(known[key])
        self.given = [frame_confidences(label.meta) for label in pairs]


def stamp_batch(table: str, data: pa.Table, starts: list[int], labels: Labels) -> pa.Table:
    """`data`'s rows for each label of each file (file k's rows: `starts[k]:starts[k+1]`), in
    file then label order, with the label's prefix, class names and confidences."""
    owner: list[int] = []  # per row: the (file, label) pair
    pair = 0
    for k, these in enumerate(labels.per_file):
        for _ in these:
            owner += [pair] * (starts[k + 1] - starts[k])
            pair += 1
    if not labels.single:  # a file referred to by several labels: its rows once for each
        take: list[int] = []
        for k, these in enumerate(labels.per_file):
            take += list(range(starts[k], starts[k + 1])) * len(these)
        data = data.take(pa.array(take, pa.int64()))
    at = pa.array(owner, pa.int32())
    columns = {name: data[name] for name in data.column_names}
    for name, values in labels.prefix.items():
        columns[name] = values.take(at)
    if table != "frames":
        columns["class_name"] = _class_names(data["class_id"], labels, owner)
        columns["confidence"] = _confidences(table, data, labels, owner)
    return pa.Table.from_arrays([columns[n] for n in data.column_names], schema=data.schema)


def _class_names(ids: pa.ChunkedArray, labels: Labels, owner: list[int]) -> pa.Array:
    if len(labels.maps) == 1:  # the usual: one class map for the job
        (only,) = labels.maps
        keys = pa.array(list(only), pa.string())
        names = pa.array(list(only.values()), pa.string())
        return names.take(pc.index_in(pc.cast(ids, pa.string()), keys))
    maps = [labels.maps[m] for m in labels.map_of]
    return pa.array(
        [
            None if c is None else maps[o].get(str(c))
            for c, o in zip(ids.to_pylist(), owner, strict=True)
        ],
        pa.string(),
    )


def _confidences(table: str, data: pa.Table, labels: Labels, owner: list[int]) -> pa.Array:
    given = labels.given
    if not any(given):
        return pa.nulls(data.num_rows, pa.float64())
    index = "box_index" if table == "frame_boxes" else "cuboid_index"
    frame_nos = data["frame_no"].to_pylist()
    positions = data[index].to_pylist()
    counts: dict[tuple[int, int | None], int] = {}
    for o, f in zip(owner, frame_nos, strict=True):
        counts[o, f] = counts.get((o, f), 0) + 1
    out: list[float | None] = []
    for o, f, i in zip(owner, frame_nos, positions, strict=True):
        these = given[o].get(f)
        conf = None
        if these is not None and len(these) == counts[o, f] > i:
            conf = these[i]
            conf = conf if type(conf) in (int, float) else None
        out.append(None if conf is None else float(conf))
    return pa.array(out, pa.float64())


__all__ = ["Label", "Labels", "Parsed", "parse_batch", "stamp_batch"]
