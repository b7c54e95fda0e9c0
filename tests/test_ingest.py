"""Ingest-level tests: job trees in, the lake read back with pyarrow and DuckDB.

Covers the real samples (exact rows per task type), the documents' examples, bad input (each case
quarantined while the rest of the job loads), nothing lost, idempotence and partition escaping.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

import gtlake.ingest
from gtlake import views
from gtlake.export import export_lines
from gtlake.ingest import IngestReport, ingest
from gtlake.manifest import read_blocks
from gtlake.schemas import TABLES
from gtlake.snapshot import take
from gtlake.storage import Location
from gtlake.writer import job_key
from tests.conftest import REAL, error_lines, write_job
from tests.lakeread import lake_table

SEEDS = Path(__file__).parent / "data" / "seeds"
TEXTRACT = "textract-transformer-pipeline/augmentation-{}/manifests/output/output.manifest"
EXAMPLES = "sagemaker-examples/"
README_EXCERPTS = "comprehend-customer-scripts-readme/"
OUTPUT = "manifests/output/output.manifest"
HIVE = ds.partitioning(pa.schema([("job", pa.string()), ("type", pa.string())]), flavor="hive")

REAL_JOBS = {  # job directory name -> real manifest
    "birds-open-images-clone": EXAMPLES + "annotation_consolidation_ic_data/output.manifest",
    "yolov5": EXAMPLES + "pytorch_yolov5_training_and_hpo/sample_output.manifest",
    "augmentation-1": TEXTRACT.format(1),
    "augmentation-2": TEXTRACT.format(2),
    "s10-label3": "l4v-augmentation/output.manifest",
    "test-gtner-blog-004": "comprehend-ner-examples/output.manifest",
    "legal-entity": "legal-entity-extraction/output.manifest.head2",
    "cutomdocclassification": README_EXCERPTS + "multilabel.output.manifest.excerpt",
    "multi-class": README_EXCERPTS + "multiclass.output.manifest.excerpt",
    "entityrecognizerpoc-1": README_EXCERPTS + "ner.output.manifest.excerpt",
}


def run(src: Path, lake: Path, **kwargs) -> IngestReport:
    report = ingest(Location(str(src)), Location(str(lake)), workers=1, **kwargs)
    assert report.failed == [], [(j.job, j.error) for j in report.failed]
    return report


def read(lake: Path, table: str, job: str | None = None) -> list[dict]:
    """A table's rows (partition columns included), sorted for comparison."""
    path = lake / table
    if not path.is_dir():
        return []
    data = lake_table(path.parent, path.name)
    rows = data.to_pylist()
    if job is not None:
        rows = [r for r in rows if r["job"] == job]
    return sorted(rows, key=lambda r: [str(r[k]) for k in sorted(r)])


def by_line(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["line"], r.get("attribute") or "", *_index(r)))


def _index(row: dict) -> tuple:
    return tuple(row[k] for k in ("box_index", "entity_index", "comment_index") if k in row)


def nonblank_lines(path: Path) -> int:
    return sum(1 for line in path.read_bytes().split(b"\n") if line.strip())


# -- the real samples -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert REAL.is_dir(), f"real samples not found at {REAL}"
    root = tmp_path_factory.mktemp("real")
    for job, rel in REAL_JOBS.items():
        target = root / "src" / job / OUTPUT
        target.parent.mkdir(parents=True)
        shutil.copyfile(REAL / rel, target)
    # the real worker responses sit in the birds job, where Ground Truth writes them
    responses = REAL / "sagemaker-examples/annotation_consolidation_ic_data/worker-response"
    shutil.copytree(responses, root / "src/birds-open-images-clone/annotations/worker-response")
    run(root / "src", root / "lake")
    return root / "lake"


def test_every_real_manifest_loads_with_nothing_lost(real_lake: Path) -> None:
    objects = read(real_lake, "objects")
    assert read(real_lake, "quarantine") == []
    for job, rel in REAL_JOBS.items():
        lines = (REAL / rel).read_bytes().decode("utf-8-sig").splitlines()
        rows = by_line([r for r in objects if r["job"] == job])
        assert len(rows) == nonblank_lines(REAL / rel), job
        for row, line in zip(rows, lines, strict=True):
            assert row["raw"] == line
    jobs = {r["job"]: r for r in read(real_lake, "jobs")}
    assert set(jobs) == set(REAL_JOBS)
    assert {j: (r["type"], r["lines"], r["labeled_lines"]) for j, r in jobs.items()} == {
        "birds-open-images-clone": ("image-classification", 302, 302),
        "yolov5": ("object-detection", 100, 100),
        "augmentation-1": ("object-detection", 50, 50),
        "augmentation-2": ("object-detection", 50, 50),
        "s10-label3": ("semantic-segmentation", 1, 1),
        "test-gtner-blog-004": ("text-span", 9, 9),
        "legal-entity": ("custom", 2, 2),
        "cutomdocclassification": ("text-classification-multilabel", 1, 1),
        "multi-class": ("text-classification", 1, 1),
        "entityrecognizerpoc-1": ("text-span", 2, 2),
    }
    assert all(r["status"] == "complete" and r["quarantined_lines"] == 0 for r in jobs.values())
    assert jobs["augmentation-1"]["label_attribute"] == "augmentation-1"  # DUMMY-JOB-NAME
    assert jobs["s10-label3"]["label_attribute"] == "S10-label3-ref"


