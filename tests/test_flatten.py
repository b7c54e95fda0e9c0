"""Unit tests of gtlake.flatten on the documents' examples: label detection, rows, and rebuild."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from gtlake.errors import LineError
from gtlake.flatten import (
    Label,
    created_at,
    find_labels,
    flatten_line,
    human_annotated,
    label_job,
    object_id,
    rebuild_line,
)
from gtlake.schemas import FILE_SCHEMAS

SEEDS = Path(__file__).parent / "data" / "seeds"
VALID = sorted(p.stem for p in (SEEDS / "valid").glob("*.jsonl"))
DATE = datetime(2018, 10, 18, 22, 18, 13, 527256)
LATER = datetime(2018, 11, 20, 22, 18, 13, 527256)


def seed(name: str) -> dict:
    """A documented example (its fixed form when the document's JSON is invalid)."""
    return orjson.loads((SEEDS / "valid" / f"{name}.jsonl").read_bytes())


def oid(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def label_dict(row: dict) -> dict:
    assert list(row) == [n for n in FILE_SCHEMAS["labels"].names if n in row]
    assert set(row) == set(FILE_SCHEMAS["labels"].names)
    return row


def tup(table: str, row: dict) -> tuple:
    """A named row as a tuple in its schema's column order (`objects` without `raw`)."""
    return tuple(row[n] for n in FILE_SCHEMAS[table].names if n != "raw")


def items(rows) -> list[tuple[str, tuple]]:
    return [(table, tup(table, row)) for table, row in rows.items]


# -- find_labels ------------------------------------------------------------------------------


def _pair(attribute: str, base: str | None = None) -> tuple[str, str]:
    return attribute, (base or attribute) + "-metadata"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("doc1-sport", [_pair("sport")]),
        ("doc1-multilabel-image", [_pair("image-label-attribute-name")]),
        ("doc0-city-streets", [_pair("city-streets-ref", "city-streets")]),
        ("doc1-adjusted-bounding-box", [_pair("bounding-box"), _pair("adjusted-bounding-box")]),
        ("doc1-verify-bounding-box", [_pair("bounding-box"), _pair("verify-bounding-box")]),
        (
            "doc1-adjusted-city-streets",
            [
                _pair("city-streets-ref", "city-streets"),
                _pair("adjusted-city-streets-ref", "adjusted-city-streets"),
            ],
        ),
    ],
)
def test_find_labels_in_documented_examples(name: str, expected: list) -> None:
    line = seed(name)
    found = find_labels(line)
    assert [(label.attribute, label.metadata_key) for label in found] == expected
    assert all(label.metadata is line[label.metadata_key] for label in found)


def test_reference_metadata_spelled_as_in_real_files() -> None:
    line = {
        "source-ref": "s3://b/s10.png",
        "S10-label3-ref": "s3://b/mask.png",
        "S10-label3-ref-metadata": {"type": "groundtruth/semantic-segmentation"},
    }
    assert find_labels(line) == [
        Label("S10-label3-ref", "S10-label3-ref-metadata", line["S10-label3-ref-metadata"])
    ]


def test_look_alike_keys_stay_passthrough() -> None:
    line = {
        "source-ref": "s3://b/a.png",
        "textract-ref": "s3://b/a.json",  # a -ref key without metadata
        "annotator-metadata": {"Info": "Annotate Required Entities"},  # no `annotator` key
        "Person": [1, 2],  # a hand-made pre-label: metadata without a groundtruth/ type
        "Person-metadata": {"type": "my-pre-label", "job-name": "me"},
        "Car": 1,
        "Car-metadata": {"class-name": "car"},  # no type at all
        "Dog": 1,
        "Dog-metadata": "groundtruth/image-classification",  # not an object
        "x-metadata-metadata": {"type": "groundtruth/custom"},  # names never hold -metadata
        "x-metadata": 5,
        "metadata": {"pages": "1"},
        "-metadata": {"type": "something"},
    }
    assert find_labels(line) == []
    rows = flatten_line(0, line, None)
    assert rows.labels == [] and rows.items == []
    passthrough = {k: v for k, v in line.items() if k != "source-ref"}
    assert orjson.loads(rows.object["attributes"]) == passthrough


