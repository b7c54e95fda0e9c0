"""Unit tests of gtlake.tasktypes (type names, value checks) and of each task type's spec, read by
the reference interpreter (gtlake.flatten.reference)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from gtlake.errors import LineError
from gtlake.flatten.reference import read_label
from gtlake.flatten.spec import GENERIC, SPECS, spec_for
from gtlake.schemas import FILE_SCHEMAS
from gtlake.tasktypes import class_index, integer, is_groundtruth_type, normalize_type, number


class Old(NamedTuple):
    """A label's facts in the shape these tests were first written for."""

    confidence: object
    class_id: object
    class_name: object
    warning: object
    items: tuple


def _reader(kind: str):
    """The reference interpreter of `kind`'s spec, item rows as tuples in schema order."""

    def read(value: object, meta: dict, source: object, p: tuple) -> Old:
        facts = read_label(kind, value, meta, source)
        items = tuple(
            (table, (*p, *(row[n] for n in FILE_SCHEMAS[table].names[3:])))
            for table, row in facts.items
        )
        label = facts.label
        return Old(
            label.get("confidence"), label.get("class_id"), label.get("class_name"),
            facts.warning, items,
        )  # fmt: skip

    return read


classification = _reader("image-classification")
verification = _reader("label-verification")
multilabel = _reader("image-classification-multilabel")
bounding_boxes = _reader("object-detection")
segmentation = _reader("semantic-segmentation")
text_spans = _reader("text-span")
generic = _reader("custom")
sequence = _reader("video-object-tracking")
point_cloud_segmentation = _reader("point-cloud-single-frame-semantic-segmentation")

P = (7, "abc", "attr")  # the row prefix a handler receives: line, object_id, attribute


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("groundtruth/object-detection", "object-detection"),
        ("groundtruth/object_detection", "object-detection"),
        ("groundTruth/custom", "custom"),
        ("groundtruth/custom", "custom"),
        ("GroundTruth/Image-Classification", "image-classification"),
        ("groundtruth/point_cloud_object_detection", "point-cloud-object-detection"),
        ("groundtruth/point_cloud_single_frame_semantic_segmentation",
         "point-cloud-single-frame-semantic-segmentation"),
        ("groundtruth/video-object-tracking", "video-object-tracking"),
        (" groundtruth/text-span ", "text-span"),
        ("groundtruth/brand-new-task", "brand-new-task"),
    ],
)  # fmt: skip
def test_normalize_type(raw: str, expected: str) -> None:
    assert normalize_type(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("groundtruth/image-classification", True),
        ("groundTruth/custom", True),
        ("GROUNDTRUTH/x", True),
        ("custom", False),
        ("my-pre-label", False),
        ("", False),
        (None, False),
        (3, False),
        (["groundtruth/x"], False),
    ],
)
def test_is_groundtruth_type(raw: object, expected: bool) -> None:
    assert is_groundtruth_type(raw) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), ("0", 0), (9, 9), ("17", 17), (" 3 ", 3), (-1, -1), (2**63 - 1, 2**63 - 1)],
)
def test_class_index_accepts_integers_and_digit_strings(value: object, expected: int) -> None:
    assert class_index(value, "label value") == expected


@pytest.mark.parametrize(
    "value",
    [
        "dog",
        "",
        "-",
        "--1",
        "1.5",
        "²",
        "١",
        True,
        False,
        1.0,
        None,
        [0],
        {"0": 1},
        2**63,
        2**64 - 1,
    ],
)
def test_class_index_rejects_everything_else(value: object) -> None:
    with pytest.raises(LineError, match="label value is .*expected a class index"):
        class_index(value, "label value")


def test_number_accepts_int_float_none_only() -> None:
    assert number(0, "confidence") == 0.0
    assert isinstance(number(0, "confidence"), float)
    assert number(0.93, "confidence") == 0.93
    assert number(None, "confidence") is None
    for bad in ("0.93", True, [0.9], {"c": 1}):
        with pytest.raises(LineError, match="confidence is .*expected a number"):
            number(bad, "confidence")


def test_integer() -> None:
    assert integer(500, "w") == 500
    assert integer(500.0, "w") == 500
    assert integer(None, "w") is None
    for bad in (500.5, "500", True, 1e300, 2**64 - 1):
        with pytest.raises(LineError, match="w is .*expected an integer"):
            integer(bad, "w")


# -- handlers ---------------------------------------------------------------------------------


def test_spec_registry() -> None:
    assert spec_for("object-detection") is SPECS["object-detection"]
    assert spec_for("image-classification") is spec_for("text-classification")
    assert spec_for("image-classification-multilabel") is spec_for("text-classification-multilabel")
    for kind in ("video-object-detection", "video-object-tracking", "point-cloud-object-tracking"):
        assert spec_for(kind).kind == "sequence"
    for other in ("custom", "zzz"):
        assert spec_for(other) is GENERIC
    assert set(SPECS) == {
        "object-detection",
        "image-classification",
        "text-classification",
        "image-classification-multilabel",
        "text-classification-multilabel",
        "semantic-segmentation",
        "label-verification",
        "text-span",
        "video-object-detection",
        "video-object-tracking",
        "point-cloud-object-tracking",
        "point-cloud-object-detection",
        "point-cloud-single-frame-semantic-segmentation",
    }