def test_real_image_classification(real_lake: Path) -> None:
    labels = by_line(read(real_lake, "labels", "birds-open-images-clone"))
    assert len(labels) == 302
    first = labels[0]
    assert {
        k: first[k] for k in ("attribute", "label_job", "label_type", "class_id", "class_name")
    } == {
        "attribute": "birds-open-images-clone",
        "label_job": "birds-open-images-clone",
        "label_type": "image-classification",
        "class_id": 9,
        "class_name": "Canary",
    }
    assert first["confidence"] == 0.95
    assert first["human_annotated"] is True and first["is_inherited"] is False
    assert first["created_at"].isoformat() == "2019-04-18T16:40:59.217995+00:00"
    names = [r["class_name"] for r in labels]
    assert (names.count("Parrot"), names.count("Sparrow"), names.count("Duck")) == (65, 56, 42)


def test_real_boxes_keep_float_coordinates(real_lake: Path) -> None:
    boxes = by_line(read(real_lake, "boxes", "yolov5"))
    assert len(boxes) == 192
    first = boxes[0]
    assert (first["line"], first["box_index"], first["class_id"], first["class_name"]) == (
        0,
        0,
        0,
        "Bird",
    )
    assert (first["left"], first["top"], first["width"], first["height"]) == (
        138.8,
        164.60000000000002,
        443.8,
        859.0,
    )
    assert first["confidence"] == 0.93
    assert (first["image_width"], first["image_height"], first["image_depth"]) == (680, 1024, 3)
    line1 = [(b["top"], b["confidence"]) for b in boxes if b["line"] == 1]
    assert line1 == [(187.39999999999998, 0.88), (302.25, 0.75), (146.39999999999998, 0.84)]
    labels = read(real_lake, "labels", "yolov5")
    assert all(r["warning"] is None and r["confidence"] is None for r in labels)


def test_real_adjustment_jobs(real_lake: Path) -> None:
    for job, boxes, adjusted in (("augmentation-1", 600, 20), ("augmentation-2", 508, 12)):
        labels = read(real_lake, "labels", job)
        statuses = [r["adjustment_status"] for r in labels]
        assert (statuses.count("adjusted"), statuses.count("unadjusted")) == (
            adjusted,
            50 - adjusted,
        )
        assert {r["label_job"] for r in labels} == {"DUMMY-JOB-NAME"}
        assert len(read(real_lake, "boxes", job)) == boxes
    first = by_line(read(real_lake, "objects", "augmentation-1"))[0]
    assert json.loads(first["attributes"]) == {
        "textract-ref": "s3://DOC-EXAMPLE-BUCKET/EXAMPLE-PREFIX/data/textracted/Commerce Bank/"
        "Lindenwood Rewards Visa Card Cardholder Agreement.pdf/consolidated.json",
        "page-num": 1,
    }
    assert first["source_ref"].endswith(
        "Lindenwood Rewards Visa Card Cardholder Agreement-0001-1.png"
    )
    box = by_line(read(real_lake, "boxes", "augmentation-1"))[4]
    assert (box["class_id"], box["class_name"], box["left"], box["top"], box["confidence"]) == (
        17,
        "Min Payment Calculation",
        2033.0,
        1950.0,
        0.0,
    )
    label = by_line(read(real_lake, "labels", "augmentation-1"))[0]
    assert label["adjustment_status"] == "adjusted"
    assert label["created_at"].isoformat() == "2021-07-04T18:11:01.935918+00:00"
    second = by_line(read(real_lake, "objects", "augmentation-2"))[0]
    assert json.loads(second["attributes"])["page-num"] == 4


def test_real_segmentation_colour_map(real_lake: Path) -> None:
    segments = sorted(read(real_lake, "segments", "s10-label3"), key=lambda r: r["class_id"])
    mask = (
        "s3://pcbtest22/label/S10-label3/annotations/consolidated-annotation/output/"
        "0_2022-09-09T17:25:31.918770.png"
    )
    assert [
        (
            r["attribute"],
            r["mask_ref"],
            r["class_id"],
            r["class_name"],
            r["hex_color"],
            r["confidence"],
        )
        for r in segments
    ] == [
        ("S10-label3-ref", mask, 0, "BACKGROUND", "#ffffff", 0.0),
        ("S10-label3-ref", mask, 1, "IC", "#2ca02c", 0.0),
        ("S10-label3-ref", mask, 2, "resistor1", "#1f77b4", 0.0),
        ("S10-label3-ref", mask, 3, "resistor2", "#ff7f0e", 0.0),
    ]
    (label,) = read(real_lake, "labels", "s10-label3")
    assert (label["metadata_key"], label["label_job"], label["confidence"]) == (
        "S10-label3-ref-metadata",
        "s10-label3",
        0.0,
    )


