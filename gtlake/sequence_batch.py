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

from operator import attrgetter
from typing import Any, NamedTuple

import msgspec
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from msgspec import UNSET, Raw, Struct, UnsetType, field

from gtlake.errors import LineError
from gtlake.schemas import FILE_SCHEMAS, FRAME_TABLES
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
    file_of_frame: list[int] = []  # position in `accepted`
    frame_index: list[int] = []
    frames: list[_Frame] = []
    for k, i in enumerate(accepted):
        these = decoded[i]
        assert these is not None
        frames += these
        file_of_frame += [k] * len(these)
        frame_index += range(len(these))
    anns: list[_Annotation] = []
    frame_of_ann: list[int] = []
    ann_index: list[int] = []
    counts = []
    for f, frame in enumerate(frames):
        these_anns = frame.annotations or []
        counts.append(len(these_anns))
        anns += these_anns
        frame_of_ann += [f] * len(these_anns)
        ann_index += range(len(these_anns))
    file_names = pa.array([paths[i] for i in accepted], pa.string())
    frame_cols = {
        "file": file_names.take(pa.array(file_of_frame, pa.int32())),
        "frame_index": pa.array(frame_index, pa.int32()),
        "frame_no": pa.array(_numbers(list(map(_frame_no, frames))), pa.int64()),
        "frame": pa.array(list(map(_frame_name, frames)), pa.string()),
        "frame_attributes": pa.array(
            _compacts(list(map(bytes, map(attrgetter("frame_attributes"), frames)))), pa.string()
        ),
        "annotations": pa.array(counts, pa.int32()),
    }
    tables = {"frames": _table("frames", frame_cols)}
    starts = {"frames": _starts(file_of_frame, len(accepted))}
    cuboid = [a.center_x is not UNSET for a in anns]
    kinds = {"frame_boxes": [not c for c in cuboid], "cuboids": cuboid}
    for table, index_name, columns in (
        ("frame_boxes", "box_index", _BOX_COLUMNS),
        ("cuboids", "cuboid_index", _CUBOID_COLUMNS),
    ):
        mine = kinds[table]
        if all(mine):
            chosen, where, position = anns, frame_of_ann, ann_index
        else:
            chosen = [a for a, m in zip(anns, mine, strict=True) if m]
            where = [w for w, m in zip(frame_of_ann, mine, strict=True) if m]
            position = [p for p, m in zip(ann_index, mine, strict=True) if m]
        at = pa.array(where, pa.int32())
        cols: dict[str, Any] = {
            name: frame_cols[name].take(at)
            for name in ("file", "frame_index", "frame_no", "frame", "frame_attributes")
        }
        cols[index_name] = pa.array(position, pa.int32())
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
        starts[table] = _starts([file_of_frame[w] for w in where], len(accepted))
    return Parsed(accepted, tables, starts)


def _starts(owner: list[int], files: int) -> list[int]:
    """Row offsets per file from the (sorted) owning file of each row."""
    starts = [0] * (files + 1)
    for k in owner:
        starts[k + 1] += 1
    for k in range(files):
        starts[k + 1] += starts[k]
    return starts


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


def stamp_batch(table: str, data: pa.Table, starts: list[int], labels: list[list[Label]]
                ) -> pa.Table:  # fmt: skip
    """`data`'s rows for each label of each file (file k's rows: `starts[k]:starts[k+1]`), in
    file then label order, with the label's prefix, class names and confidences."""
    take: list[int] = []
    owner: list[int] = []  # per row: the (file, label) pair
    pairs: list[tuple[int, Label]] = []
    for k, these in enumerate(labels):
        for label in these:
            take += range(starts[k], starts[k + 1])
            owner += [len(pairs)] * (starts[k + 1] - starts[k])
            pairs.append((k, label))
    if len(take) != data.num_rows or any(len(these) != 1 for these in labels):
        data = data.take(pa.array(take, pa.int64()))
    at = pa.array(owner, pa.int32())
    columns = {name: data[name] for name in data.column_names}
    for name, kind in (("line", pa.int64()), ("object_id", pa.string()),
                       ("attribute", pa.string())):  # fmt: skip
        columns[name] = pa.array([getattr(p[1], name) for p in pairs], kind).take(at)
    if table != "frames":
        columns["class_name"] = _class_names(data["class_id"], pairs, owner)
        columns["confidence"] = _confidences(table, data, pairs, owner)
    return pa.Table.from_arrays([columns[n] for n in data.column_names], schema=data.schema)


def _class_names(ids: pa.ChunkedArray, pairs: list[tuple[int, Label]], owner: list[int]
                 ) -> pa.Array:  # fmt: skip
    maps = []
    for _, label in pairs:
        found = class_map(label.meta)
        maps.append({str(k): v for k, v in found.items() if isinstance(v, str)})
    distinct = {orjson.dumps(m, option=orjson.OPT_SORT_KEYS) for m in maps}
    if len(distinct) == 1:
        only = maps[0]
        keys = pa.array(list(only), pa.string())
        names = pa.array(list(only.values()), pa.string())
        return names.take(pc.index_in(pc.cast(ids, pa.string()), keys))
    return pa.array(
        [
            None if c is None else maps[o].get(str(c))
            for c, o in zip(ids.to_pylist(), owner, strict=True)
        ],
        pa.string(),
    )


def _confidences(table: str, data: pa.Table, pairs: list[tuple[int, Label]], owner: list[int]
                 ) -> pa.Array:  # fmt: skip
    given = [frame_confidences(label.meta) for _, label in pairs]
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


__all__ = ["FRAME_TABLES", "Label", "Parsed", "parse_batch", "stamp_batch"]
