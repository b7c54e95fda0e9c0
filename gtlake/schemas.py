"""Arrow schemas of every lake table, declared once.

A table's Parquet files hold the columns below; `job` and `type` are not stored in the files but
in the Hive partition path (`<table>/job=<job>/type=<type>/part-0.parquet`), which every reader
(DuckDB, polars, pyarrow, Athena, Spark) turns back into columns.
"""

from __future__ import annotations

import pyarrow as pa

PARTITION_COLUMNS = ("job", "type")

_LINE = [
    pa.field("line", pa.int64(), nullable=False),
    pa.field("object_id", pa.string()),
]
_ITEM = [*_LINE, pa.field("attribute", pa.string(), nullable=False)]
_TS = pa.timestamp("us", tz="UTC")
# where a row of a referenced sequence file sits: the file (under the job directory), the frame's
# position in the file, its number and its file name (image or point cloud)
_FRAME = [
    pa.field("file", pa.string()),
    pa.field("frame_index", pa.int32()),
    pa.field("frame_no", pa.int64()),
    pa.field("frame", pa.string()),
]

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
    # one row per frame of a sequence file a video or point-cloud label refers to (`<attr>-ref`,
    # `annotations/consolidated-annotation/output/<index>/SeqLabel.json`); `file` is its path
    # under the job directory
    "frames": pa.schema(
        [
            *_ITEM,
            *_FRAME,
            pa.field("frame_attributes", pa.string()),
            pa.field("annotations", pa.int32()),
        ]
    ),
    # one row per 2D box of a video frame (video object detection and tracking)
    "frame_boxes": pa.schema(
        [
            *_ITEM,
            *_FRAME,
            pa.field("box_index", pa.int32()),
            pa.field("track_id", pa.string()),
            pa.field("object_name", pa.string()),
            pa.field("class_id", pa.int64()),
            pa.field("class_name", pa.string()),
            pa.field("left", pa.float64()),
            pa.field("top", pa.float64()),
            pa.field("width", pa.float64()),
            pa.field("height", pa.float64()),
            pa.field("confidence", pa.float64()),
            pa.field("category_attributes", pa.string()),
            pa.field("frame_attributes", pa.string()),
        ]
    ),
    # one row per 3D cuboid: of a point-cloud detection label (on the manifest line; `file` and
    # the frame columns null) or of a frame of a point-cloud tracking sequence file
    "cuboids": pa.schema(
        [
            *_ITEM,
            *_FRAME,
            pa.field("cuboid_index", pa.int32()),
            pa.field("track_id", pa.string()),
            pa.field("object_name", pa.string()),
            pa.field("class_id", pa.int64()),
            pa.field("class_name", pa.string()),
            pa.field("center_x", pa.float64()),
            pa.field("center_y", pa.float64()),
            pa.field("center_z", pa.float64()),
            pa.field("length", pa.float64()),
            pa.field("width", pa.float64()),
            pa.field("height", pa.float64()),
            pa.field("roll", pa.float64()),
            pa.field("pitch", pa.float64()),
            pa.field("yaw", pa.float64()),
            pa.field("confidence", pa.float64()),
            pa.field("category_attributes", pa.string()),
            pa.field("frame_attributes", pa.string()),
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
        ]
    ),
}

# Tables derived from manifest lines, in the order the flattener emits them.
LINE_TABLES = (
    "objects", "labels", "boxes", "classes", "segments", "entities", "feedback", "cuboids",
)  # fmt: skip
# Tables read from the sequence files that video and point-cloud labels refer to.
FRAME_TABLES = ("frames", "frame_boxes", "cuboids")
TABLES = tuple(FILE_SCHEMAS)


def full_schema(table: str) -> pa.Schema:
    """The schema a reader sees: partition columns first, then the file's columns."""
    parts = [pa.field(name, pa.string(), nullable=False) for name in PARTITION_COLUMNS]
    return pa.schema([*parts, *FILE_SCHEMAS[table]])