def test_real_entities_with_their_text(real_lake: Path) -> None:
    entities = by_line(read(real_lake, "entities", "test-gtner-blog-004"))
    assert len(entities) == 27
    assert [(e["label"], e["text"], e["confidence"]) for e in entities[:3]] == [
        ("Brand", "Online Returns Center", 0.11),
        ("Internet", "https://amzn.to/2l6qYKG", 0.11),
        ("Internet", "amzn.to/2l6qYKG", 0.1),
    ]
    sources = {r["line"]: r["source"] for r in read(real_lake, "objects", "test-gtner-blog-004")}
    assert sources[0].startswith("It's the thought")  # the file's \u0027 escape, decoded
    for e in entities:
        assert e["text"] == sources[e["line"]][e["start_offset"] : e["end_offset"]]
    poc = by_line(read(real_lake, "entities", "entityrecognizerpoc-1"))
    assert [(e["line"], e["label"], e["text"], e["confidence"]) for e in poc] == [
        (0, "Date", "Jan 1 ", 0.08),
        (0, "Person", "Bob", 0.08),
        (0, "Location", "inneapolis.", 0.09),  # the offsets as the real file has them
        (1, "Date", "Jan 1 1990", 0.09),
        (1, "Location", "inneapolis.", 0.09),
    ]


def test_real_multilabel_confidence_map(real_lake: Path) -> None:
    classes = read(real_lake, "classes", "cutomdocclassification")
    assert sorted((r["class_id"], r["class_name"], r["confidence"]) for r in classes) == [
        (1, "optimism", 0.49),
        (5, "joy", 0.91),
    ]
    (label,) = read(real_lake, "labels", "cutomdocclassification")
    assert label["value"] == "[5,1]" and label["confidence"] is None
    (multi,) = read(real_lake, "labels", "multi-class")
    assert (multi["class_id"], multi["class_name"], multi["confidence"]) == (0, "joy", 0.0)


def test_real_custom_job_keeps_input_keys(real_lake: Path) -> None:
    objects = by_line(read(real_lake, "objects", "legal-entity"))
    attributes = json.loads(objects[0]["attributes"])
    assert set(attributes) == {"page", "metadata", "annotator-metadata"}
    assert attributes["annotator-metadata"] == {"Info": "Annotate Required Entities"}
    assert attributes["metadata"]["labels"][0] == "Law Firm"
    assert objects[1]["source_ref"] == "s3://legal-entity-blog/source/Letter 228.pdf"
    labels = by_line(read(real_lake, "labels", "legal-entity"))
    assert [(r["label_type"], r["label_job"]) for r in labels] == [
        ("custom", "legal-entity-label-job-labeling-job-20220104t172242")
    ] * 2
    assert json.loads(labels[0]["value"]) == {
        "annotation-ref": "s3://legal-entity-blog/annotations/Letter 36-1-21e16c6e-ann.json"
    }


def test_duckdb_reads_the_real_lake(real_lake: Path) -> None:
    # through the Delta log (a glob of the Parquet files is not the lake: see the README)
    con = views.connect(Location(str(real_lake)))
    got = con.sql("select job, type, count(*) from boxes group by all order by job").fetchall()
    assert got == [
        ("augmentation-1", "object-detection", 600),
        ("augmentation-2", "object-detection", 508),
        ("yolov5", "object-detection", 192),
    ]


# -- the documents' examples ------------------------------------------------------------------


SEED_JOBS = {  # the job each documented example belongs to (its own label attribute's job-name)
    "doc0-sport": ("identify-sport", "image-classification"),
    "doc0-species": ("identify-animal-species", "image-classification"),
    "doc0-mood": ("label-mood", "text-classification"),
    "doc0-bounding-box": ("identify-dogs-and-toys", "object-detection"),
    "doc0-city-streets": ("label-city-streets", "semantic-segmentation"),
    "doc1-sport": ("identify-sport", "image-classification"),
    "doc1-species": ("identify-animal-species", "image-classification"),
    "doc1-mood": ("label-mood", "text-classification"),
    "doc1-multilabel-image": ("image-label-attribute-name", "image-classification-multilabel"),
    "doc1-multilabel-text": ("text-label-attribute-name", "text-classification-multilabel"),
    "doc1-bounding-box": ("identify-dogs-and-toys", "object-detection"),
    "doc1-adjusted-bounding-box": ("adjust-bounding-boxes-on-dogs-and-toys", "object-detection"),
    "doc1-verify-bounding-box": ("verify-bounding-boxes", "label-verification"),
    "doc1-verify-city-streets": ("verify-city-streets", "label-verification"),
    "doc1-adjusted-city-streets": ("adjust-label-city-streets", "semantic-segmentation"),
}