def test_metadata_without_its_attribute_is_a_line_error() -> None:
    line = {"source-ref": "s3://b/a.png", "sport-metadata": seed("doc1-sport")["sport-metadata"]}
    with pytest.raises(LineError, match="'sport-metadata' has no label attribute 'sport'"):
        find_labels(line)


def test_older_custom_spelling() -> None:
    line = {
        "source": "some text",
        "answer": {"free": "form"},
        "answer-metadata": {
            "type": "groundTruth/custom",
            "job_name": "labeling-job/old-custom",
            "creation_date": "2019-01-02T03:04:05.000006",
            "human-annotated": "yes",
        },
    }
    (label,) = flatten_line(3, line, "answer").labels
    row = label_dict(label)
    assert row["label_type"] == "custom"
    assert row["label_job"] == "old-custom"
    assert row["created_at"] == datetime(2019, 1, 2, 3, 4, 5, 6)
    assert row["is_inherited"] is False
    assert row["human_annotated"] is True
    assert row["confidence"] is None and row["class_id"] is None


# -- metadata fields --------------------------------------------------------------------------


def test_label_job_drops_the_prefix() -> None:
    assert (
        label_job({"job-name": "labeling-job/birds-open-images-clone"}) == "birds-open-images-clone"
    )
    assert label_job({"job-name": "identify-sport"}) == "identify-sport"
    assert label_job({}) is None  # labels supplied as input to an adjustment job
    assert label_job({"job-name": 5}) is None


def test_created_at_is_naive_utc() -> None:
    assert created_at({"creation-date": "2018-10-18T22:18:13.527256"}) == DATE
    assert created_at({"creation-date": "2018-10-18T22:18:13.527256Z"}) == DATE
    assert created_at({"creation-date": "2018-10-19T00:18:13.527256+02:00"}) == DATE
    assert created_at({}) is None
    with pytest.raises(LineError, match="creation-date 'yesterday' is not an ISO date"):
        created_at({"creation-date": "yesterday"})
    with pytest.raises(LineError, match="creation-date is int"):
        created_at({"creation-date": 1539901093})


def test_human_annotated_is_yes_or_no() -> None:
    assert human_annotated({"human-annotated": "yes"}) is True
    assert human_annotated({"human-annotated": "no"}) is False
    assert human_annotated({"human-annotated": "YES"}) is True
    assert human_annotated({}) is None
    for bad in ("true", True, 1, "y"):
        with pytest.raises(LineError, match="human-annotated is .*expected 'yes' or 'no'"):
            human_annotated({"human-annotated": bad})


def test_object_id_hashes_source_ref_else_source() -> None:
    assert object_id({"source-ref": "s3://b/a.jpg", "source": "x"}) == oid("s3://b/a.jpg")
    assert object_id({"source": "a bad day"}) == oid("a bad day")
    assert object_id({"source-ref": 5, "source": "t"}) == oid("t")
    assert object_id({"other": 1}) is None
    assert len(object_id({"source": "é"})) == 16


# -- flatten_line: exact rows per documented example -----------------------------------------


def test_image_classification_digit_string_index() -> None:
    line = seed("doc1-species")
    rows = flatten_line(4, line, "species")
    where = "S3 bucket location"
    assert tup("objects", rows.object) == (4, oid(where), where, None, "{}")
    assert rows.items == []
    (label,) = rows.labels
    assert label_dict(label) == {
        "line": 4,
        "object_id": oid("S3 bucket location"),
        "attribute": "species",
        "metadata_key": "species-metadata",
        "label_job": "identify-animal-species",
        "label_type": "image-classification",
        "is_inherited": False,
        "human_annotated": True,
        "created_at": DATE,
        "confidence": 0.93,
        "class_id": 0,
        "class_name": "dog",
        "adjustment_status": None,
        "value": '"0"',
        "metadata": orjson.dumps(line["species-metadata"]).decode(),
        "warning": None,
    }


