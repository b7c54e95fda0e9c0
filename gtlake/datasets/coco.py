"""COCO: `instances_<split>.json` per split from bounding boxes, `masks_<split>.json` beside it
for semantic segmentation (mask PNG references and colour maps; the PNGs are not decoded).

- `images`: `file_name` is the `source-ref` URI, `width` / `height` from the label's `image_size`.
- `annotations`: `bbox` [x, y, w, h] in pixels, `area` w * h, `category_id`, `iscrowd` 0, and
  `score` where Ground Truth gave a confidence.
- `categories`: every class name of the selected labels' class maps and boxes, sorted by name,
  ids from 1, the same in every split file: a class keeps its id whichever job used which
  `class_id` for it.
"""

from __future__ import annotations

import duckdb

from gtlake.datasets.export import (
    BOXES_QUERY,
    Export,
    box_class,
    box_class_names,
    json_bytes,
    parse_json,
)

FITS = ("object-detection", "semantic-segmentation")


_MASKS = """
-- one row per selected semantic-segmentation label, its colour map as a list
select
    selected.split,
    selected.object_id,
    selected.source_ref,
    selected.origin_job,
    selected.attribute,
    selected.value,
    list(
        {'class_id': segments.class_id, 'class_name': segments.class_name,
         'hex_color': segments.hex_color, 'confidence': segments.confidence}
        order by segments.class_id
    ) filter (where segments.class_id is not null or segments.class_name is not null)
        as color_map
from selected_labels as selected
left join segments
    on segments.job = selected.job
    and segments.line = selected.line
    and segments.attribute = selected.attribute
where selected.label_type = 'semantic-segmentation'
group by all
order by selected.split, selected.source_ref, selected.origin_job, selected.attribute
"""


def _number(value: float | None) -> int | float | None:
    """Whole pixel counts as ints, as COCO writes them."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def _instances(boxes: list[dict], splits: list[str], info: dict, out: Export) -> set[tuple]:
    """`instances_<split>.json` from the box rows; returns the (split, object) images listed."""
    categories = {name: i for i, name in enumerate(box_class_names(boxes), start=1)}
    documents = {
        split: {
            "info": info,
            "images": [],
            "annotations": [],
            "categories": [
                {"id": i, "name": n, "supercategory": ""} for n, i in categories.items()
            ],
        }
        for split in splits
    }
    images: dict[tuple[str, str], dict] = {}
    for row in boxes:
        split, document = row["split"], documents[row["split"]]
        key = (split, row["object_id"])
        image = images.get(key)
        if image is None:
            image = images[key] = {
                "id": len(document["images"]) + 1,
                "file_name": row["source_ref"],
                "width": _number(row["image_width"]),
                "height": _number(row["image_height"]),
            }
            document["images"].append(image)
            out.objects[split] += 1
        elif image["width"] is None and row["image_width"] is not None:
            image["width"] = _number(row["image_width"])
            image["height"] = _number(row["image_height"])
        if row["box_index"] is None:
            continue  # a label without boxes: the image is listed, with nothing on it
        name = box_class(row["class_name"], row["class_id"])
        annotation = {
            "id": len(document["annotations"]) + 1,
            "image_id": image["id"],
            "category_id": categories[name],
            "bbox": [_number(row[k]) for k in ("left", "top", "width", "height")],
            "area": row["width"] * row["height"],
            "iscrowd": 0,
        }
        if row["confidence"] is not None:
            annotation["score"] = row["confidence"]
        document["annotations"].append(annotation)
        out.count(split, name)
    for split, document in documents.items():
        out.files[f"instances_{split}.json"] = json_bytes(document)
    return set(images)


def _mask_files(masks: list[dict], splits: list[str], out: Export, listed: set[tuple]) -> None:
    """`masks_<split>.json`: per segmentation label its mask URI and colour map."""
    side: dict[str, list] = {split: [] for split in splits}
    for row in masks:
        split = row["split"]
        side[split].append(
            {
                "file_name": row["source_ref"],
                "mask": parse_json(row["value"]),
                "job": row["origin_job"],
                "attribute": row["attribute"],
                "color_map": row["color_map"] or [],
            }
        )
        if (split, row["object_id"]) not in listed:  # an image with a mask and no boxes
            listed.add((split, row["object_id"]))
            out.objects[split] += 1
        out.count(split, "(mask)")
    for split, entries in side.items():
        out.files[f"masks_{split}.json"] = json_bytes(entries)


def build(con: duckdb.DuckDBPyConnection, splits: list[str], info: dict) -> Export:
    out = Export()
    boxes = con.sql(BOXES_QUERY).to_arrow_table().to_pylist()
    masks = con.sql(_MASKS).to_arrow_table().to_pylist()
    listed = _instances(boxes, splits, info, out) if boxes else set()
    if masks:
        _mask_files(masks, splits, out, listed)
    return out
