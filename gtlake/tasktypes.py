"""The one place that knows each Ground Truth task type.

Every label attribute is read by the handler of its type. A handler is a pure function
``(value, metadata, source_text, prefix) -> Facts``: the label-level facts (confidence, class) and
the item rows it produces (boxes, classes, segments, entities, feedback), each row a tuple in the
column order of its schema in :mod:`gtlake.schemas`, starting with ``prefix`` (line, object_id,
attribute). A value that breaks the documented shape raises :class:`LineError`; unknown types
get the generic handler and never fail.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from math import inf
from operator import attrgetter
from typing import Annotated, Any, NamedTuple

import msgspec
import pyarrow as pa

from gtlake.errors import LineError
from gtlake.schemas import FILE_SCHEMAS

Row = tuple[Any, ...]

_INT64 = range(-(2**63), 2**63)  # what an Arrow int64 column holds
_DIGITS = re.compile(r"\s*-?[0-9]+\s*")  # ASCII digits only: `"²".isdigit()` is true


class Facts(NamedTuple):
    confidence: float | None = None
    class_id: int | None = None
    class_name: str | None = None
    warning: str | None = None
    items: tuple[tuple[str, Row], ...] = ()


def normalize_type(raw: object) -> str:
    """`groundtruth/object_detection` -> `object-detection`; `groundTruth/custom` -> `custom`."""
    text = str(raw).strip()
    if text[:12].lower() == "groundtruth/":
        text = text[12:]
    return text.replace("_", "-").lower()


def is_groundtruth_type(raw: object) -> bool:
    return isinstance(raw, str) and raw[:12].lower() == "groundtruth/"


# -- value checks -----------------------------------------------------------------------------


def number(value: object, what: str) -> float | None:
    """A confidence or coordinate: int or float (not bool, not a string) that a float64 holds
    (`1e999` is valid JSON, but stored it would read back as infinity); None stays None."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            result = float(value)
        except OverflowError:  # an integer beyond float64's range
            result = inf
        if result in _INFINITE:
            raise LineError(f"{what} is beyond the range of a float64 ({_show(value)})")
        return result
    raise LineError(f"{what} is {_kind(value)} {_show(value)}, expected a number")


def class_index(value: object, what: str) -> int:
    """A class index: `0` or `"0"` (both seen in real files)."""
    if isinstance(value, int) and not isinstance(value, bool) and value in _INT64:
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value) and int(value) in _INT64:
        return int(value)
    raise LineError(f"{what} is {_kind(value)} {_show(value)}, expected a class index")