def test_classification() -> None:
    meta = {"class-name": "dog", "confidence": 0.93}
    facts = classification("0", meta, None, P)
    assert (facts.confidence, facts.class_id, facts.class_name, facts.warning) == (
        0.93,
        0,
        "dog",
        None,
    )
    assert facts.items == ()
    with pytest.raises(LineError, match="confidence is a string '0.93'"):
        classification(0, {"confidence": "0.93"}, None, P)
    with pytest.raises(LineError, match="label value is a string 'dog'"):
        classification("dog", meta, None, P)


def test_verification_feedback_rows() -> None:
    meta = {
        "class-name": "bad",
        "confidence": 0.93,
        "worker-feedback": [{"comment": "too wide"}, {"comment": "bird not labeled"}, {}],
    }
    facts = verification("1", meta, None, P)
    assert (facts.class_id, facts.class_name, facts.confidence) == (1, "bad", 0.93)
    assert facts.items == (
        ("feedback", (*P, 0, "too wide")),
        ("feedback", (*P, 1, "bird not labeled")),
        ("feedback", (*P, 2, None)),
    )
    assert verification("0", {"class-name": "good"}, None, P).items == ()
    with pytest.raises(LineError, match=r"worker-feedback\[0\]\.comment is an integer"):
        verification("1", {"worker-feedback": [{"comment": 5}]}, None, P)
    with pytest.raises(LineError, match="worker-feedback is a string"):
        verification("1", {"worker-feedback": "fine"}, None, P)


def test_multilabel_confidence_map() -> None:
    meta = {
        "class-map": {"1": "bicycle", "0": "person", "8": "clothing"},
        "confidence-map": {"1": 0.95, "0": 0.77, "8": 0.2},
    }
    facts = multilabel([1, 0, 8], meta, None, P)
    assert facts.confidence is None and facts.class_id is None
    assert facts.items == (
        ("classes", (*P, 1, "bicycle", 0.95)),
        ("classes", (*P, 0, "person", 0.77)),
        ("classes", (*P, 8, "clothing", 0.2)),
    )
    # a class missing from the sparse maps still gives a row, with nulls
    assert multilabel(["3"], meta, None, P).items == (("classes", (*P, 3, None, None)),)
    assert multilabel([], meta, None, P).items == ()
    with pytest.raises(LineError, match="label value is an integer"):
        multilabel(1, meta, None, P)
    with pytest.raises(LineError, match=r"confidence-map\['1'\] is a string"):
        multilabel([1], {"confidence-map": {"1": "high"}}, None, P)


BOXES = {
    "image_size": [{"width": 500, "height": 400, "depth": 3}],
    "annotations": [
        {"class_id": 0, "left": 111, "top": 134, "width": 61, "height": 128},
        {"class_id": "5", "left": 161.5, "top": 250, "width": 30, "height": 30},
    ],
}


def test_bounding_boxes_pairs_confidences_by_position() -> None:
    meta = {
        "objects": [{"confidence": 0.8}, {"confidence": 0.9}],
        "class-map": {"0": "dog", "5": "bone"},
    }
    facts = bounding_boxes(BOXES, meta, None, P)
    assert facts.warning is None
    assert facts.items == (
        ("boxes", (*P, 0, 0, "dog", 111, 134, 61, 128, 0.8, 500, 400, 3)),
        ("boxes", (*P, 1, 5, "bone", 161.5, 250, 30, 30, 0.9, 500, 400, 3)),
    )


def test_bounding_boxes_count_mismatch_is_reported_not_guessed() -> None:
    meta = {"objects": [{"confidence": 0.8}], "class-map": {"0": "dog"}}
    facts = bounding_boxes(BOXES, meta, None, P)
    assert facts.warning == "2 boxes but 1 objects[] confidences; confidences left null"
    assert [row[10] for _, row in facts.items] == [None, None]
    facts = bounding_boxes(BOXES, {"class-map": {}}, None, P)
    assert facts.warning == "2 boxes but no objects[] confidences; confidences left null"
    assert [row[10] for _, row in facts.items] == [None, None]


