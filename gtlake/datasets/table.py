"""csv for classification (image or text, single or multi-label): `<split>.csv` with the columns
`source_ref`, `text`, `label`, `confidence`, `job`, `split`; one row per label, one per class of a
multi-label answer. `job` is the job whose confidence scale applies (`origin_job`)."""

from __future__ import annotations

import csv
import io

import duckdb

from gtlake.datasets.export import Export

FITS = (
    "image-classification",
    "text-classification",
    "image-classification-multilabel",
    "text-classification-multilabel",
)
COLUMNS = ("source_ref", "text", "label", "confidence", "job", "split")

_ROWS = """
-- one row per selected classification label, one per class of a multi-label answer
select
    selected.split,
    selected.source_ref,
    selected.source as text,
    case
        when selected.label_type like '%-multilabel' then classes.class_name
        else coalesce(selected.class_name, cast(selected.class_id as varchar))
    end as label,
    case
        when selected.label_type like '%-multilabel' then classes.confidence
        else selected.confidence
    end as confidence,
    selected.origin_job as job,
    selected.object_id
from selected_labels as selected
left join classes
    on classes.job = selected.job
    and classes.line = selected.line
    and classes.attribute = selected.attribute
    and selected.label_type like '%-multilabel'
order by selected.split, selected.source_ref, selected.source, selected.object_id,
    selected.origin_job, selected.attribute, classes.class_id
"""


def build(con: duckdb.DuckDBPyConnection, splits: list[str], info: dict) -> Export:
    out = Export()
    rows = con.sql(_ROWS).to_arrow_table().to_pylist()
    buffers = {split: io.StringIO(newline="") for split in splits}
    writers = {split: csv.writer(buffer, lineterminator="\n") for split, buffer in buffers.items()}
    for writer in writers.values():
        writer.writerow(COLUMNS)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        split = row["split"]
        writers[split].writerow(["" if row[c] is None else row[c] for c in COLUMNS])
        if (split, row["object_id"]) not in seen:
            seen.add((split, row["object_id"]))
            out.objects[split] += 1
        out.count(split, row["label"] if row["label"] is not None else "(none)")
    for split, buffer in buffers.items():
        out.files[f"{split}.csv"] = buffer.getvalue().encode()
    return out
