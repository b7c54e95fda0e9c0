"""SageMaker augmented manifest: `<split>.manifest`, one JSON line per object holding its
`source-ref` (or `source`) and the selected label under one stable attribute name, with that
label's metadata as Ground Truth wrote it; and `attribute_names.json`, the `AttributeNames` of a
training job's channel (`["source-ref", "<name>"]`).

Every task type fits (classification, multi-label, boxes, masks, named entities, ...), but a
training channel reads one kind of label under one name, so the selection must hold one label
type and at most one label per object; `--where` narrows it otherwise.
"""

from __future__ import annotations

from collections import Counter

import duckdb
import orjson

from gtlake.datasets.export import Export
from gtlake.datasets.selection import DatasetError

FITS = None  # every label type
DEFAULT_ATTRIBUTE = "label"
# types whose label value is a reference (an S3 URI), so the attribute name ends in `-ref`
_REFERENCE_TYPES = ("semantic-segmentation",)

_LABELS = """
-- one row per selected label, in the order the lines are written
select split, object_id, source_ref, source, label_type, attribute, class_name, value, metadata
from selected_labels
order by split, source_ref, source, object_id
"""


def attribute_name(name: str, label_types: set[str], attributes: set[str]) -> str:
    """The stable name, with `-ref` added where the labels are references (masks, video...)."""
    is_reference = all(a.endswith("-ref") for a in attributes) or any(
        t in _REFERENCE_TYPES or t.startswith(("video-", "point-cloud-")) for t in label_types
    )
    if is_reference and not name.endswith("-ref"):
        return f"{name}-ref"
    return name


def build(
    con: duckdb.DuckDBPyConnection,
    splits: list[str],
    info: dict,
    attribute: str = DEFAULT_ATTRIBUTE,
) -> Export:
    out = Export()
    rows = con.sql(_LABELS).to_arrow_table().to_pylist()
    types = Counter(row["label_type"] for row in rows)
    if len(types) > 1:
        held = ", ".join(f"{t} ({n})" for t, n in sorted(types.items()))
        raise DatasetError(
            f"manifest: a training channel reads one label type; the selection holds {held}: "
            "pick one with --where \"label_type = '...'\""
        )
    per_object = Counter(row["object_id"] for row in rows)
    crowded = [row for row in rows if per_object[row["object_id"]] > 1]
    if crowded:
        first = crowded[0]["object_id"]
        attributes = sorted(row["attribute"] for row in crowded if row["object_id"] == first)
        where = crowded[0]["source_ref"] or crowded[0]["source"]
        raise DatasetError(
            f"manifest: one line per object, but {where!r} has {len(attributes)} selected labels "
            f"({', '.join(attributes)}): narrow the selection with --where"
        )
    if all(row["source_ref"] is not None for row in rows):
        source_key = "source-ref"
    elif all(row["source"] is not None for row in rows):
        source_key = "source"
    else:
        raise DatasetError(
            "manifest: some selected objects have a source-ref and others only a source: "
            "narrow the selection with --where"
        )
    name = attribute_name(attribute, set(types), {row["attribute"] for row in rows})
    lines: dict[str, list[bytes]] = {split: [] for split in splits}
    for row in rows:
        line = {
            source_key: row["source_ref"] if source_key == "source-ref" else row["source"],
            name: orjson.Fragment(row["value"]),
            f"{name}-metadata": orjson.Fragment(row["metadata"]),
        }
        lines[row["split"]].append(orjson.dumps(line) + b"\n")
        out.objects[row["split"]] += 1
        out.count(row["split"], row["class_name"] or row["label_type"])
    for split, content in lines.items():
        out.files[f"{split}.manifest"] = b"".join(content)
    out.attribute_names = [source_key, name]
    out.files["attribute_names.json"] = orjson.dumps(out.attribute_names) + b"\n"
    return out
