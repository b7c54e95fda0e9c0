"""Pure functions from a video or point-cloud sequence file (`SeqLabel.json`) to rows, and back.

Ground Truth writes, for video frame object detection and tracking and 3D point cloud object
tracking, one sequence file per data object under the job's own directory
(`annotations/consolidated-annotation/output/<index>/SeqLabel.json`); the manifest line only
points to it (`<attr>-ref`). The file holds a list of frames under `detection-annotations` or
`tracking-annotations`; each frame its number (`frame-no`, a string, in video files;
`frame-number`, an integer, in point-cloud files), its file name (`frame` / `frame-name`),
optionally `frame-attributes`, and `annotations`: 2D boxes (`left`, `top`, `width`, `height`) in
video files, 3D cuboids (`center-x`...`yaw`) in point-cloud files, each with a `class-id`, its
`label-category-attributes` and, when tracked, `object-id` (the track) and `object-name`.

A 3D point cloud object detection label holds its cuboids on the manifest line itself
(`{"annotations": [...]}`); :func:`cuboid_row` reads those too.

Rows are tuples in the column order of :mod:`gtlake.schemas` and start with the label's
(line, object_id, attribute) prefix. `class_name` and `confidence` come from the label's metadata
(`class-map`, `objects[]`) and are filled by :func:`stamp`, so rows kept from an earlier ingest
are completed exactly as fresh ones.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from gtlake.errors import LineError
from gtlake.flatten import meta_field
from gtlake.schemas import FILE_SCHEMAS
from gtlake.tasktypes import class_index, number

Row = tuple[Any, ...]
FRAME_LISTS = ("tracking-annotations", "detection-annotations")
_CUBOID_KEYS = ("center-x", "center-y", "center-z", "length", "width", "height", "roll", "pitch",
                "yaw")  # fmt: skip
_BOX_KEYS = ("left", "top", "width", "height")


class SequenceRows(NamedTuple):
    frames: list[Row]
    frame_boxes: list[Row]
    cuboids: list[Row]


def compact_json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _object(value: object, what: str) -> dict:
    if not isinstance(value, dict):
        raise LineError(f"{what} is {type(value).__name__}, expected an object")
    return value


def _text(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def frame_number(frame: dict, what: str) -> int | None:
    """`frame-no` ("0", video) or `frame-number` (0, point cloud) as an integer."""
    raw = frame.get("frame-no", frame.get("frame-number"))
    if raw is None:
        return None
    return class_index(raw, f"{what} frame number")


def _class_id(ann: dict, what: str) -> int | None:
    raw = ann.get("class-id")
    return None if raw is None else class_index(raw, f"{what}.class-id")


def box_row(prefix: Row, where: Row, i: int, ann: dict, frame_attributes: str | None) -> Row:
    """A `frame_boxes` row; `where` is (file, frame_index, frame_no, frame)."""
    what = f"box {i}"
    coords = [number(ann.get(k), f"{what}.{k}") for k in _BOX_KEYS]
    return (
        *prefix, *where, i, _text(ann.get("object-id")), _text(ann.get("object-name")),
        _class_id(ann, what), None, *coords, None,
        compact_json(ann.get("label-category-attributes")), frame_attributes,
    )  # fmt: skip


def cuboid_row(prefix: Row, where: Row, i: int, ann: dict, frame_attributes: str | None) -> Row:
    """A `cuboids` row; `where` is (file, frame_index, frame_no, frame), all None on a line."""
    ann = _object(ann, f"cuboid {i}")
    what = f"cuboid {i}"
    values = [number(ann.get(k), f"{what}.{k}") for k in _CUBOID_KEYS]
    return (
        *prefix, *where, i, _text(ann.get("object-id")), _text(ann.get("object-name")),
        _class_id(ann, what), None, *values, None,
        compact_json(ann.get("label-category-attributes")), frame_attributes,
    )  # fmt: skip


def parse_sequence(prefix: Row, file: str, data: bytes) -> SequenceRows:
    """The rows of one sequence file. Raises LineError when it is not one."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise LineError(f"not JSON: {exc}") from None
    doc = _object(doc, "the file")
    lists = [k for k in FRAME_LISTS if k in doc]
    if not lists:
        raise LineError(f"no {' or '.join(FRAME_LISTS)} list")
    out = SequenceRows([], [], [])
    for key in lists:
        frames = doc[key]
        if not isinstance(frames, list):
            raise LineError(f"{key} is {type(frames).__name__}, expected a list")
        for index, frame in enumerate(frames):
            what = f"{key}[{index}]"
            frame = _object(frame, what)
            annotations = frame.get("annotations") or []
            if not isinstance(annotations, list):
                raise LineError(f"{what}.annotations is not a list")
            attrs = compact_json(frame.get("frame-attributes"))
            where = (file, index, frame_number(frame, what),
                     _text(frame.get("frame", frame.get("frame-name"))))  # fmt: skip
            out.frames.append((*prefix, *where, attrs, len(annotations)))
            for i, ann in enumerate(annotations):
                ann = _object(ann, f"{what}.annotations[{i}]")
                if "center-x" in ann:
                    out.cuboids.append(cuboid_row(prefix, where, i, ann, attrs))
                else:
                    out.frame_boxes.append(box_row(prefix, where, i, ann, attrs))
    return out


