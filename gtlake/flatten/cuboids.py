"""Point-cloud object detection labels: cuboids on the line, read as in sequence files."""

from __future__ import annotations

from typing import Any

from gtlake.schemas import FILE_SCHEMAS
from gtlake.sequences import compact_json, cuboid_row, stamp
from gtlake.tasktypes import as_dict, as_list, paired_confidences

_NAMES = FILE_SCHEMAS["cuboids"].names
_NO_PREFIX = (None, None, None)  # the interpreter fills line, object_id and attribute
_NOWHERE = (None, None, None, None)  # on the line: no file, no frame


def cuboid_rows(value: Any, meta: dict) -> tuple[list[dict], str | None]:
    """The `cuboids` rows of one label and the warning about its confidences, if any."""
    value = as_dict(value, "label value")
    cuboids = as_list(value.get("annotations"), "annotations")
    attrs = compact_json(meta.get("dataset-object-attributes"))
    rows = [cuboid_row(_NO_PREFIX, _NOWHERE, i, ann, attrs) for i, ann in enumerate(cuboids)]
    confidences, warning = [], None
    if meta.get("objects"):  # `objects: []` in the documentation's example: none given
        confidences, warning = paired_confidences(meta, "objects", len(rows), "cuboids")
    rows = stamp("cuboids", rows, _NO_PREFIX, meta)
    out = [dict(zip(_NAMES, row, strict=True)) for row in rows]
    if confidences:
        for row, confidence in zip(out, confidences, strict=True):
            row["confidence"] = confidence
    return out, warning