@pytest.fixture(scope="module")
def seed_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seeds")
    for name in SEED_JOBS:
        write_job(root / "src", name, (SEEDS / "valid" / f"{name}.jsonl").read_text().splitlines())
    for path in sorted((SEEDS / "invalid").glob("*.jsonl")):
        write_job(root / "src", f"invalid-{path.stem}", path.read_bytes())
    run(root / "src", root / "lake")
    return root / "lake"


def test_every_seed_example_loads(seed_lake: Path) -> None:
    jobs = {r["job"]: r for r in read(seed_lake, "jobs")}
    for name, (_, kind) in SEED_JOBS.items():
        assert (jobs[name]["type"], jobs[name]["lines"], jobs[name]["quarantined_lines"]) == (
            kind,
            1,
            0,
        )
    labels = read(seed_lake, "labels")
    own = {(r["job"], r["label_job"]) for r in labels if not r["is_inherited"]}
    assert own == {(name, job) for name, (job, _) in SEED_JOBS.items()}
    inherited = {(r["job"], r["attribute"]) for r in labels if r["is_inherited"]}
    assert inherited == {
        ("doc1-adjusted-bounding-box", "bounding-box"),
        ("doc1-verify-bounding-box", "bounding-box"),
        ("doc1-verify-city-streets", "city-streets-ref"),
        ("doc1-adjusted-city-streets", "city-streets-ref"),
    }


def test_documented_invalid_examples_are_quarantined(seed_lake: Path) -> None:
    quarantine = read(seed_lake, "quarantine")
    assert sorted(r["job"] for r in quarantine) == [
        "invalid-doc0-city-streets",
        "invalid-doc1-adjusted-city-streets",
        "invalid-doc1-verify-city-streets",
    ]
    for row in quarantine:
        verbatim = (SEEDS / "invalid" / f"{row['job'][8:]}.jsonl").read_text().rstrip("\n")
        assert (row["file"], row["line"], row["byte_offset"], row["raw"]) == (
            OUTPUT,
            0,
            0,
            verbatim,
        )
        assert row["error"].startswith("invalid JSON: ")
        assert row["type"] == "unlabeled"
    assert not [r for r in read(seed_lake, "objects") if r["job"].startswith("invalid-")]


def test_adjusted_boxes_and_feedback_from_the_documents(seed_lake: Path) -> None:
    boxes = read(seed_lake, "boxes", "doc1-adjusted-bounding-box")
    moved = sorted((b["attribute"], b["box_index"], b["left"], b["top"]) for b in boxes)
    assert moved == [
        ("adjusted-bounding-box", 0, 110.0, 135.0),
        ("adjusted-bounding-box", 1, 161.0, 250.0),
        ("adjusted-bounding-box", 2, 10.0, 10.0),
        ("bounding-box", 0, 111.0, 134.0),
        ("bounding-box", 1, 161.0, 250.0),
        ("bounding-box", 2, 20.0, 20.0),
    ]
    feedback = by_line(read(seed_lake, "feedback", "doc1-verify-city-streets"))
    assert [(f["attribute"], f["comment"]) for f in feedback] == [
        (
            "verify-city-streets",
            "The mask on the leftmost building is assigned the wrong side of the road.",
        ),
        (
            "verify-city-streets",
            "The curb of the road is not labeled but the instructions say otherwise.",
        ),
    ]
    assert all(f["type"] == "label-verification" for f in feedback)


def test_type_partitions_are_normalised(seed_lake: Path) -> None:
    files = take(Location(str(seed_lake))).files["labels"]
    types = {f.type for f in files if f.job.endswith("bounding-box")}
    assert types == {"object-detection", "label-verification"}
    for job in ("doc0-bounding-box", "doc1-bounding-box"):
        (file,) = [f for f in files if f.job == job]
        assert file.type == "object-detection" and "/type=object-detection/" in file.uri
        assert Path(file.uri).is_file()


# -- chained jobs -----------------------------------------------------------------------------


def test_own_attribute_by_job_name_and_by_latest_date(tmp_path: Path) -> None:
    line = (SEEDS / "valid" / "doc1-adjusted-bounding-box.jsonl").read_text().strip()
    write_job(tmp_path / "src", "adjust-bounding-boxes-on-dogs-and-toys", [line])
    write_job(tmp_path / "src", "identify-dogs-and-toys", [line])  # the upstream job's name
    write_job(tmp_path / "src", "renamed-directory", [line])  # no name matches: latest label
    run(tmp_path / "src", tmp_path / "lake")
    own = {
        r["job"]: r["attribute"] for r in read(tmp_path / "lake", "labels") if not r["is_inherited"]
    }
    assert own == {
        "adjust-bounding-boxes-on-dogs-and-toys": "adjusted-bounding-box",
        "identify-dogs-and-toys": "bounding-box",
        "renamed-directory": "adjusted-bounding-box",
    }
    jobs = {r["job"]: r["label_attribute"] for r in read(tmp_path / "lake", "jobs")}
    assert jobs == own