# -- the label's metadata: class names and confidences -------------------------------------------


def class_map(meta: dict) -> dict:
    """`class-map` (video, tracking) or `class_map` (the point-cloud detection example)."""
    found = meta_field(meta, "class-map")
    return found if isinstance(found, dict) else {}


def frame_confidences(meta: dict) -> dict[int, list]:
    """Per-frame confidences: `objects: [{"frame-no": 300, "confidence": [...]}, ...]` (point-cloud
    tracking); the i-th confidence belongs to the frame's i-th annotation."""
    found: dict[int, list] = {}
    objects = meta.get("objects")
    if not isinstance(objects, list):
        return found
    for entry in objects:
        if not isinstance(entry, dict) or not isinstance(entry.get("confidence"), list):
            continue
        try:
            frame = frame_number(entry, "objects[]")
        except LineError:
            continue
        if frame is not None:
            found[frame] = entry["confidence"]
    return found


def stamp(table: str, rows: list[Row], prefix: Row, meta: dict) -> list[Row]:
    """`rows` with the label's prefix, class names (from its class map) and confidences."""
    names = FILE_SCHEMAS[table].names
    at = {name: names.index(name) for name in ("class_id", "class_name", "confidence")}
    index = names.index("box_index" if table == "frame_boxes" else "cuboid_index")
    frame_no, classes = names.index("frame_no"), class_map(meta)
    confidences = frame_confidences(meta)
    counts: dict[int | None, int] = {}
    for row in rows:
        counts[row[frame_no]] = counts.get(row[frame_no], 0) + 1
    out = []
    for row in rows:
        values = list(row)
        values[:3] = prefix
        cid = values[at["class_id"]]
        name = classes.get(str(cid)) if cid is not None else None
        values[at["class_name"]] = name if isinstance(name, str) else None
        given = confidences.get(values[frame_no])
        conf = None
        if given is not None and len(given) == counts[values[frame_no]] > values[index]:
            conf = given[values[index]]  # (a frame mixing boxes and cuboids: beyond the list)
            conf = conf if type(conf) in (int, float) else None
        values[at["confidence"]] = None if conf is None else float(conf)
        out.append(tuple(values))
    return out


def stamp_frames(rows: list[Row], prefix: Row) -> list[Row]:
    return [(*prefix, *row[3:]) for row in rows]


# -- the way back: a sequence file from its rows ---------------------------------------------------


def rebuild_sequence(label_type: str, frames: list[dict], boxes: list[dict], cuboids: list[dict]
                     ) -> dict:  # fmt: skip
    """The sequence file as a dict, from its rows of `frames`, `frame_boxes` and `cuboids` (each
    row a dict of columns). Video files spell the frame number as a string under `frame-no` and
    the frame file `frame`; point-cloud files an integer `frame-number` and `frame-name`; class ids
    likewise (string in video files, integer in point-cloud ones), as Ground Truth writes them."""
    video = label_type.startswith("video-")
    items: dict[int, list[tuple[int, dict]]] = {}
    for row in boxes:
        ann = {k: row[k] for k in ("height", "width", "top", "left")}
        ann["class-id"] = _class_text(row["class_id"], video)
        _common(ann, row)
        items.setdefault(row["frame_index"], []).append((row["box_index"], ann))
    for row in cuboids:
        ann: dict[str, Any] = {}
        if row["category_attributes"] is not None:
            ann["label-category-attributes"] = orjson.loads(row["category_attributes"])
        if row["object_name"] is not None:
            ann["object-name"] = row["object_name"]
        ann["class-id"] = _class_text(row["class_id"], video)
        for key in _CUBOID_KEYS:
            ann[key] = row[key.replace("-", "_")]
        if row["track_id"] is not None:
            ann["object-id"] = row["track_id"]
        items.setdefault(row["frame_index"], []).append((row["cuboid_index"], ann))
    out = []
    for frame in sorted(frames, key=lambda f: f["frame_index"]):
        entry: dict[str, Any] = {}
        anns = [a for _, a in sorted(items.get(frame["frame_index"], []), key=lambda p: p[0])]
        if video:
            entry["annotations"] = anns
            entry["frame-no"] = None if frame["frame_no"] is None else str(frame["frame_no"])
            entry["frame"] = frame["frame"]
        else:
            entry["frame-number"] = frame["frame_no"]
            entry["frame-name"] = frame["frame"]
        if frame["frame_attributes"] is not None:
            entry["frame-attributes"] = orjson.loads(frame["frame_attributes"])
        if not video:
            entry["annotations"] = anns
        out.append(entry)
    key = "detection-annotations" if label_type.endswith("detection") else "tracking-annotations"
    return {key: out}


def _class_text(cid: int | None, video: bool) -> int | str | None:
    return str(cid) if video and cid is not None else cid


def _common(ann: dict, row: dict) -> None:
    if row["category_attributes"] is not None:
        ann["label-category-attributes"] = orjson.loads(row["category_attributes"])
    if row["track_id"] is not None:
        ann["object-id"] = row["track_id"]
    if row["object_name"] is not None:
        ann["object-name"] = row["object_name"]
