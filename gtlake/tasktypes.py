"""The one place that knows each Ground Truth task type.

Every label attribute is read by the handler of its type. A handler is a pure function
``(value, metadata, source_text, prefix) -> Facts``: the label-level facts (confidence, class) and
the item rows it produces (boxes, classes, segments, entities, feedback), each row a tuple in the
column order of its schema in :mod:`gtlake.schemas`, starting with ``prefix`` (line, object_id,
attribute). A value that breaks the documented shape raises :class:`LineError`; unknown types get the
generic handler and never fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from gtlake.errors import LineError

Row = tuple[Any, ...]


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
    """A confidence or coordinate: int or float (not bool, not a string); None stays None."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise LineError(f"{what} is {_kind(value)} {_show(value)}, expected a number")


def class_index(value: object, what: str) -> int:
    """A class index: `0` or `"0"` (both seen in real files)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise LineError(f"{what} is {_kind(value)} {_show(value)}, expected a class index")


def integer(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
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


def _confidences(meta: dict, key: str, count: int, what: str) -> tuple[list, str | None]:
    """Per-item confidences paired by position; a count mismatch is reported, never guessed."""
    objects = meta.get(key)
    if objects is None:
        if count == 0:
            return [], None
        return [None] * count, f"{count} {what} but no {key}[] confidences; confidences left null"
    items = _list(objects, key)
    found = [number(_dict(o, f"{key}[{i}]").get("confidence"), f"{key}[{i}].confidence")
             for i, o in enumerate(items)]  # fmt: skip
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
    rows = []
    for i, box in enumerate(annotations):
        box = _dict(box, f"annotations[{i}]")
        raw_id = box.get("class_id")
        cid = None if raw_id is None else class_index(raw_id, f"annotations[{i}].class_id")
        row = (
            *p,
            i,
            cid,
            None if raw_id is None else class_map.get(str(raw_id).strip()),
            number(box.get("left"), f"annotations[{i}].left"),
            number(box.get("top"), f"annotations[{i}].top"),
            number(box.get("width"), f"annotations[{i}].width"),
            number(box.get("height"), f"annotations[{i}].height"),
            confidences[i],
            width,
            height,
            depth,
        )
        rows.append(("boxes", row))
    return Facts(warning=warning, items=tuple(rows))


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
}


def handler_for(label_type: str) -> Handler:
    return HANDLERS.get(label_type, generic)
