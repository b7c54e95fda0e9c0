"""Arrow schemas of every lake table, declared once.

Every table is a Delta Lake table partitioned by `job`, `type` and `ingest_id` (the id of the ingest
run that wrote the rows; see `gtlake.lake`). `FILE_SCHEMAS` holds each table's own columns. A data
file stores `job` and `ingest_id` too (they are known when its first row is written; `type` is
decided only at the end of the job's manifest), so a reader that opens files directly still gets
the exact job name; Delta readers take all three from the log's partition values.
"""

from __future__ import annotations

import pyarrow as pa

PARTITION_COLUMNS = ("job", "type")
INGEST_ID = "ingest_id"
# The Delta tables' partition columns.
DELTA_PARTITIONS = (*PARTITION_COLUMNS, INGEST_ID)

_LINE = [
    pa.field("line", pa.int64(), nullable=False),
    pa.field("object_id", pa.string()),
]
_ITEM = [*_LINE, pa.field("attribute", pa.string(), nullable=False)]
_TS = pa.timestamp("us", tz="UTC")

FILE_SCHEMAS: dict[str, pa.Schema] = {
    # one row per manifest line
    "objects": pa.schema(
        [
            *_LINE,
            pa.field("source_ref", pa.string()),
            pa.field("source", pa.string()),
            pa.field("attributes", pa.string()),
            pa.field("raw", pa.large_string()),
        ]
    ),
    # one row per (line, label attribute)
    "labels": pa.schema(
        [
            *_ITEM,
            pa.field("metadata_key", pa.string()),
            pa.field("label_job", pa.string()),
            pa.field("label_type", pa.string()),
            pa.field("is_inherited", pa.bool_()),
            pa.field("human_annotated", pa.bool_()),
            pa.field("created_at", _TS),
            pa.field("confidence", pa.float64()),
            pa.field("class_id", pa.int64()),
            pa.field("class_name", pa.string()),
            pa.field("adjustment_status", pa.string()),
            pa.field("value", pa.large_string()),
            pa.field("metadata", pa.large_string()),
            pa.field("warning", pa.string()),
        ]
    ),
    # one row per bounding box
    "boxes": pa.schema(
        [
            *_ITEM,
            pa.field("box_index", pa.int32()),
            pa.field("class_id", pa.int64()),
            pa.field("class_name", pa.string()),
            pa.field("left", pa.float64()),
            pa.field("top", pa.float64()),
            pa.field("width", pa.float64()),
            pa.field("height", pa.float64()),
            pa.field("confidence", pa.float64()),
            pa.field("image_width", pa.int64()),
            pa.field("image_height", pa.int64()),
            pa.field("image_depth", pa.int64()),
        ]
    ),
    # one row per class of a multi-label answer
    "classes": pa.schema(
        [
            *_ITEM,
            pa.field("class_id", pa.int64()),
            pa.field("class_name", pa.string()),
            pa.field("confidence", pa.float64()),
        ]
    ),
    # one row per entry of a semantic-segmentation colour map
    "segments": pa.schema(
        [
            *_ITEM,
            pa.field("mask_ref", pa.string()),
            pa.field("class_id", pa.int64()),
            pa.field("class_name", pa.string()),
            pa.field("hex_color", pa.string()),
            pa.field("confidence", pa.float64()),
        ]
    ),
    # one row per named-entity span
    "entities": pa.schema(
        [
            *_ITEM,
            pa.field("entity_index", pa.int32()),
            pa.field("label", pa.string()),
            pa.field("start_offset", pa.int64()),
            pa.field("end_offset", pa.int64()),
            pa.field("text", pa.string()),
            pa.field("confidence", pa.float64()),
        ]
    ),
    # one row per verification comment
    "feedback": pa.schema(
        [
            *_ITEM,
            pa.field("comment_index", pa.int32()),
            pa.field("comment", pa.string()),
        ]
    ),
    # one row per answer of one worker in a worker-response file
    # (`annotations/worker-response/iteration-<n>/<object-index>/<timestamp>.json`)
    "worker_responses": pa.schema(
        [
            pa.field("iteration", pa.int32()),
            pa.field("object_index", pa.int64()),
            pa.field("file", pa.string(), nullable=False),
            pa.field("answer_index", pa.int32(), nullable=False),
            pa.field("worker_id", pa.string()),
            pa.field("workforce", pa.string()),
            pa.field("acceptance_time", _TS),
            pa.field("submission_time", _TS),
            pa.field("time_spent_s", pa.float64()),
            pa.field("answer", pa.large_string()),
            pa.field("worker_metadata", pa.string()),
        ]
    ),
    # one row per worker annotation of a consolidation request, and per data object of a
    # consolidation response (`annotations/consolidated-annotation/consolidation-*/iteration-<n>/`)
    "consolidation": pa.schema(
        [
            pa.field("iteration", pa.int32()),
            pa.field("file", pa.string(), nullable=False),
            pa.field("direction", pa.string(), nullable=False),
            pa.field("entry_index", pa.int32(), nullable=False),
            pa.field("dataset_object_id", pa.string()),
            pa.field("data_object", pa.large_string()),
            pa.field("annotation_index", pa.int32()),
            pa.field("worker_id", pa.string()),
            pa.field("workforce", pa.string()),
            pa.field("content", pa.large_string()),
        ]
    ),
    # one row per intermediate manifest (`manifests/intermediate/<n>/output.manifest`)
    "iterations": pa.schema(
        [
            pa.field("iteration", pa.int32(), nullable=False),
            pa.field("file", pa.string(), nullable=False),
            pa.field("lines", pa.int64(), nullable=False),
            pa.field("labeled_lines", pa.int64(), nullable=False),
            pa.field("bad_lines", pa.int64(), nullable=False),
            pa.field("size", pa.int64(), nullable=False),
        ]
    ),
    # one row per object under the job directory, as listed
    "files": pa.schema(
        [
            pa.field("path", pa.string(), nullable=False),
            pa.field("kind", pa.string(), nullable=False),
            pa.field("size", pa.int64(), nullable=False),
            pa.field("etag", pa.string()),
            pa.field("last_modified", _TS),
        ]
    ),
    # one row per line (or whole file, line null) that could not be read
    "quarantine": pa.schema(
        [
            pa.field("file", pa.string(), nullable=False),
            pa.field("line", pa.int64()),
            pa.field("byte_offset", pa.int64()),
            pa.field("error", pa.string(), nullable=False),
            pa.field("raw", pa.large_string()),
        ]
    ),
    # one row per job
    "jobs": pa.schema(
        [
            pa.field("label_attribute", pa.string()),
            pa.field("status", pa.string(), nullable=False),
            pa.field("manifest", pa.string()),
            pa.field("lines", pa.int64(), nullable=False),
            pa.field("labeled_lines", pa.int64(), nullable=False),
            pa.field("quarantined_lines", pa.int64(), nullable=False),
            pa.field("fingerprint", pa.string()),
            pa.field("ingested_at", _TS),
            # {table: Delta version} holding this ingest's rows: a reader pins each table at the
            # highest version named by the current `jobs` rows (see gtlake.lake)
            pa.field("table_versions", pa.string()),
        ]
    ),
}

# Tables derived from manifest lines, in the order the flattener emits them.
LINE_TABLES = ("objects", "labels", "boxes", "classes", "segments", "entities", "feedback")
TABLES = tuple(FILE_SCHEMAS)


def full_schema(table: str) -> pa.Schema:
    """The schema a reader sees: partition columns first, then the file's columns."""
    parts = [pa.field(name, pa.string(), nullable=False) for name in PARTITION_COLUMNS]
    return pa.schema([*parts, *FILE_SCHEMAS[table]])


def stored_schema(table: str) -> pa.Schema:
    """The columns of a data file: `job` and `ingest_id`, then the table's own columns."""
    keys = [pa.field("job", pa.string(), nullable=False), pa.field(INGEST_ID, pa.string(), False)]
    return pa.schema([*keys, *FILE_SCHEMAS[table]])


def delta_schema(table: str) -> pa.Schema:
    """The Delta table's schema: the partition columns, then the table's own columns."""
    parts = [pa.field(name, pa.string(), nullable=False) for name in DELTA_PARTITIONS]
    return pa.schema([*parts, *FILE_SCHEMAS[table]])