def test_inherited_flags_when_own_label_appears_after_the_first_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An intermediate manifest whose first lines carry only the upstream job's label."""
    adjusted = orjson.loads((SEEDS / "valid" / "doc1-adjusted-bounding-box.jsonl").read_bytes())
    upstream = {k: v for k, v in adjusted.items() if not k.startswith("adjusted-")}
    lines = [json.dumps(upstream)] * 3 + [json.dumps(adjusted)] * 2
    write_job(tmp_path / "src", "adjust-bounding-boxes-on-dogs-and-toys", lines, manifest="2")
    blocks = []

    def small_blocks(stream, block_size: int = 0):
        for block in read_blocks(stream, 256):  # about one line a block
            blocks.append(len(block))
            yield block

    monkeypatch.setattr(gtlake.ingest, "read_blocks", small_blocks)
    report = run(tmp_path / "src", tmp_path / "lake")
    assert len(blocks) >= 4
    assert (report.jobs[0].status, report.jobs[0].type) == ("in-progress", "object-detection")
    labels = by_line(read(tmp_path / "lake", "labels"))
    assert [(r["line"], r["attribute"], r["is_inherited"]) for r in labels] == [
        (0, "bounding-box", True),
        (1, "bounding-box", True),
        (2, "bounding-box", True),
        (3, "adjusted-bounding-box", False),
        (3, "bounding-box", True),
        (4, "adjusted-bounding-box", False),
        (4, "bounding-box", True),
    ]
    (job,) = read(tmp_path / "lake", "jobs")
    assert (job["label_attribute"], job["lines"], job["labeled_lines"]) == (
        "adjusted-bounding-box",
        5,
        2,
    )


def test_unknown_type_and_confidence_count_mismatch(tmp_path: Path) -> None:
    lidar = {
        "source-ref": "s3://b/cloud.bin",
        "lidar": {"frames": [1, 2]},
        "lidar-metadata": {
            "type": "groundtruth/hologram_tracking_v9",
            "job-name": "labeling-job/holo",
        },
    }
    boxes = orjson.loads((SEEDS / "valid" / "doc1-bounding-box.jsonl").read_bytes())
    boxes["bounding-box-metadata"]["objects"].pop()
    write_job(tmp_path / "src", "holo", [json.dumps(lidar)])
    write_job(tmp_path / "src", "identify-dogs-and-toys", [json.dumps(boxes)])
    run(tmp_path / "src", tmp_path / "lake")
    labels = {r["job"]: r for r in read(tmp_path / "lake", "labels")}
    assert (labels["holo"]["type"], labels["holo"]["label_type"]) == (
        "hologram-tracking-v9",
        "hologram-tracking-v9",
    )
    assert labels["identify-dogs-and-toys"]["warning"] == (
        "3 boxes but 2 objects[] confidences; confidences left null"
    )
    confidences = [b["confidence"] for b in read(tmp_path / "lake", "boxes")]
    assert confidences == [None, None, None]


# -- bad input --------------------------------------------------------------------------------


def _sport(**changes) -> dict:
    line = orjson.loads((SEEDS / "valid" / "doc1-sport.jsonl").read_bytes())
    line["sport-metadata"].update(changes)
    return line


GOOD = json.dumps(_sport())
BAD_LINES = {
    "trailing comma (document)": (
        (SEEDS / "invalid" / "doc0-city-streets.jsonl").read_bytes().strip(),
        "invalid JSON: ",
    ),
    "not JSON": (b"{this is not json", "invalid JSON: "),
    "invalid UTF-8": (b'{"source-ref": "caf\xe9"}', "invalid UTF-8 at byte 19 of the line"),
    "a list": (b"[1, 2, 3]", "line is a list, expected a JSON object"),
    "a string": (b'"sport"', "line is a string, expected a JSON object"),
    "null": (b"null", "line is null, expected a JSON object"),
    "metadata without attribute": (
        json.dumps({"source-ref": "x", "sport-metadata": _sport()["sport-metadata"]}).encode(),
        "label metadata 'sport-metadata' has no label attribute 'sport'",
    ),
    "confidence as a string": (
        json.dumps(_sport(confidence="0.8")).encode(),
        "label 'sport' (image-classification): confidence is a string '0.8', expected a number",
    ),
    "human-annotated not yes/no": (
        json.dumps(_sport(**{"human-annotated": True})).encode(),
        "label 'sport' (image-classification): human-annotated is True, expected 'yes' or 'no'",
    ),
    "class index a word": (
        json.dumps({**_sport(), "sport": "football"}).encode(),
        "label 'sport' (image-classification): label value is a string 'football', "
        "expected a class index",
    ),
    "class index beyond int64": (
        json.dumps({**_sport(), "sport": 2**64 - 1}).encode(),
        "label 'sport' (image-classification): label value is an integer",
    ),
    "nested 1,000 deep": (
        b'{"source-ref": "x", "deep": ' + b"[" * 999 + b"]" * 999 + b"}",
        "nested deeper than 100 levels",
    ),
    "nested 101 deep in a label": (
        json.dumps(_sport(deep=[[[[]]]])).encode().replace(b"[[[[]]]]", b"[" * 99 + b"]" * 99),
        "nested deeper than 100 levels",
    ),
}