def test_bounding_boxes_shapes() -> None:
    # image_size as an object rather than a one-element list; no annotations
    facts = bounding_boxes({"image_size": {"width": 5, "height": 4}}, {}, None, P)
    assert facts.items == () and facts.warning is None
    one = {"image_size": [], "annotations": [{"left": 1, "top": 2, "width": 3, "height": 4}]}
    facts = bounding_boxes(one, {"objects": [{"confidence": 0}]}, None, P)
    assert facts.items == (("boxes", (*P, 0, None, None, 1, 2, 3, 4, 0.0, None, None, None)),)
    bad = {"annotations": [{"class_id": 0, "left": "1", "top": 2, "width": 3, "height": 4}]}
    with pytest.raises(LineError, match=r"annotations\[0\]\.left is a string '1'"):
        bounding_boxes(bad, {}, None, P)
    bad = {"annotations": [{"class_id": "dog", "left": 1, "top": 2, "width": 3, "height": 4}]}
    with pytest.raises(LineError, match=r"annotations\[0\]\.class_id is a string 'dog'"):
        bounding_boxes(bad, {}, None, P)
    bad = {"annotations": [{"class_id": 2**64 - 1, "left": 1, "top": 2, "width": 3, "height": 4}]}
    with pytest.raises(LineError, match=r"annotations\[0\]\.class_id"):
        bounding_boxes(bad, {}, None, P)
    with pytest.raises(LineError, match=r"annotations\[0\] is a list"):
        bounding_boxes({"annotations": [[1, 2, 3, 4]]}, {}, None, P)
    with pytest.raises(LineError, match=r"objects\[0\]\.confidence is a string"):
        bounding_boxes(one, {"objects": [{"confidence": "0.9"}]}, None, P)
    with pytest.raises(LineError, match="label value is a list"):
        bounding_boxes([], {}, None, P)


def test_segmentation_colour_map() -> None:
    meta = {
        "internal-color-map": {
            "0": {"class-name": "BACKGROUND", "confidence": 0.9, "hex-color": "#ffffff"},
            "2": {"class-name": "road", "confidence": 0.9, "hex-color": "#f28333"},
        }
    }
    facts = segmentation("s3://b/mask.png", meta, None, P)
    assert facts.confidence == 0.9  # one confidence per image, shared by every class
    assert facts.items == (
        ("segments", (*P, "s3://b/mask.png", 0, "BACKGROUND", "#ffffff", 0.9)),
        ("segments", (*P, "s3://b/mask.png", 2, "road", "#f28333", 0.9)),
    )
    meta["internal-color-map"]["2"]["confidence"] = 0.5
    assert segmentation("s3://b/mask.png", meta, None, P).confidence is None
    with pytest.raises(LineError, match="mask reference is an object"):
        segmentation({"uri": "x"}, meta, None, P)
    with pytest.raises(LineError, match="internal-color-map key is a string 'bg'"):
        segmentation("m", {"internal-color-map": {"bg": {}}}, None, P)


def test_text_spans_slice_the_source() -> None:
    source = "Bob was born on Jan 1 1990 and lived his whole life in Minneapolis."
    value = {
        "annotations": {
            "entities": [
                {"endOffset": 22, "startOffset": 16, "label": "Date"},
                {"endOffset": 3, "startOffset": 0, "label": "Person"},
                {"endOffset": 67, "startOffset": 56, "label": "Location"},
            ]
        }
    }
    meta = {"entities": [{"confidence": 0.08}, {"confidence": 0.08}, {"confidence": 0.09}]}
    facts = text_spans(value, meta, source, P)
    assert facts.warning is None
    assert facts.items == (
        ("entities", (*P, 0, "Date", 16, 22, "Jan 1 ", 0.08)),
        ("entities", (*P, 1, "Person", 0, 3, "Bob", 0.08)),
        ("entities", (*P, 2, "Location", 56, 67, "inneapolis.", 0.09)),  # as the real file says
    )
    # no source text (source-ref only): no snippet; fewer confidences: reported, left null
    facts = text_spans(value, {"entities": [{"confidence": 0.1}]}, None, P)
    assert facts.warning == "3 entities but 1 entities[] confidences; confidences left null"
    assert [(row[7], row[8]) for _, row in facts.items] == [(None, None)] * 3
    # non-ASCII text is sliced by character
    facts = text_spans(
        {"annotations": {"entities": [{"startOffset": 2, "endOffset": 6, "label": "X"}]}},
        {"entities": [{"confidence": 1}]},
        "é ünï€ z",
        P,
    )
    assert facts.items[0][1][7] == "ünï€"
    with pytest.raises(LineError, match=r"entities\[0\]\.startOffset is a string"):
        text_spans({"annotations": {"entities": [{"startOffset": "1"}]}}, {}, "abc", P)


def test_generic_handler_for_custom_and_unknown_types() -> None:
    facts = generic({"annotation-ref": "s3://x"}, {"type": "groundtruth/custom"}, None, P)
    assert facts == (None, None, None, None, ())
    facts = generic([{"any": "shape"}], {"confidence": 0.5, "class-name": "car"}, None, P)
    assert (facts.confidence, facts.class_name, facts.items) == (0.5, "car", ())
    assert generic(None, {"class-name": 3}, None, P).class_name is None
    with pytest.raises(LineError, match="confidence is a string"):
        generic(None, {"confidence": "high"}, None, P)
