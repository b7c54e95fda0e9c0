"""Flattening manifest lines into the rows of the lake's tables.

- :mod:`gtlake.flatten.spec`: each Ground Truth task type, declared once (which fields become
  which columns, their checks, how confidences pair with items).
- :mod:`gtlake.flatten.reference`: the interpreter of a spec for one label of one line, the
  authority on every rule (and the fallback of the vectorised path).
- :mod:`gtlake.flatten.vector`: the same specs applied to a block of lines at once, in Arrow.
- :mod:`gtlake.flatten.common`: what every label shares (finding labels, common metadata fields,
  the object id) and the line rebuilt from its stored columns.
"""

from gtlake.flatten.common import (
    SOURCE_KEYS,
    Label,
    created_at,
    find_labels,
    hash_id,
    human_annotated,
    json_text,
    label_job,
    loads,
    meta_field,
    object_id,
    plain,
    rebuild_line,
    rebuild_text,
    text_or_json,
)
from gtlake.flatten.reference import Facts, LineRows, flatten_line, read_label

__all__ = [
    "SOURCE_KEYS",
    "Facts",
    "Label",
    "LineRows",
    "created_at",
    "find_labels",
    "flatten_line",
    "hash_id",
    "human_annotated",
    "json_text",
    "label_job",
    "loads",
    "meta_field",
    "object_id",
    "plain",
    "read_label",
    "rebuild_line",
    "rebuild_text",
    "text_or_json",
]