@pytest.mark.parametrize("case", BAD_LINES)
def test_a_bad_line_is_quarantined_and_the_rest_loads(tmp_path: Path, case: str) -> None:
    bad, reason = BAD_LINES[case]
    data = GOOD.encode() + b"\n" + bad + b"\n" + GOOD.encode() + b"\n"
    write_job(tmp_path / "src", "identify-sport", data)
    report = run(tmp_path / "src", tmp_path / "lake")
    assert (report.jobs[0].lines, report.jobs[0].quarantined) == (2, 1)
    lake = tmp_path / "lake"
    assert [r["line"] for r in read(lake, "objects")] == [0, 2]
    assert len(read(lake, "labels")) == 2
    (row,) = read(lake, "quarantine")
    assert (row["job"], row["type"], row["file"], row["line"]) == (
        "identify-sport",
        "image-classification",
        OUTPUT,
        1,
    )
    assert row["byte_offset"] == len(GOOD) + 1
    assert row["error"].startswith(reason), row["error"]
    assert row["raw"] == bad.decode("utf-8", "backslashreplace")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_line_nested_1000_deep_never_stops_a_run(tmp_path: Path, workers: int) -> None:
    """Defect 4: on both paths (in-process and the pool) the deep line is quarantined with its
    reason, its job and the other jobs load, and nothing but the report is printed."""
    deep = b'{"source-ref": "x", "deep": ' + b"[" * 999 + b"]" * 999 + b"}"
    write_job(tmp_path / "src", "a-deep", GOOD.encode() + b"\n" + deep + b"\n")
    write_job(tmp_path / "src", "b-other", [GOOD])
    lake = tmp_path / "lake"
    done = subprocess.run(
        [sys.executable, "-m", "gtlake.cli", "ingest", str(tmp_path / "src"), "--lake", str(lake),
         "--workers", str(workers)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (done.returncode, error_lines(done.stderr)) == (0, []), done.stderr
    assert "Traceback" not in done.stderr
    assert "ingested 2 jobs, skipped 0 unchanged, 0 failed" in done.stdout
    assert [(r["job"], r["line"]) for r in read(lake, "objects")] == [("a-deep", 0), ("b-other", 0)]
    (row,) = read(lake, "quarantine")
    assert (row["job"], row["line"], row["error"]) == ("a-deep", 1, "nested deeper than 100 levels")


def test_class_index_digit_string_is_valid(tmp_path: Path) -> None:
    write_job(tmp_path / "src", "identify-sport", [json.dumps({**_sport(), "sport": "0"})])
    run(tmp_path / "src", tmp_path / "lake")
    (label,) = read(tmp_path / "lake", "labels")
    assert (label["class_id"], label["value"]) == (0, '"0"')
    assert read(tmp_path / "lake", "quarantine") == []


def test_bom_crlf_blank_lines_and_truncated_last_line(tmp_path: Path) -> None:
    data = (
        b"\xef\xbb\xbf" + GOOD.encode() + b"\r\n\r\n" + GOOD.encode() + b"\r\n" + GOOD.encode()[:40]
    )
    path = write_job(tmp_path / "src", "identify-sport", data, manifest="1")
    report = run(tmp_path / "src", tmp_path / "lake")
    assert (report.jobs[0].status, report.jobs[0].lines, report.jobs[0].quarantined) == (
        "in-progress",
        2,
        1,
    )
    assert [r["line"] for r in read(tmp_path / "lake", "objects")] == [0, 2]
    assert [r["raw"] for r in read(tmp_path / "lake", "objects")] == [GOOD, GOOD]
    (row,) = read(tmp_path / "lake", "quarantine")
    assert row["file"] == "manifests/intermediate/1/output.manifest"
    assert (row["line"], row["raw"]) == (3, GOOD[:40])
    assert row["error"].startswith("truncated last line (no line end)")
    assert len(read(tmp_path / "lake", "objects")) + 1 == nonblank_lines(path)


def test_a_5_mb_line_loads(tmp_path: Path) -> None:
    big = {**_sport(), "notes": "ü" * (5 << 19), "many": list(range(100_000))}
    line = json.dumps(big, ensure_ascii=False)
    assert len(line.encode()) > 5_000_000
    write_job(tmp_path / "src", "identify-sport", [GOOD, line, GOOD])
    run(tmp_path / "src", tmp_path / "lake")
    objects = by_line(read(tmp_path / "lake", "objects"))
    assert [r["line"] for r in objects] == [0, 1, 2]
    assert objects[1]["raw"] == line
    assert json.loads(objects[1]["attributes"]) == {"notes": big["notes"], "many": big["many"]}


def test_job_without_manifest_and_empty_manifests(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "no-manifest" / "annotations" / "worker-response").mkdir(parents=True)
    (src / "no-manifest" / "annotations" / "worker-response" / "x.json").write_text("{}")
    write_job(src, "empty", b"")
    write_job(src, "blank", b"\n\r\n  \n")
    write_job(src, "good", [GOOD])
    report = run(src, tmp_path / "lake")
    messages = {j.job: j.message for j in report.jobs}
    assert messages == {
        "blank": "empty manifest",
        "empty": "empty manifest",
        "good": None,
        "no-manifest": "no manifest yet (no output or intermediate manifest)",
    }
    jobs = {r["job"]: r for r in read(tmp_path / "lake", "jobs")}
    assert set(jobs) == {"blank", "empty", "good", "no-manifest"}
    assert {j: (r["type"], r["lines"], r["label_attribute"]) for j, r in jobs.items()} == {
        "blank": ("unlabeled", 0, None),
        "empty": ("unlabeled", 0, None),
        "good": ("image-classification", 1, "sport"),
        "no-manifest": ("unlabeled", 0, None),
    }
    assert jobs["no-manifest"]["manifest"] is None
    assert [r["job"] for r in read(tmp_path / "lake", "objects")] == ["good"]


def test_unlabeled_lines_of_an_intermediate_manifest(tmp_path: Path) -> None:
    lines = [json.dumps({"source-ref": f"s3://b/{i}.jpg"}) for i in range(3)] + [GOOD]
    write_job(tmp_path / "src", "identify-sport", lines, manifest="1")
    report = run(tmp_path / "src", tmp_path / "lake")
    assert (report.jobs[0].lines, report.jobs[0].labeled_lines) == (4, 1)
    objects = by_line(read(tmp_path / "lake", "objects"))
    assert [(r["source_ref"], r["attributes"]) for r in objects[:3]] == [
        (f"s3://b/{i}.jpg", "{}") for i in range(3)
    ]


# -- idempotence and escaping -----------------------------------------------------------------


def _snapshot(lake: Path) -> dict[str, list[dict]]:
    tables = {}
    for table in TABLES:
        rows = read(lake, table)
        for row in rows:
            row.pop("ingested_at", None)
            row.pop("table_versions", None)
        tables[table] = rows
    return tables


def test_ingesting_twice_gives_identical_rows(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for name in ("doc1-adjusted-bounding-box", "doc1-verify-city-streets", "doc1-multilabel-text"):
        write_job(src, name, (SEEDS / "valid" / f"{name}.jsonl").read_text().splitlines() * 3)
    write_job(src, "with-bad-lines", GOOD.encode() + b"\n{oops\n" + BAD_LINES["a list"][0])
    shutil.copytree(REAL / "textract-transformer-pipeline/augmentation-1", src / "augmentation-1")
    lake = tmp_path / "lake"
    run(src, lake)
    first = _snapshot(lake)
    assert sum(len(rows) for rows in first.values()) > 700
    second_report = run(src, lake, full=True)
    assert not any(j.skipped for j in second_report.jobs)
    assert _snapshot(lake) == first
    third = run(src, lake)  # unchanged input: skipped, the lake unchanged
    assert all(j.skipped for j in third.jobs)
    assert _snapshot(lake) == first
    assert not list(lake.glob("_staging*"))


NAMES = {
    "with space": "with%20space",
    "a=b": "a%3Db",
    "100%": "100%25",
    "%2e%2e": "%252e%252e",
    "x..%2F..%2Fescape": "x..%252F..%252Fescape",  # names starting with . are not jobs
    'double"quote': "double%22quote",
    "single'quote": "single%27quote",
    "ünïcødé 漢字": "%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%E6%BC%A2%E5%AD%97",
    "a..b": "a..b",
    "back\\slash": "back%5Cslash",
    "type=x": "type%3Dx",
    "plain-job_1.0~": "plain-job_1.0~",
}


def test_job_names_land_in_escaped_partitions(tmp_path: Path) -> None:
    src, lake = tmp_path / "src", tmp_path / "lake"
    for name in NAMES:
        write_job(src, name, [GOOD])
    before = {p for p in tmp_path.rglob("*")}
    run(src, lake)
    created = {p for p in tmp_path.rglob("*")} - before
    assert created and all(p == lake or lake in p.parents for p in created)
    # one bounded, safe folder per job (`writer.job_key`), the exact name in the rows and log
    folders = {p.name for p in (lake / "objects").iterdir() if p.name != "_delta_log"}
    assert folders == {job_key(name) for name in NAMES}
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", f) and not f.startswith(".") for f in folders)
    assert sorted(r["job"] for r in read(lake, "objects")) == sorted(NAMES)
    con = views.connect(Location(str(lake)))
    got = con.sql("select job, type from labels").fetchall()
    assert sorted(got) == sorted((name, "image-classification") for name in NAMES)


def test_numbers_beyond_64_bits_never_fail_a_job(tmp_path: Path) -> None:
    """Valid JSON numbers that a 64-bit decoder cannot hold: kept, or quarantined, never a crash."""
    boxes = orjson.loads((SEEDS / "valid" / "doc1-bounding-box.jsonl").read_bytes())
    huge_class = json.loads(json.dumps(boxes))
    huge_class["bounding-box"]["annotations"][0]["class_id"] = 2**64 - 1
    huge_left = json.dumps(boxes).replace('"left": 111', '"left": 1e400')
    lines = [
        '{"source-ref": "s3://b/0.jpg", "keep": 1e400, "big": 123456789012345678901234567890}',
        '{"source-ref": "s3://b/1.jpg", "x-metadata": {"type": "pre-label", "score": -1e999}}',
        json.dumps(huge_class),
        huge_left,
        "[1e400]",
        json.dumps(boxes),
    ]
    write_job(tmp_path / "src", "identify-dogs-and-toys", lines)
    run(tmp_path / "src", tmp_path / "lake")
    lake = tmp_path / "lake"
    quarantine = {r["line"]: r["error"] for r in read(lake, "quarantine")}
    assert sorted(quarantine) == [2, 3, 4]
    assert "annotations[0].class_id is an integer" in quarantine[2]
    # A coordinate a float64 cannot hold is never stored as infinity (defect 8).
    assert quarantine[3] == (
        "label 'bounding-box' (object-detection): annotations[0].left is beyond the range of "
        "a float64 (inf)"
    )
    assert quarantine[4] == "line is a list, expected a JSON object"
    objects = by_line(read(lake, "objects"))
    assert [r["line"] for r in objects] == [0, 1, 5]
    exported = export_lines(Location(str(lake)), "identify-dogs-and-toys")
    assert exported == [json.loads(lines[n]) for n in (0, 1, 5)]
    assert all(math.isfinite(b["left"]) for b in read(lake, "boxes"))


@pytest.mark.parametrize(
    ("field", "text"),
    [("left", "1e999"), ("width", "-1e999"), ("top", "1" + "0" * 400), ("confidence", "1e999")],
)
def test_a_number_beyond_float64_is_quarantined_never_infinite(
    tmp_path: Path, field: str, text: str
) -> None:
    boxes = orjson.loads((SEEDS / "valid" / "doc1-bounding-box.jsonl").read_bytes())
    if field == "confidence":
        boxes["bounding-box-metadata"]["objects"][1]["confidence"] = 12345.5
        where = "objects[1].confidence"
    else:
        boxes["bounding-box"]["annotations"][1][field] = 12345.5
        where = f"annotations[1].{field}"
    line = json.dumps(boxes).replace("12345.5", text)
    write_job(tmp_path / "src", "identify-dogs-and-toys", [line, json.dumps(boxes)])
    assert not run(tmp_path / "src", tmp_path / "lake").failed
    (row,) = read(tmp_path / "lake", "quarantine")
    assert row["line"] == 0
    assert f"{where} is beyond the range of a float64" in row["error"]
    assert [r["line"] for r in read(tmp_path / "lake", "objects")] == [1]


# -- memory for one huge line (defect 13) -----------------------------------------------------

MEMORY_CHILD = """
import json, resource, sys
from gtlake.ingest import ingest
from gtlake.storage import Location
tiny, huge, lake = sys.argv[1:]
ingest(Location(tiny), Location(lake + "-tiny"), workers=1)  # Arrow's one-time ~50 MB
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = ingest(Location(huge), Location(lake), workers=1)
assert not report.failed and report.jobs[0].lines == 1, report
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024))
"""
HUGE = 50 << 20
HUGE_LINES = {
    "a long passthrough string": b'{"source-ref": "s3://b/0.jpg", "notes": "' + b"x" * HUGE + b'"}',
    "many small passthrough objects": b'{"source-ref": "s3://b/0.jpg", "extra": ['
    + b'{"k": [1, 2], "s": "abc"}, ' * (HUGE // 27)
    + b"{}]}",
    "a long source text": b'{"source": "'
    + b"w " * (HUGE // 2)
    + b'", '
    + json.dumps(_sport())[1:].encode(),
}


@pytest.mark.slow
@pytest.mark.parametrize("shape", HUGE_LINES)
def test_a_50_mb_line_peaks_within_a_few_times_its_size(tmp_path: Path, shape: str) -> None:
    """Peak memory growth of ingesting one 50 MB line, measured in a fresh process (a memory
    bound, not a timing one): the line, its stored copies and the Parquet writer's buffers,
    well under 6 times the line (it was 12 times)."""
    write_job(tmp_path / "tiny", "job", [GOOD])
    manifest = write_job(tmp_path / "huge", "job", HUGE_LINES[shape] + b"\n")
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(tmp_path / "tiny"), str(tmp_path / "huge"),
         str(tmp_path / "lake")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    growth = json.loads(done.stdout.splitlines()[-1])
    assert growth < 6 * manifest.stat().st_size, growth / manifest.stat().st_size