def test_text_classification_with_source_text() -> None:
    rows = flatten_line(0, seed("doc1-mood"), "mood")
    assert tup("objects", rows.object) == (0, oid("a bad day"), None, "a bad day", "{}")
    row = label_dict(rows.labels[0])
    assert (row["label_type"], row["class_id"], row["class_name"], row["confidence"]) == (
        "text-classification",
        1,
        "sad",
        0.8,
    )


def test_object_detection_underscore_spelling() -> None:
    rows = flatten_line(0, seed("doc0-bounding-box"), "bounding-box")
    row = label_dict(rows.labels[0])
    assert row["label_type"] == "object-detection"
    assert row["label_job"] == "identify-dogs-and-toys"
    assert row["confidence"] is None and row["warning"] is None
    p = (0, oid("S3 bucket location"), "bounding-box")
    assert items(rows) == [
        ("boxes", (*p, 0, 0, "dog", 111, 134, 61, 128, 0.8, 500, 400, 3)),
        ("boxes", (*p, 1, 5, "bone", 161, 250, 30, 30, 0.9, 500, 400, 3)),
        ("boxes", (*p, 2, 5, "bone", 20, 20, 30, 30, 0.9, 500, 400, 3)),
    ]


def test_multilabel_confidence_map() -> None:
    rows = flatten_line(0, seed("doc1-multilabel-text"), "text-label-attribute-name")
    p = (0, oid("awsexamplebucket1/exampletext.txt"), "text-label-attribute-name")
    assert items(rows) == [
        ("classes", (*p, 1, "approving", 0.95)),
        ("classes", (*p, 0, "sad", 0.77)),
        ("classes", (*p, 4, "critical", 0.2)),
    ]
    row = label_dict(rows.labels[0])
    assert row["label_type"] == "text-classification-multilabel"
    assert row["label_job"] == "text-label-attribute-name"
    assert (row["confidence"], row["class_id"], row["class_name"]) == (None, None, None)
    assert row["value"] == "[1,0,4]"


def test_adjustment_chain_inherits_the_original_boxes() -> None:
    line = seed("doc1-adjusted-bounding-box")
    rows = flatten_line(2, line, "adjusted-bounding-box")
    original, adjusted = (label_dict(r) for r in rows.labels)
    assert (original["attribute"], original["is_inherited"], original["adjustment_status"]) == (
        "bounding-box",
        True,
        None,
    )
    assert (adjusted["attribute"], adjusted["is_inherited"], adjusted["adjustment_status"]) == (
        "adjusted-bounding-box",
        False,
        "adjusted",
    )
    assert adjusted["label_job"] == "adjust-bounding-boxes-on-dogs-and-toys"
    assert (original["created_at"], adjusted["created_at"]) == (DATE, LATER)
    boxes = [(row[2], row[3], row[6], row[7]) for table, row in items(rows) if table == "boxes"]
    assert boxes == [
        ("bounding-box", 0, 111, 134),
        ("bounding-box", 1, 161, 250),
        ("bounding-box", 2, 20, 20),
        ("adjusted-bounding-box", 0, 110, 135),
        ("adjusted-bounding-box", 1, 161, 250),
        ("adjusted-bounding-box", 2, 10, 10),
    ]
    # with no own attribute known, every label counts as inherited
    assert [r["is_inherited"] for r in flatten_line(2, line, None).labels] == [True, True]


def test_verification_feedback() -> None:
    rows = flatten_line(1, seed("doc1-verify-bounding-box"), "verify-bounding-box")
    verify = label_dict(rows.labels[1])
    assert (verify["label_type"], verify["class_id"], verify["class_name"]) == (
        "label-verification",
        1,
        "bad",
    )
    assert verify["confidence"] == 0.93 and verify["is_inherited"] is False
    assert label_dict(rows.labels[0])["is_inherited"] is True
    p = (1, oid("S3 bucket location"), "verify-bounding-box")
    feedback = [item for item in items(rows) if item[0] == "feedback"]
    assert feedback == [
        ("feedback", (*p, 0, "The bounding box on the bird is too wide on the right side.")),
        ("feedback", (*p, 1, "The bird on the upper right is not labeled.")),
    ]
    assert sum(1 for t, _ in rows.items if t == "boxes") == 3


