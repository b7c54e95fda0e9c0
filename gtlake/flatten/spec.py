"""Each Ground Truth task type, declared once.

A :class:`TaskSpec` says which fields of a label's value and metadata become which columns of
which table (column names are those of :mod:`gtlake.schemas`), how each is checked (the check
decides what is quarantined: a value of the wrong type fails the line with the field's name in
the message), how per-item confidences pair with the items (a count mismatch is a warning, never
a guess) and which table gets one row per item. Two paths read these specs: the reference
interpreter (:mod:`gtlake.flatten.reference`, one label at a time) and the vectorised engine
(:mod:`gtlake.flatten.vector`, a block of lines at a time in Arrow). Adding a column to a table
is the schema plus one entry here.

Sources of a column:

- :class:`At` a field: ``root`` is ``value`` (the label's value), ``meta`` (its metadata),
  ``item`` (the current item of an item list), ``key`` (the current item's key, when the items
  are the entries of an object) or ``source`` (the line's `source` text); ``path`` the keys
  below it (``FIRST``: a one-element list's element, or the object itself); ``check`` one of
  :data:`CHECKS`; ``what`` the field's name in messages (``{i}``: the item's position,
  ``{key}``: its key).
- :class:`Lookup` a name or number from a map in the metadata (`class-map`), keyed by another
  column's raw value as text.
- :class:`Paired` the item's entry in a list of the metadata (`objects[i].confidence`).
- :class:`Index` the item's position; :class:`Slice` a slice of a text by two other columns.
- :class:`Shared` (label level) the value every item has in a column, else null.
- :class:`SingleClass` (label level) the class of a one-entry class map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FIRST = "[0]?"  # a path step: a list's first element (None when empty), or the value itself

# What a check accepts; anything else fails the line (quarantine), except `name`.
CHECKS = {
    "any": "anything, stored as it is",
    "number": "int or float (not bool) that a float64 holds, or null",
    "integer": "int (or integral float) that an int64 holds, or null",
    "class": "a class index: an int64 or a string of ASCII digits (never null)",
    "class?": "a class index, or null",
    "name": "a string; anything else is stored as null",
    "string": "a string or null",
    "text": "a string as it is, anything else as compact JSON; null stays null",
    "uri": "a string (an S3 URI) or null",
    "object": "an object; null reads as an empty one",
    "list": "a list; null reads as an empty one",
}


@dataclass(frozen=True)
class At:
    root: str
    path: tuple[str, ...] = ()
    check: str = "any"
    what: str = ""
    alias: tuple[str, ...] = ()  # older spellings of the last key (`class_map`)


@dataclass(frozen=True)
class Lookup:
    map: At  # the map (checked as an object once per label)
    key: str  # the column whose raw value, as text, is the key
    check: str = "name"
    what: str = ""  # the looked-up value's name in messages (`{key}`)


@dataclass(frozen=True)
class Paired:
    list_key: str  # the metadata's list: `objects`, `entities`
    noun: str  # what the items are called in the warning: `boxes`
    field: str = "confidence"


@dataclass(frozen=True)
class Index:
    pass


@dataclass(frozen=True)
class Slice:
    text: At
    start: str
    end: str


@dataclass(frozen=True)
class Shared:
    column: str  # an item column; the label gets its value when every item has the same


@dataclass(frozen=True)
class SingleClass:
    part: str  # "id" or "name"
    maps: tuple[str, ...] = ("class-map", "class_map")


Source = At | Lookup | Paired | Index | Slice | Shared | SingleClass
# A reader of the item rows of one label that the vocabulary above does not describe (point-cloud
# cuboids reuse the sequence-file reader): (value, meta, source) -> (rows, warning).
RowsReader = Callable[[Any, dict, Any], tuple[list[dict], str | None]]


@dataclass(frozen=True)
class Items:
    """One row of `table` per item of the list (or object: `entries`) at `over`."""

    table: str
    over: At | None = None
    item: str = ""  # an item's name in messages (`annotations[{i}]`)
    shape: str = "objects"  # `objects`, `scalars` (the list's own values), `entries` (key, object)
    columns: dict[str, Source] = field(default_factory=dict)
    reader: RowsReader | None = None


@dataclass(frozen=True)
class TaskSpec:
    kind: str
    label: dict[str, Source] = field(default_factory=dict)  # confidence, class_id, class_name
    items: Items | None = None
    checks: tuple[At, ...] = ()  # fields checked before anything else
    requires: str | None = None  # a metadata key without which the type reads as `generic`


# -- the label columns every type shares (metadata fields, read by gtlake.flatten.common) -------

_CONFIDENCE = At("meta", ("confidence",), "number", "confidence")
_CLASS_NAME = At("meta", ("class-name",), "name")

GENERIC = TaskSpec("generic", label={"confidence": _CONFIDENCE, "class_name": _CLASS_NAME})

CLASSIFICATION = TaskSpec(
    "classification",
    label={
        "confidence": _CONFIDENCE,
        "class_id": At("value", (), "class", "label value"),
        "class_name": _CLASS_NAME,
    },
)

VERIFICATION = TaskSpec(
    "verification",
    label=CLASSIFICATION.label,
    items=Items(
        "feedback",
        over=At("meta", ("worker-feedback",), "list", "worker-feedback"),
        item="worker-feedback[{i}]",
        columns={
            "comment_index": Index(),
            "comment": At("item", ("comment",), "string", "worker-feedback[{i}].comment"),
        },
    ),
)

_CLASS_MAP = At("meta", ("class-map",), "object", "class-map")

MULTILABEL = TaskSpec(
    "multilabel",
    items=Items(
        "classes",
        over=At("value", (), "list", "label value"),
        shape="scalars",
        columns={
            "class_id": At("item", (), "class", "label value[{i}]"),
            "class_name": Lookup(_CLASS_MAP, "class_id"),
            "confidence": Lookup(
                At("meta", ("confidence-map",), "object", "confidence-map"),
                "class_id",
                "number",
                "confidence-map[{key!r}]",
            ),
        },
    ),
)

BOXES = TaskSpec(
    "boxes",
    items=Items(
        "boxes",
        over=At("value", ("annotations",), "list", "annotations"),
        item="annotations[{i}]",
        columns={
            "box_index": Index(),
            "left": At("item", ("left",), "number", "annotations[{i}].left"),
            "top": At("item", ("top",), "number", "annotations[{i}].top"),
            "width": At("item", ("width",), "number", "annotations[{i}].width"),
            "height": At("item", ("height",), "number", "annotations[{i}].height"),
            "class_id": At("item", ("class_id",), "class?", "annotations[{i}].class_id"),
            "class_name": Lookup(_CLASS_MAP, "class_id"),
            "confidence": Paired("objects", "boxes"),
            "image_width": At(
                "value", ("image_size", FIRST, "width"), "integer", "image_size.width"
            ),
            "image_height": At(
                "value", ("image_size", FIRST, "height"), "integer", "image_size.height"
            ),
            "image_depth": At(
                "value", ("image_size", FIRST, "depth"), "integer", "image_size.depth"
            ),
        },  # fmt: skip
    ),
)


def _segments(colors: str) -> TaskSpec:
    """Image (`internal-color-map`) and point-cloud (`color-map`) semantic segmentation."""
    return TaskSpec(
        "segmentation",
        checks=(At("value", (), "uri", "mask reference"),),
        label={"confidence": Shared("confidence")},  # one confidence per image, shared
        items=Items(
            "segments",
            over=At("meta", (colors,), "object", colors),
            item=colors + "[{key!r}]",
            shape="entries",
            columns={
                "confidence": At(
                    "item", ("confidence",), "number", colors + "[{key!r}].confidence"
                ),
                "class_id": At("key", (), "class", colors + " key"),
                "mask_ref": At("value"),  # checked above
                "class_name": At("item", ("class-name",), "name"),
                "hex_color": At("item", ("hex-color",), "name"),
            },
        ),
        requires=None if colors == "internal-color-map" else colors,
    )


TEXT_SPANS = TaskSpec(
    "text-spans",
    items=Items(
        "entities",
        over=At("value", ("annotations", "entities"), "list", "entities"),
        item="annotations.entities[{i}]",
        columns={
            "entity_index": Index(),
            "start_offset": At("item", ("startOffset",), "integer", "entities[{i}].startOffset"),
            "end_offset": At("item", ("endOffset",), "integer", "entities[{i}].endOffset"),
            "label": At("item", ("label",), "name"),
            "text": Slice(At("source", (), "name"), "start_offset", "end_offset"),
            "confidence": Paired("entities", "entities"),
        },
    ),
)

SEQUENCE = TaskSpec(
    "sequence",  # video and point-cloud tracking: the boxes are in the referenced sequence file
    label={
        "confidence": _CONFIDENCE,
        "class_id": SingleClass("id"),
        "class_name": SingleClass("name"),
    },
)


def _cuboid_rows(value: Any, meta: dict, source: Any) -> tuple[list[dict], str | None]:
    from gtlake.flatten.cuboids import cuboid_rows  # it imports gtlake.sequences

    return cuboid_rows(value, meta)


CUBOIDS = TaskSpec(
    "cuboids",  # 3D point-cloud object detection: `{"annotations": [cuboid, ...]}` on the line
    label=SEQUENCE.label,
    items=Items("cuboids", reader=_cuboid_rows),
)

SPECS: dict[str, TaskSpec] = {
    "image-classification": CLASSIFICATION,
    "text-classification": CLASSIFICATION,
    "label-verification": VERIFICATION,
    "image-classification-multilabel": MULTILABEL,
    "text-classification-multilabel": MULTILABEL,
    "object-detection": BOXES,
    "semantic-segmentation": _segments("internal-color-map"),
    "text-span": TEXT_SPANS,
    "video-object-detection": SEQUENCE,
    "video-object-tracking": SEQUENCE,
    "point-cloud-object-tracking": SEQUENCE,
    "point-cloud-object-detection": CUBOIDS,
    "point-cloud-single-frame-semantic-segmentation": _segments("color-map"),
}


def spec_for(kind: str) -> TaskSpec:
    """The spec of a (normalised) task type; custom and unknown types are `GENERIC`."""
    return SPECS.get(kind, GENERIC)
