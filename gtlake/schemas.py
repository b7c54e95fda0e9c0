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
            pa.field("source", pa.large_string()),
            pa.field("attributes", pa.large_string()),
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
            # {table: Delta version} holding this ingest's rows: a reader pins each table at the
            # highest version named by the current `jobs` rows (see gtlake.lake)
            pa.field("table_versions", pa.string()),
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


def stored_schema(table: str) -> pa.Schema:
    """The columns of a data file: `job` and `ingest_id`, then the table's own columns."""
    keys = [pa.field("job", pa.string(), nullable=False), pa.field(INGEST_ID, pa.string(), False)]
    return pa.schema([*keys, *FILE_SCHEMAS[table]])


def empty_table(schema: pa.Schema) -> pa.Table:
    """A table of `schema` with no rows (not `schema.empty_table()`, nor `pa.array([])`: pyarrow
    imports pandas behind both, 0.18 s and 50 MB, to check whether the input is a DataFrame)."""
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)


def delta_schema(table: str) -> pa.Schema:
    """The Delta table's schema: the partition columns, then the table's own columns."""
    parts = [pa.field(name, pa.string(), nullable=False) for name in DELTA_PARTITIONS]
    return pa.schema([*parts, *FILE_SCHEMAS[table]])


# What every column holds, one description per column of every table (the partition columns
# under "*"). The Dagster assets show them in their column schemas; the README's table reference
# quotes them in parentheses (tests/test_schemas.py checks that the two agree and that no
# column goes undescribed).
_LINE_DOC = {
    "line": "0-based line number in the manifest",
    "object_id": "a 64-bit hash, hex, of the line's `source-ref`, else its `source`",
}
_ITEM_DOC = {
    **_LINE_DOC,
    "attribute": "the key holding the value, e.g. `city-streets-ref`",
}
_FRAME_DOC = {
    **_ITEM_DOC,
    "file": "the sequence file, relative to the job directory; null for cuboids on the line",
    "frame_index": "the frame's position in the sequence file",
    "frame_no": "`frame-no` / `frame-number`, as an integer",
    "frame": "the frame's image or point-cloud file: `frame` / `frame-name`",
}
COLUMN_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "*": {
        "job": "the job directory's name (Delta partition)",
        "type": "the job's own task type, e.g. `object-detection` (Delta partition)",
        "ingest_id": "the ingest run that wrote the row (Delta partition; see the snapshot rule)",
    },
    "objects": {
        **_LINE_DOC,
        "source_ref": "the line's `source-ref` (the data object's S3 URI)",
        "source": "the line's inline `source` (text tasks)",
        "attributes": "JSON of the passthrough keys, each value its original text",
        "raw": "the line",
    },
    "labels": {
        **_ITEM_DOC,
        "metadata_key": "the key of the label's metadata (`A-metadata` or `A-ref-metadata`)",
        "label_job": "`job-name` less `labeling-job/`",
        "label_type": "the label's task type (`type` less `groundtruth/`)",
        "is_inherited": "the label came from an upstream job",
        "human_annotated": "`human-annotated`: a worker made the label (not automated labeling)",
        "created_at": "`creation-date`, UTC",
        "confidence": "the label's `confidence`",
        "class_id": "the answer's class index (classification tasks)",
        "class_name": "the answer's class name (`class-name`)",
        "adjustment_status": "`adjustment-status` of an adjustment or verification label",
        "value": "JSON",
        "metadata": "JSON",
        "warning": "e.g. a box/confidence count mismatch",
    },
    "boxes": {
        **_ITEM_DOC,
        "box_index": "the box's position in the label's `annotations`",
        "class_id": "the box's class index",
        "class_name": "from `class-map`",
        "left": "left edge, pixels",
        "top": "top edge, pixels",
        "width": "width, pixels",
        "height": "height, pixels",
        "confidence": "`objects[i]`, paired by position",
        "image_width": "the image's width, pixels (`image_size`)",
        "image_height": "the image's height, pixels (`image_size`)",
        "image_depth": "the image's channels (`image_size`)",
    },
    "classes": {
        **_ITEM_DOC,
        "class_id": "the class index",
        "class_name": "the class name (from `class-map`)",
        "confidence": "from `confidence-map`",
    },
    "segments": {
        **_ITEM_DOC,
        "mask_ref": "the mask image's S3 URI (the label's value)",
        "class_id": "the colour map's class index",
        "class_name": "the class name",
        "hex_color": "the class's colour in the mask, `#rrggbb`",
        "confidence": "the class's confidence",
    },
    "entities": {
        **_ITEM_DOC,
        "entity_index": "the span's position in the label's `entities`",
        "label": "the entity label",
        "start_offset": "first character of the span in `source`",
        "end_offset": "character after the span in `source`",
        "text": "sliced from `source`",
        "confidence": "the span's confidence, paired by position",
    },
    "frames": {
        **_FRAME_DOC,
        "frame_attributes": "the frame's `frame-attributes`, JSON",
        "annotations": "the frame's boxes or cuboids",
    },
    "frame_boxes": {
        **_FRAME_DOC,
        "box_index": "the box's position in the frame's `annotations`",
        "track_id": "`object-id`, the same in every frame for one tracked object",
        "object_name": "`object-name`, e.g. `Vehicle:1`",
        "class_id": "`class-id`",
        "class_name": "from the label's `class-map`",
        "left": "left edge, pixels",
        "top": "top edge, pixels",
        "width": "width, pixels",
        "height": "height, pixels",
        "confidence": "where the label's metadata gives one",
        "category_attributes": "`label-category-attributes`, JSON",
        "frame_attributes": "the frame's `frame-attributes`, JSON",
    },
    "cuboids": {
        **_FRAME_DOC,
        "cuboid_index": "the cuboid's position in its `annotations`",
        "track_id": "`object-id`, the same in every frame for one tracked object",
        "object_name": "`object-name`, e.g. `Car:1`",
        "class_id": "`class-id`",
        "class_name": "from the label's `class-map`",
        "center_x": "`center-x`",
        "center_y": "`center-y`",
        "center_z": "`center-z`",
        "length": "`length`",
        "width": "`width`",
        "height": "`height`",
        "roll": "`roll`, radians",
        "pitch": "`pitch`, radians",
        "yaw": "`yaw`, radians, as Ground Truth writes it",
        "confidence": "where the label's metadata gives one",
        "category_attributes": "`label-category-attributes`, JSON",
        "frame_attributes": (
            "`frame-attributes`, or a detection's `dataset-object-attributes`, JSON"
        ),
    },
    "feedback": {
        **_ITEM_DOC,
        "comment_index": "the comment's position in the label's feedback",
        "comment": "the worker's comment",
    },
    "worker_responses": {
        "iteration": "the labeling iteration (`iteration-<n>`)",
        "object_index": "the data object's index in the iteration",
        "file": "the response file, relative to the job directory",
        "answer_index": "the answer's position in the file",
        "worker_id": "the worker's id (`workerId`)",
        "workforce": "public / private / vendor",
        "acceptance_time": "when the worker accepted the task, UTC",
        "submission_time": "when the worker submitted the answer, UTC",
        "time_spent_s": "`timeSpentInSeconds`",
        "answer": "JSON",
        "worker_metadata": "JSON",
    },
    "consolidation": {
        "iteration": "the labeling iteration (`iteration-<n>`)",
        "file": "the consolidation file, relative to the job directory",
        "direction": "`request` (to the consolidation function) or `response` (from it)",
        "entry_index": "the entry's position in the file",
        "dataset_object_id": "the data object's id (`datasetObjectId`)",
        "data_object": "the data object, JSON",
        "annotation_index": "the annotation's position in the request entry",
        "worker_id": "the worker's id",
        "workforce": "public / private / vendor",
        "content": "JSON, decoded from the string-in-JSON",
    },
    "iterations": {
        "iteration": "the iteration number (`manifests/intermediate/<n>/`)",
        "file": "the intermediate manifest, relative to the job directory",
        "lines": "non-blank lines",
        "labeled_lines": "lines carrying the job's label",
        "bad_lines": "lines that could not be read",
        "size": "bytes",
    },
    "files": {
        "path": "relative to the job directory",
        "kind": (
            "`output-manifest`, `intermediate-manifest`, `worker-response`, "
            "`consolidation-request`, ..."
        ),
        "size": "bytes",
        "etag": "the S3 ETag (null for local files)",
        "last_modified": "UTC",
    },
    "quarantine": {
        "file": "relative to the job directory",
        "line": "null for a whole file",
        "byte_offset": "where the line starts in the file",
        "error": "why the line could not be read",
        "raw": "the line, as far as it could be decoded",
    },
    "jobs": {
        "label_attribute": "the job's own label attribute",
        "status": "complete / in-progress",
        "manifest": "the manifest ingested, relative to the job directory",
        "lines": "non-blank lines of the manifest",
        "labeled_lines": "lines carrying the job's label",
        "quarantined_lines": "manifest lines that went to quarantine",
        "fingerprint": "digest of the job's files' paths, sizes and ETags at ingest",
        "ingested_at": "UTC",
        "table_versions": "JSON: the table versions holding this ingest's rows",
    },
}


def column_description(table: str, column: str) -> str:
    """What `column` of `table` holds (partition columns included)."""
    if column in DELTA_PARTITIONS:
        return COLUMN_DESCRIPTIONS["*"][column]
    return COLUMN_DESCRIPTIONS[table][column]