def integer(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value in _INT64:
        return value
    if isinstance(value, float) and value.is_integer() and int(value) in _INT64:
        return int(value)
    raise LineError(f"{what} is {_kind(value)} {_show(value)}, expected an integer")


def _kind(value: object) -> str:
    return {
        str: "a string",
        bool: "a boolean",
        list: "a list",
        dict: "an object",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _list(value: object, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise LineError(f"{what} is {_kind(value)}, expected a list")
    return value


def _dict(value: object, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LineError(f"{what} is {_kind(value)}, expected an object")
    return value


_NUMERIC = frozenset((int, float, type(None)))  # exact types: a bool is not a number here
_INFINITE = (inf, -inf)  # what the standard library reads `1e999` as
_FLOAT_MAX = int(sys.float_info.max)


def _confidences(meta: dict, key: str, count: int, what: str) -> tuple[list, str | None]:
    """Per-item confidences paired by position; a count mismatch is reported, never guessed."""
    objects = meta.get(key)
    if objects is None:
        if count == 0:
            return [], None
        return [None] * count, f"{count} {what} but no {key}[] confidences; confidences left null"
    try:
        found = [o.get("confidence") for o in objects]
    except (AttributeError, TypeError):  # not a list of objects: say exactly what is wrong
        items = _list(objects, key)
        found = [_dict(o, f"{key}[{i}]").get("confidence") for i, o in enumerate(items)]
    for i, conf in enumerate(found):
        if type(conf) not in _NUMERIC or conf in _INFINITE:
            number(conf, f"{key}[{i}].confidence")
    if len(found) != count:
        warning = f"{count} {what} but {len(found)} {key}[] confidences; confidences left null"
        return [None] * count, warning
    return found, None


# -- handlers ---------------------------------------------------------------------------------


def classification(value: object, meta: dict, source: object, p: Row) -> Facts:
    return Facts(
        confidence=number(meta.get("confidence"), "confidence"),
        class_id=class_index(value, "label value"),
        class_name=meta.get("class-name"),
    )


def verification(value: object, meta: dict, source: object, p: Row) -> Facts:
    facts = classification(value, meta, source, p)
    comments = []
    for i, entry in enumerate(_list(meta.get("worker-feedback"), "worker-feedback")):
        comment = _dict(entry, f"worker-feedback[{i}]").get("comment")
        if comment is not None and not isinstance(comment, str):
            raise LineError(f"worker-feedback[{i}].comment is {_kind(comment)}, expected a string")
        comments.append(("feedback", (*p, i, comment)))
    return facts._replace(items=tuple(comments))


def multilabel(value: object, meta: dict, source: object, p: Row) -> Facts:
    class_map = _dict(meta.get("class-map"), "class-map")
    confidence_map = _dict(meta.get("confidence-map"), "confidence-map")
    rows = []
    for i, raw_id in enumerate(_list(value, "label value")):
        cid = class_index(raw_id, f"label value[{i}]")
        key = str(raw_id).strip()
        conf = number(confidence_map.get(key), f"confidence-map[{key!r}]")
        rows.append(("classes", (*p, cid, class_map.get(key), conf)))
    return Facts(items=tuple(rows))


def bounding_boxes(value: object, meta: dict, source: object, p: Row) -> Facts:
    value = _dict(value, "label value")
    class_map = _dict(meta.get("class-map"), "class-map")
    size = value.get("image_size")
    if isinstance(size, list):
        size = size[0] if size else None
    size = _dict(size, "image_size")
    width = integer(size.get("width"), "image_size.width")
    height = integer(size.get("height"), "image_size.height")
    depth = integer(size.get("depth"), "image_size.depth")
    annotations = _list(value.get("annotations"), "annotations")
    confidences, warning = _confidences(meta, "objects", len(annotations), "boxes")
    names = class_map.get
    rows = []
    # The hot loop of a bounding-box job: exact type checks inline, the messages in _bad_box.
    for i, box in enumerate(annotations):
        if type(box) is not dict:
            _bad_box(i, box)
        cid, left, top = box.get("class_id"), box.get("left"), box.get("top")
        w, h = box.get("width"), box.get("height")
        if not (type(left) in _NUMERIC and type(top) in _NUMERIC and type(w) in _NUMERIC
                and type(h) in _NUMERIC):  # fmt: skip
            _bad_box(i, box)
        if _huge(left) or _huge(top) or _huge(w) or _huge(h):
            _bad_box(i, box)
        name = None
        if cid is not None:
            name = names(str(cid).strip() if type(cid) is str else str(cid))
            if type(cid) is not int or cid not in _INT64:
                cid = class_index(cid, f"annotations[{i}].class_id")
        row = (*p, i, cid, name, left, top, w, h, confidences[i], width, height, depth)
        rows.append(("boxes", row))
    return Facts(warning=warning, items=tuple(rows))


def _huge(value: object) -> bool:
    """Beyond float64: `1e999` (read as infinity) or an integer of more than 308 digits."""
    if type(value) is float:
        return value in _INFINITE
    return type(value) is int and not -_FLOAT_MAX <= value <= _FLOAT_MAX


def _bad_box(i: int, box: object) -> None:
    box = _dict(box, f"annotations[{i}]")
    for key in ("left", "top", "width", "height"):
        number(box.get(key), f"annotations[{i}].{key}")


def segmentation(value: object, meta: dict, source: object, p: Row) -> Facts:
    if value is not None and not isinstance(value, str):
        raise LineError(f"mask reference is {_kind(value)}, expected an S3 URI string")
    color_map = _dict(meta.get("internal-color-map"), "internal-color-map")
    rows, seen = [], set()
    for key, entry in color_map.items():
        entry = _dict(entry, f"internal-color-map[{key!r}]")
        conf = number(entry.get("confidence"), f"internal-color-map[{key!r}].confidence")
        seen.add(conf)
        cid = class_index(key, "internal-color-map key")
        rows.append(
            ("segments", (*p, value, cid, entry.get("class-name"), entry.get("hex-color"), conf))
        )
    # Ground Truth scores segmentation per image: one confidence shared by every class.
    image_conf = seen.pop() if len(seen) == 1 else None
    return Facts(confidence=image_conf, items=tuple(rows))


def text_spans(value: object, meta: dict, source: object, p: Row) -> Facts:
    value = _dict(value, "label value")
    spans = _list(_dict(value.get("annotations"), "annotations").get("entities"), "entities")
    confidences, warning = _confidences(meta, "entities", len(spans), "entities")
    text = source if isinstance(source, str) else None
    rows = []
    for i, span in enumerate(spans):
        span = _dict(span, f"annotations.entities[{i}]")
        start = integer(span.get("startOffset"), f"entities[{i}].startOffset")
        end = integer(span.get("endOffset"), f"entities[{i}].endOffset")
        known = text is not None and start is not None and end is not None
        snippet = text[start:end] if known else None
        rows.append(("entities", (*p, i, span.get("label"), start, end, snippet, confidences[i])))
    return Facts(warning=warning, items=tuple(rows))


def generic(value: object, meta: dict, source: object, p: Row) -> Facts:
    """Custom, video, point-cloud and unknown types: the label row alone."""
    name = meta.get("class-name")
    return Facts(
        confidence=number(meta.get("confidence"), "confidence"),
        class_name=name if isinstance(name, str) else None,
    )


def sequence(value: object, meta: dict, source: object, p: Row) -> Facts:
    """Video and point-cloud tracking: the boxes or cuboids are in the referenced sequence file
    (read by `gtlake.frames`); the label gets a class when its class map has exactly one."""
    classes = meta.get("class-map")
    if classes is None:
        classes = meta.get("class_map")
    facts = generic(value, meta, source, p)
    if not isinstance(classes, dict) or len(classes) != 1:
        return facts
    key, name = next(iter(classes.items()))
    try:
        cid = class_index(key, "class-map key")
    except LineError:  # the sequence file holds the labels; the line loads whatever its map
        return facts
    return facts._replace(class_id=cid, class_name=name if isinstance(name, str) else None)


def point_cloud_cuboids(value: object, meta: dict, source: object, p: Row) -> Facts:
    """3D point cloud object detection: `{"annotations": [cuboid, ...]}` on the line itself."""
    from gtlake.sequences import compact_json, cuboid_row, stamp  # it imports this module

    value = _dict(value, "label value")
    cuboids = _list(value.get("annotations"), "annotations")
    attrs = compact_json(meta.get("dataset-object-attributes"))
    where = (None, None, None, None)
    rows = [cuboid_row(p, where, i, ann, attrs) for i, ann in enumerate(cuboids)]
    confidences, warning = ([], None)
    if meta.get("objects"):  # `objects: []` in the documentation's example: none given
        confidences, warning = _confidences(meta, "objects", len(rows), "cuboids")
    rows = stamp("cuboids", rows, p, meta)
    if confidences:
        index = FILE_SCHEMAS["cuboids"].names.index("confidence")
        rows = [(*r[:index], c, *r[index + 1 :]) for r, c in zip(rows, confidences, strict=True)]
    return sequence(value, meta, source, p)._replace(
        warning=warning, items=tuple(("cuboids", r) for r in rows)
    )


def point_cloud_segmentation(value: object, meta: dict, source: object, p: Row) -> Facts:
    """3D point cloud semantic segmentation: a `.zlib` mask reference and a `color-map` with the
    same entries as an image segmentation's `internal-color-map`."""
    colors = meta.get("color-map")
    if colors is None:
        return generic(value, meta, source, p)
    return segmentation(value, {**meta, "internal-color-map": colors}, source, p)


Handler = Callable[[object, dict, object, Row], Facts]

HANDLERS: dict[str, Handler] = {
    "image-classification": classification,
    "text-classification": classification,
    "label-verification": verification,
    "image-classification-multilabel": multilabel,
    "text-classification-multilabel": multilabel,
    "object-detection": bounding_boxes,
    "semantic-segmentation": segmentation,
    "text-span": text_spans,
    "video-object-detection": sequence,
    "video-object-tracking": sequence,
    "point-cloud-object-tracking": sequence,
    "point-cloud-object-detection": point_cloud_cuboids,
    "point-cloud-single-frame-semantic-segmentation": point_cloud_segmentation,
}


def handler_for(label_type: str) -> Handler:
    return HANDLERS.get(label_type, generic)


# -- reading a label from the line's JSON text -------------------------------------------------
# The manifest reader leaves each value as a msgspec.Raw span of the line. Bounding boxes, the bulk
# of most lakes, take a columnar fast path: the value is decoded in C straight into typed structs
# (msgspec validates every coordinate) and the boxes stay columnar (a BoxGroup per label) until the
# block is turned into Arrow by `box_groups_table`. A value outside the documented shape (a class
# index given as a string, a coordinate that is not a number, ...) is decoded generically and read
# by the reference handler above, which accepts it or says exactly what is wrong. Both paths give
# the same rows (tests/test_tasktypes.py checks this on the real files).


# An integer an Arrow int64 column holds: a larger one fails validation and takes the
# reference path, which quarantines the line with the reason.
_Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Box(msgspec.Struct, gc=False):
    class_id: _Int64 | None = None
    left: float | None = None
    top: float | None = None
    width: float | None = None
    height: float | None = None


class _ImageSize(msgspec.Struct, gc=False):
    width: _Int64 | None = None
    height: _Int64 | None = None
    depth: _Int64 | None = None


class _BoxValue(msgspec.Struct, gc=False):
    image_size: list[_ImageSize] | _ImageSize | None = None
    annotations: list[_Box] | None = None


class BoxGroup(NamedTuple):
    """The boxes of one label, columnar until the block is written."""

    prefix: Row
    boxes: list[_Box]
    confidences: list
    class_map: dict
    size: tuple[int | None, int | None, int | None]


_GENERIC = msgspec.json.Decoder()
_BOX_VALUE = msgspec.json.Decoder(_BoxValue)


def decode_raw(raw: msgspec.Raw) -> Any:
    """A Raw span as Python values. msgspec refuses numbers the JSON grammar allows (`1e400`);
    those are read as the standard library reads them (`inf`), never an exception."""
    try:
        return _GENERIC.decode(raw)
    except msgspec.ValidationError:
        return json.loads(bytes(raw))


def _boxes_fast(raw: msgspec.Raw, meta: dict, p: Row) -> Facts | None:
    try:
        value = _BOX_VALUE.decode(raw)
    except msgspec.ValidationError:
        return None
    class_map = meta.get("class-map")
    if class_map is not None and type(class_map) is not dict:
        return None
    boxes = value.annotations or []
    confidences, warning = _confidences(meta, "objects", len(boxes), "boxes")
    size = value.image_size
    if type(size) is list:
        size = size[0] if size else None
    dims = (size.width, size.height, size.depth) if size is not None else (None, None, None)
    group = BoxGroup(p, boxes, confidences, class_map or {}, dims)
    return Facts(warning=warning, items=(("boxes", group),))


def read_label(label_type: str, value: object, meta: dict, source: object, p: Row) -> Facts:
    """The facts and item rows of one label; `value` is a Raw span or a plain Python value."""
    if type(value) is msgspec.Raw:
        if label_type == "object-detection":
            facts = _boxes_fast(value, meta, p)
            if facts is not None:
                return facts
        value = decode_raw(value)
    return handler_for(label_type)(value, meta, source, p)


def box_groups_table(groups: list[BoxGroup]) -> pa.Table:
    """The `boxes` rows of many labels at once, in the column order of the `boxes` schema."""
    schema = FILE_SCHEMAS["boxes"]
    counts = [len(g.boxes) for g in groups]
    parent = pa.array([i for i, n in enumerate(counts) for _ in range(n)], pa.int32())
    boxes = [b for g in groups for b in g.boxes]

    def per_group(values: list, type_: pa.DataType) -> pa.Array:
        return pa.array(values, type_).take(parent)

    def per_box(field: str) -> pa.Array:
        return pa.array(list(map(attrgetter(field), boxes)), schema.field(field).type)

    names = [
        g.class_map.get(str(b.class_id)) if b.class_id is not None else None
        for g in groups
        for b in g.boxes
    ]
    columns = [
        per_group([g.prefix[0] for g in groups], pa.int64()),
        per_group([g.prefix[1] for g in groups], pa.string()),
        per_group([g.prefix[2] for g in groups], pa.string()),
        pa.array([j for n in counts for j in range(n)], pa.int32()),
        per_box("class_id"),
        pa.array(names, pa.string()),
        per_box("left"),
        per_box("top"),
        per_box("width"),
        per_box("height"),
        pa.array([c for g in groups for c in g.confidences], pa.float64()),
        per_group([g.size[0] for g in groups], pa.int64()),
        per_group([g.size[1] for g in groups], pa.int64()),
        per_group([g.size[2] for g in groups], pa.int64()),
    ]
    return pa.Table.from_arrays(columns, schema=schema)