def test_segmentation_documented_example() -> None:
    rows = flatten_line(0, seed("doc1-verify-city-streets"), "verify-city-streets")
    seg = label_dict(rows.labels[0])
    assert (seg["attribute"], seg["metadata_key"], seg["label_type"], seg["confidence"]) == (
        "city-streets-ref",
        "city-streets-metadata",
        "semantic-segmentation",
        0.9,
    )
    assert seg["value"] == '"S3 bucket location"'
    p = (0, oid("S3 bucket location"), "city-streets-ref")
    segments = [row for table, row in items(rows) if table == "segments"]
    assert segments == [
        (*p, "S3 bucket location", 0, "BACKGROUND", "#ffffff", 0.9),
        (*p, "S3 bucket location", 1, "buildings", "#2acf59", 0.9),
        (*p, "S3 bucket location", 2, "road", "#f28333", 0.9),
    ]
    # the older document's map has no hex colours
    rows = flatten_line(0, seed("doc0-city-streets"), "city-streets-ref")
    segments = [row[3:] for table, row in items(rows) if table == "segments"]
    assert segments == [
        ("S3 bucket location", 5, "buildings", None, 0.8),
        ("S3 bucket location", 2, "road", None, 0.9),
    ]
    assert rows.labels[0]["confidence"] is None  # two different confidences: no image confidence


def test_unknown_type_gives_a_generic_label_row() -> None:
    line = {
        "source-ref": "s3://b/cloud.bin",
        "lidar": {"frames": [{"x": 1}]},
        "lidar-metadata": {
            "type": "groundtruth/hologram_tracking_v9",
            "job-name": "labeling-job/holo",
            "class-map": {"0": "car"},
        },
    }
    rows = flatten_line(0, line, "lidar")
    row = label_dict(rows.labels[0])
    assert (row["label_type"], row["label_job"], row["value"]) == (
        "hologram-tracking-v9",
        "holo",
        '{"frames":[{"x":1}]}',
    )
    assert rows.items == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"confidence": "0.93"},
            r"label 'species' \(image-classification\): confidence is a string",
        ),
        ({"human-annotated": "maybe"}, r"label 'species' .*human-annotated is 'maybe'"),
        ({"creation-date": "never"}, r"label 'species' .*creation-date 'never'"),
    ],
)
def test_broken_metadata_names_the_attribute(change: dict, message: str) -> None:
    line = seed("doc1-species")
    line["species-metadata"].update(change)
    with pytest.raises(LineError, match=message):
        flatten_line(0, line, "species")


def test_non_numeric_class_index_names_the_attribute() -> None:
    line = seed("doc1-species")
    line["species"] = "dog"
    with pytest.raises(LineError, match=r"label 'species' .*label value is a string 'dog'"):
        flatten_line(0, line, "species")


# -- rebuild_line -----------------------------------------------------------------------------


def _rebuild(rows) -> dict:
    o = rows.object
    labels = [(r["attribute"], r["metadata_key"], r["value"], r["metadata"]) for r in rows.labels]
    return rebuild_line(o["source_ref"], o["source"], o["attributes"], labels)


@pytest.mark.parametrize("name", VALID)
def test_rebuild_is_the_inverse_of_flatten(name: str) -> None:
    line = seed(name)
    assert _rebuild(flatten_line(0, line, None)) == line


def test_rebuild_keeps_non_string_sources_in_attributes() -> None:
    line = {"source-ref": 5, "source": None, "k": [1.5, {"é": None}], "": ""}
    rows = flatten_line(0, line, None)
    assert (rows.object["source_ref"], rows.object["source"]) == (None, None)
    assert _rebuild(rows) == line
