"""What every training-set format shares: the files it writes and the counts it reports."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import orjson


@dataclass
class Export:
    """A format's output: files (relative path -> bytes) and counts per split.

    `objects[split]` counts data objects (images, lines, rows' objects); `classes[split][name]`
    counts the items written (boxes, masks, labels, rows) per class name.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    objects: Counter = field(default_factory=Counter)
    classes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    attribute_names: list[str] | None = None

    def count(self, split: str, class_name: str, n: int = 1) -> None:
        self.classes[split][class_name] += n

    def summary(self, splits: list[str]) -> dict[str, dict]:
        """Per split: objects, items and items per class (classes sorted by name)."""
        return {
            split: {
                "objects": self.objects[split],
                "items": sum(self.classes[split].values()),
                "classes": dict(sorted(self.classes[split].items())),
            }
            for split in splits
        }


def json_bytes(value: object) -> bytes:
    """Pretty enough to read, compact enough to load: one level of indentation."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def parse_json(text: str | None) -> object:
    return None if text is None else orjson.loads(text)


def class_names_from_map(metadata: str | None, key: str = "class-map") -> list[str]:
    """The class names of a label's class map (`class-map`, or `internal-color-map` entries)."""
    meta = parse_json(metadata)
    if not isinstance(meta, dict):
        return []
    mapping = meta.get(key)
    if not isinstance(mapping, dict):
        return []
    names = []
    for entry in mapping.values():
        name = entry.get("class-name") if isinstance(entry, dict) else entry
        if isinstance(name, str):
            names.append(name)
    return names


BOXES_QUERY = """
-- one row per box of a selected object-detection label; a label without boxes gives one row
-- with null box columns, so its image is still listed (an image with nothing on it)
select
    selected.split,
    selected.object_id,
    selected.source_ref,
    selected.metadata,
    try_cast(json_extract_string(selected.value, '$.image_size[0].width') as double)
        as image_width,
    try_cast(json_extract_string(selected.value, '$.image_size[0].height') as double)
        as image_height,
    boxes.box_index,
    boxes.class_id,
    boxes.class_name,
    boxes."left",
    boxes.top,
    boxes.width,
    boxes.height,
    boxes.confidence
from selected_labels as selected
left join boxes
    on boxes.job = selected.job
    and boxes.line = selected.line
    and boxes.attribute = selected.attribute
where selected.label_type = 'object-detection'
order by selected.split, selected.source_ref, selected.object_id, selected.origin_job,
    selected.attribute, boxes.box_index
"""


def box_class(class_name: str | None, class_id: int | None) -> str:
    """A box's class name, or its class id where the class map lacks it."""
    return class_name if class_name is not None else str(class_id)


def box_class_names(rows: list[dict]) -> list[str]:
    """Every class name of the box rows' labels (class maps, and boxes a map lacks), sorted:
    the same list for every split, so a class keeps its index whichever job named it how."""
    names: set[str] = set()
    for row in rows:
        names.update(class_names_from_map(row["metadata"]))
        if row["box_index"] is not None:
            names.add(box_class(row["class_name"], row["class_id"]))
    return sorted(names)
