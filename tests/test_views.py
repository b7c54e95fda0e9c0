"""The DuckDB views of `sql/` over a crafted chained tree, checked row by row.

The tree (built with the real ingest from documented examples, fixed to valid JSON):

- bounding box `identify-dogs-and-toys` -> adjustment `adjust-bounding-boxes-on-dogs-and-toys`
  -> verification `verify-bounding-boxes` (each job's input is the previous job's output);
- image classification `identify-animal-species` (human and automated labels) -> a second question
  `indoor-outdoor` on the same images;
- `verify-city-streets`, whose input labels come from `label-city-streets`, a job not in the lake.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from gtlake import demo, views
from gtlake.ingest import ingest
from gtlake.snapshot import take
from gtlake.storage import Location
from tests.conftest import write_job
from tests.lakeread import add_rows

DOGS, ADJUST, VERIFY = (
    "identify-dogs-and-toys",
    "adjust-bounding-boxes-on-dogs-and-toys",
    ("verify-bounding-boxes"),
)
SPECIES, SETTING = "identify-animal-species", "indoor-outdoor"
STREETS, VERIFY_STREETS = "label-city-streets", "verify-city-streets"
CLASS_MAP = {"0": "dog", "5": "bone"}

# (class_id, left, top, width, height) per image; confidences per box
ORIGINAL = {
    "img1": ([(0, 111, 134, 61, 128), (5, 161, 250, 30, 30), (5, 20, 20, 30, 30)], [0.8, 0.9, 0.9]),
    "img2": ([(0, 10, 10, 100, 100)], [0.5]),
    "img3": ([(5, 0, 0, 50, 50), (0, 100, 100, 20, 20)], [0.7, 0.95]),
}
ADJUSTED = {
    "img1": ([(0, 110, 135, 61, 128), (5, 161, 250, 30, 30), (5, 10, 10, 30, 30)], "adjusted"),
    "img2": ([(0, 10, 10, 100, 100)], "unadjusted"),
    "img3": ([(5, 0, 0, 40, 50)], "adjusted"),
}
VERDICTS = {
    "img1": ("bad", 0.93, ["The bounding box on the bird is too wide on the right side.",
                           "The bird on the upper right is not labeled."]),
    "img2": ("good", 0.88, []),
    "img3": ("bad", 0.75, ["The bone box is too small."]),
}  # fmt: skip
# image -> (class_id, class, confidence, human)
SPECIES_LABELS = {
    "pet1": (0, "dog", 0.95, "yes"),
    "pet2": (1, "cat", 0.7, "yes"),
    "pet3": (0, "dog", 0.6, "no"),
    "pet4": (1, "cat", 0.99, "no"),
}
SETTING_LABELS = {"pet1": 0.9, "pet2": 0.8, "pet3": 0.85, "pet4": 0.7}
STREET_CONFIDENCE = {"street1": 0.9, "street2": 0.6}
STREET_VERDICTS = {"street1": ("good", 0.95), "street2": ("bad", 0.8)}


def _boxes(boxes: list[tuple], confidences: list[float], job: str, date: str) -> tuple:
    value = {
        "image_size": [{"width": 500, "height": 400, "depth": 3}],
        "annotations": [
            {"class_id": c, "left": x, "top": y, "width": w, "height": h} for c, x, y, w, h in boxes
        ],
    }
    meta = {
        "objects": [{"confidence": c} for c in confidences],
        "class-map": CLASS_MAP,
        "type": "groundtruth/object-detection",
        "human-annotated": "yes",
        "creation-date": date,
        "job-name": f"labeling-job/{job}",
    }
    return value, meta


def _classification(job: str, cid: int, name: str, conf: float, human: str, date: str) -> dict:
    return {
        "class-name": name,
        "confidence": conf,
        "type": "groundtruth/image-classification",
        "job-name": job,
        "human-annotated": human,
        "creation-date": date,
    }


def _verification(job: str, verdict: str, conf: float, comments: list[str], date: str) -> dict:
    meta = {
        "class-name": verdict,
        "confidence": conf,
        "type": "groundtruth/label-verification",
        "job-name": job,
        "human-annotated": "yes",
        "creation-date": date,
    }
    if comments:
        meta["worker-feedback"] = [{"comment": c} for c in comments]
    return meta


def chained_tree(root: Path) -> None:
    """Write the job directories described in the module docstring under `root`."""
    dogs, adjust, verify = [], [], []
    for image, (boxes, confidences) in ORIGINAL.items():
        line = {"source-ref": f"s3://bucket/dogs/{image}.jpg"}
        line["bounding-box"], line["bounding-box-metadata"] = _boxes(
            boxes, confidences, DOGS, "2018-10-18T22:18:13.527256"
        )
        dogs.append(dict(line))
        moved, status = ADJUSTED[image]
        value, meta = _boxes(moved, [0.9] * len(moved), ADJUST, "2018-11-20T22:18:13.527256")
        meta["adjustment-status"] = status
        line["adjusted-bounding-box"], line["adjusted-bounding-box-metadata"] = value, meta
        adjust.append(dict(line))
        verdict, conf, comments = VERDICTS[image]
        line["verify-bounding-box"] = "1" if verdict == "bad" else "0"
        line["verify-bounding-box-metadata"] = _verification(
            VERIFY, verdict, conf, comments, "2018-11-21T10:00:00"
        )
        verify.append(line)
    species, setting = [], []
    for image, (cid, name, conf, human) in SPECIES_LABELS.items():
        line = {"source-ref": f"s3://bucket/pets/{image}.jpg", "species": cid}
        line["species-metadata"] = _classification(
            SPECIES, cid, name, conf, human, "2019-01-01T00:00:00"
        )
        species.append(dict(line))
        outdoor = int(image in ("pet2", "pet4"))
        line["setting"] = outdoor
        line["setting-metadata"] = _classification(
            SETTING, outdoor, ["indoor", "outdoor"][outdoor], SETTING_LABELS[image], "yes",
            "2019-02-01T00:00:00",
        )  # fmt: skip
        setting.append(line)
    streets = []
    for image, conf in STREET_CONFIDENCE.items():
        colors = {
            str(i): {"class-name": name, "confidence": conf, "hex-color": color}
            for i, (name, color) in enumerate(
                [("BACKGROUND", "#ffffff"), ("buildings", "#2acf59"), ("road", "#f28333")]
            )
        }
        verdict, vconf = STREET_VERDICTS[image]
        streets.append(
            {
                "source-ref": f"s3://bucket/streets/{image}.png",
                "city-streets-ref": f"s3://bucket/masks/{image}.png",
                "city-streets-metadata": {
                    "internal-color-map": colors,
                    "type": "groundtruth/semantic-segmentation",
                    "human-annotated": "yes",
                    "creation-date": "2018-10-18T22:18:13.527256",
                    "job-name": STREETS,
                },
                "verify-city-streets": "1" if verdict == "bad" else "0",
                "verify-city-streets-metadata": _verification(
                    VERIFY_STREETS, verdict, vconf, [], "2018-11-20T22:18:13.527256"
                ),
            }
        )
    jobs = {DOGS: dogs, ADJUST: adjust, VERIFY: verify, SPECIES: species, SETTING: setting,
            VERIFY_STREETS: streets}  # fmt: skip
    for job, lines in jobs.items():
        write_job(root, job, [json.dumps(line) for line in lines])


# Worker answers for identify-animal-species: (line, worker, label, seconds spent or
# (acceptance, submission) times)
ANSWERS = [
    (0, "private.us-east-1.w1", "dog", 10.0, None),
    (1, "private.us-east-1.w1", "dog", 20.0, None),
    (0, "private.us-east-1.w2", "dog", None, ("2019-01-01T00:00:00", "2019-01-01T00:00:30")),
    (1, "private.us-east-1.w3", "cat", 100.0, None),
]


def write_worker_responses(lake: Path, job: str, task_type: str) -> None:
    """Write `worker_responses` rows for `job` the way the lake stores them (schema module)."""
    from datetime import UTC, datetime

    schema = pa.schema(list(views.table_schemas()["worker_responses"])[2:])
    rows = []
    for i, (line, worker, label, seconds, times) in enumerate(ANSWERS):
        accepted, submitted = times or (None, "2019-01-01T00:01:00")
        rows.append(
            {
                "iteration": 1,
                "object_index": line,
                "file": f"annotations/worker-response/iteration-1/{line}/{i}.json",
                "answer_index": 0,
                "worker_id": worker,
                "workforce": "private",
                "acceptance_time": accepted
                and datetime.fromisoformat(accepted).replace(tzinfo=UTC),
                "submission_time": datetime.fromisoformat(submitted).replace(tzinfo=UTC),
                "time_spent_s": seconds,
                "answer": json.dumps({"crowd-image-classifier": {"label": label}}),
            }
        )
    add_rows(
        Location(str(lake)), "worker_responses", job, pa.Table.from_pylist(rows, schema=schema)
    )


def build_chained_lake(base: Path) -> Path:
    """Ingest the chained tree into `base/lake` (plus worker responses); return the lake path."""
    chained_tree(base / "src")
    lake = base / "lake"
    report = ingest(Location(str(base / "src")), Location(str(lake)), workers=1)
    assert not report.failed, report.failed
    write_worker_responses(lake, SPECIES, "image-classification")
    return lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_chained_lake(tmp_path_factory.mktemp("chained"))


@pytest.fixture(scope="module")
def con(lake: Path):
    connection = views.connect(Location(str(lake)))
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, query: str, *params) -> list[tuple]:
    return con.execute(query, list(params)).fetchall()


# -- object_labels ----------------------------------------------------------------------------


def test_object_labels_has_each_label_once(con) -> None:
    dupes = rows(
        con,
        "select object_id, label_job, attribute, count(*) from object_labels "
        "group by all having count(*) > 1",
    )
    assert dupes == []
    counts = dict(rows(con, "select label_job, count(*) from object_labels group by all"))
    assert counts == {DOGS: 3, ADJUST: 3, VERIFY: 3, SPECIES: 4, SETTING: 4, STREETS: 2,
                      VERIFY_STREETS: 2}  # fmt: skip
    # the lake holds 3 + 6 + 9 + 4 + 8 + 4 label rows: inherited copies are not repeated
    assert rows(con, "select count(*) from labels") == [(34,)]


def test_object_labels_come_from_the_job_that_made_them(con) -> None:
    made_by = rows(
        con,
        "select label_job, attribute, job, is_inherited, count(*), max(copies) "
        "from object_labels group by all order by all",
    )
    assert made_by == [
        (ADJUST, "adjusted-bounding-box", ADJUST, False, 3, 2),
        (SPECIES, "species", SPECIES, False, 4, 2),
        (DOGS, "bounding-box", DOGS, False, 3, 3),
        (SETTING, "setting", SETTING, False, 4, 1),
        # label-city-streets is not in the lake: its labels are kept, from the downstream copy
        (STREETS, "city-streets-ref", VERIFY_STREETS, True, 2, 1),
        (VERIFY, "verify-bounding-box", VERIFY, False, 3, 1),
        (VERIFY_STREETS, "verify-city-streets", VERIFY_STREETS, False, 2, 1),
    ]


def test_object_history_orders_each_objects_labels_in_time(con) -> None:
    history = rows(
        con,
        "select step, label_job, attribute from object_history "
        "where source_ref = 's3://bucket/dogs/img1.jpg' order by step",
    )
    assert history == [
        (1, DOGS, "bounding-box"),
        (2, ADJUST, "adjusted-bounding-box"),
        (3, VERIFY, "verify-bounding-box"),
    ]
    assert rows(con, "select count(*), count(distinct object_id) from object_history") == [(21, 9)]


# -- job_lineage ------------------------------------------------------------------------------


def test_job_lineage_has_exactly_the_true_edges(con) -> None:
    edges = rows(
        con,
        "select upstream_job, downstream_job, attribute, objects, upstream_ingested, is_direct "
        "from job_lineage order by all",
    )
    assert edges == [
        (ADJUST, VERIFY, "adjusted-bounding-box", 3, True, True),
        (SPECIES, SETTING, "species", 4, True, True),
        (DOGS, ADJUST, "bounding-box", 3, True, True),
        (DOGS, VERIFY, "bounding-box", 3, True, False),
        (STREETS, VERIFY_STREETS, "city-streets-ref", 2, False, True),
    ]


# -- box_adjustments --------------------------------------------------------------------------


def _iou(a: tuple, b: tuple) -> float:
    """IoU of two (left, top, width, height) boxes, by hand."""
    overlap_w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    overlap_h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = overlap_w * overlap_h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_box_adjustments_pairs_boxes_with_iou_and_moves(con) -> None:
    got = rows(
        con,
        "select split_part(source_ref, '/', -1), box_index, change, iou, dx, dy, dw, dh, "
        "original_attribute, original_job, adjust_job, adjustment_status "
        "from box_adjustments order by all",
    )
    # by hand: img1 box 0 overlaps 60 x 127 = 7620 of 61 * 128 * 2 - 7620 = 7996
    assert _iou((111, 134, 61, 128), (110, 135, 61, 128)) == pytest.approx(7620 / 7996)
    assert _iou((20, 20, 30, 30), (10, 10, 30, 30)) == pytest.approx(400 / 1400)
    expected = [
        ("img1.jpg", 0, "moved", 7620 / 7996, -1.0, 1.0, 0.0, 0.0, "adjusted"),
        ("img1.jpg", 1, "unchanged", 1.0, 0.0, 0.0, 0.0, 0.0, "adjusted"),
        ("img1.jpg", 2, "moved", 400 / 1400, -10.0, -10.0, 0.0, 0.0, "adjusted"),
        ("img2.jpg", 0, "unchanged", 1.0, 0.0, 0.0, 0.0, 0.0, "unadjusted"),
        ("img3.jpg", 0, "moved", 0.8, 0.0, 0.0, -10.0, 0.0, "adjusted"),
        ("img3.jpg", 1, "removed", None, None, None, None, None, "adjusted"),
    ]
    assert len(got) == len(expected)
    for row, (image, index, change, iou, dx, dy, dw, dh, status) in zip(got, expected, strict=True):
        assert row[:3] == (image, index, change)
        assert (row[3] is None) == (iou is None)
        if iou is not None:
            assert math.isclose(row[3], iou, rel_tol=1e-12)
        assert row[4:8] == (dx, dy, dw, dh)
        assert row[8:] == ("bounding-box", DOGS, ADJUST, status)


def test_box_adjustments_iou_matches_boxes_by_hand(con) -> None:
    got = rows(
        con,
        "select original_left, original_top, original_width, original_height, adjusted_left, "
        "adjusted_top, adjusted_width, adjusted_height, iou from box_adjustments "
        "where change <> 'removed'",
    )
    assert len(got) == 5
    for *coords, iou in got:
        assert math.isclose(iou, _iou(tuple(coords[:4]), tuple(coords[4:])), rel_tol=1e-12)


# -- confidence -------------------------------------------------------------------------------


def test_confidence_ranked_never_ranks_across_jobs_or_kinds(con) -> None:
    species = rows(
        con,
        "select human_annotated, confidence, percent_rank, group_items from confidence_ranked "
        "where attribute = 'species' order by all",
    )
    # human and automated labels are ranked apart; indoor-outdoor's copies are not counted
    assert species == [
        (False, 0.6, 0.0, 2),
        (False, 0.99, 1.0, 2),
        (True, 0.7, 0.0, 2),
        (True, 0.95, 1.0, 2),
    ]
    setting = rows(
        con,
        "select confidence, percent_rank from confidence_ranked where attribute = 'setting' "
        "order by confidence",
    )
    assert setting == [(0.7, 0.0), (0.8, 1 / 3), (0.85, 2 / 3), (0.9, 1.0)]
    dog_boxes = rows(
        con,
        "select confidence, percent_rank from confidence_ranked "
        "where origin_job = ? and item = 'box' order by confidence",
        DOGS,
    )
    assert dog_boxes == [(0.5, 0.0), (0.7, 0.2), (0.8, 0.4), (0.9, 0.6), (0.9, 0.6), (0.95, 1.0)]
    mixed = rows(
        con,
        "select origin_job, attribute, human_annotated, item from confidence_ranked group by all "
        "having count(distinct label_job) > 1 or count(distinct job) > 1 "
        "or max(group_items) <> count(*)",
    )
    assert mixed == []


def test_low_confidence_is_the_bottom_decile_of_each_group(con) -> None:
    got = rows(
        con,
        "select origin_job, attribute, item, human_annotated, confidence from low_confidence "
        "order by all",
    )
    assert got == [
        (SPECIES, "species", "label", False, 0.6),
        (SPECIES, "species", "label", True, 0.7),
        (DOGS, "bounding-box", "box", True, 0.5),
        (SETTING, "setting", "label", True, 0.7),
        (STREETS, "city-streets-ref", "label", True, 0.6),
        (STREETS, "city-streets-ref", "segment", True, 0.6),
        (STREETS, "city-streets-ref", "segment", True, 0.6),
        (STREETS, "city-streets-ref", "segment", True, 0.6),
        (VERIFY, "verify-bounding-box", "label", True, 0.75),
        (VERIFY_STREETS, "verify-city-streets", "label", True, 0.8),
    ]
    # the adjusted boxes all have confidence 0.9: a group without a bottom decile
    assert rows(con, "select count(*) from low_confidence where origin_job = ?", ADJUST) == [(0,)]


def test_low_confidence_never_queues_items_tied_at_the_top(tmp_path: Path) -> None:
    # The real bird job: 297 of its 302 labels share the top confidence, 0.95.
    demo.write_samples(tmp_path / "src")
    ingest(Location(str(tmp_path / "src")), Location(str(tmp_path / "lake")), workers=1)
    con = views.connect(Location(str(tmp_path / "lake")))
    try:
        queued = rows(
            con,
            "select confidence from low_confidence where origin_job = 'birds-open-images-clone' "
            "order by confidence",
        )
        assert queued == [(0.6,), (0.65,), (0.86,), (0.93,), (0.94,)]
    finally:
        con.close()


# -- verification_results ---------------------------------------------------------------------


def test_verification_results_pairs_verdicts_with_judged_labels(con) -> None:
    got = rows(
        con,
        "select split_part(source_ref, '/', -1), verdict, verdict_confidence, comments, "
        "judged_job, judged_attribute, judged_is_latest from verification_results order by all",
    )
    expected = []
    for image, (verdict, conf, comments) in VERDICTS.items():
        expected.append((f"{image}.jpg", verdict, conf, comments, ADJUST,
                         "adjusted-bounding-box", True))  # fmt: skip
        expected.append((f"{image}.jpg", verdict, conf, comments, DOGS, "bounding-box", False))
    for image, (verdict, conf) in STREET_VERDICTS.items():
        expected.append((f"{image}.png", verdict, conf, [], STREETS, "city-streets-ref", True))
    assert got == sorted(expected)


# -- worker_stats -----------------------------------------------------------------------------


def test_worker_stats_counts_time_and_agreement(con) -> None:
    got = rows(
        con,
        "select worker_id, answers, objects, total_seconds, median_seconds, compared, agreed, "
        "agreement from worker_stats order by worker_id",
    )
    # line 0 is a dog, line 1 a cat (identify-animal-species)
    assert got == [
        ("private.us-east-1.w1", 2, 2, 30.0, 15.0, 2, 1, 0.5),
        ("private.us-east-1.w2", 1, 1, 30.0, 30.0, 1, 1, 1.0),
        ("private.us-east-1.w3", 1, 1, 100.0, 100.0, 1, 1, 1.0),
    ]
    assert rows(con, "select distinct job from worker_stats") == [(SPECIES,)]


# -- empty and partly empty lakes ----------------------------------------------------------------


VIEW_NAMES = sorted({p.stem for p in views.sql_files()} | set(views.table_schemas()))


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> list[tuple[str, str]]:
    return [(d[0], str(d[1])) for d in con.execute(f"select * from {view} limit 0").description]


def test_every_view_works_on_an_empty_lake(tmp_path: Path, con) -> None:
    (tmp_path / "empty").mkdir()
    empty = views.connect(Location(str(tmp_path / "empty")))
    try:
        for view in VIEW_NAMES:
            assert rows(empty, f"select count(*) from {view}") == [(0,)], view
            # same columns, same types as over a lake with data
            assert _columns(empty, view) == _columns(con, view), view
    finally:
        empty.close()


def test_every_view_works_when_some_tables_have_no_rows(tmp_path: Path) -> None:
    write_job(tmp_path / "src", "only-labels", [json.dumps(
        {"source": "a bad day", "mood": "1", "mood-metadata": _classification(
            "only-labels", 1, "sad", 0.8, "yes", "2018-10-18T22:18:13.527256")}
    )])  # fmt: skip
    ingest(Location(str(tmp_path / "src")), Location(str(tmp_path / "lake")), workers=1)
    assert take(Location(str(tmp_path / "lake"))).files["boxes"] == []
    partial = views.connect(Location(str(tmp_path / "lake")))
    try:
        for view in VIEW_NAMES:
            partial.execute(f"select * from {view}").fetchall()
        assert rows(partial, "select label_job, class_name, source from object_labels") == [
            ("only-labels", "sad", "a bad day")
        ]
        assert rows(partial, "select count(*) from confidence_ranked") == [(1,)]
    finally:
        partial.close()


def test_a_table_the_schema_module_adds_gets_a_view(tmp_path: Path, monkeypatch) -> None:
    schemas = dict(views.FILE_SCHEMAS)
    schemas["brand_new"] = pa.schema([pa.field("line", pa.int64()), pa.field("note", pa.string())])
    monkeypatch.setattr(views, "FILE_SCHEMAS", schemas)
    (tmp_path / "lake").mkdir()
    con = views.connect(Location(str(tmp_path / "lake")))
    try:
        assert rows(con, "select * from brand_new") == []
        columns = rows(con, "select column_name, data_type from information_schema.columns "
                            "where table_name = 'brand_new' order by ordinal_position")  # fmt: skip
        assert ("line", "BIGINT") in columns and ("note", "VARCHAR") in columns
    finally:
        con.close()


# -- pruning ----------------------------------------------------------------------------------


def files_read(con: duckdb.DuckDBPyConnection, query: str, profile: Path) -> list[str]:
    """The Parquet files DuckDB's table scans read for `query` (from its JSON profile)."""
    con.execute("pragma enable_profiling = 'json'")
    con.execute(f"pragma profiling_output = {views.sql_string(str(profile))}")
    try:
        con.execute(query).fetchall()
    finally:
        con.execute("pragma disable_profiling")
    found: list[str] = []

    def walk(node: dict) -> None:
        info = node.get("extra_info") or {}
        if node.get("type") == "TABLE_SCAN" and "Filename(s)" in info:
            names = info["Filename(s)"].split(", ")
            total = int(info["Total Files Read"])
            # DuckDB names the files when there are few, else shows the glob and "..."
            found.extend(names if len(names) == total else [info["Filename(s)"]] * total)
        for child in node.get("children", []):
            walk(child)

    for node in json.loads(profile.read_text())["operator"]:
        walk(node)
    return found


def test_a_filter_on_job_reads_only_current_files_and_skips_other_jobs(
    con, lake: Path, tmp_path: Path
) -> None:
    """The views name the snapshot's files: never a replaced ingest's or an unreferenced file.
    A filter on `job` skips the other jobs' rows by the files' statistics (each file holds one
    job); a filter on `type` skips whole groups of files without opening them."""
    snap = take(Location(str(lake)))
    current = {f.uri for files in snap.files.values() for f in files}
    read = files_read(con, f"select * from boxes where job = '{ADJUST}'", tmp_path / "p.json")
    assert read and set(read) <= current
    assert rows(con, f"select distinct job from boxes where job = '{ADJUST}'") == [(ADJUST,)]
    read = files_read(
        con, "select count(*) from labels where type = 'image-classification'", tmp_path / "q.json"
    )
    assert sorted(read) == sorted(
        f.uri for f in snap.files["labels"] if f.type == "image-classification"
    )


# -- injection --------------------------------------------------------------------------------

NASTY = ["it's; drop view boxes; --", 'semi;colon"quote', "a..b", "x'); select 1; --"]


def test_job_names_cannot_inject_sql(tmp_path: Path) -> None:
    for name in NASTY:
        write_job(tmp_path / "src", name, [json.dumps(
            {"source-ref": f"s3://b/{name}.jpg", "label": 0, "label-metadata": _classification(
                name, 0, "x", 0.5, "yes", "2020-01-01T00:00:00")}
        )])  # fmt: skip
    lake = tmp_path / "lake 'quoted\"; drop"
    report = ingest(Location(str(tmp_path / "src")), Location(str(lake)), workers=1)
    assert not report.failed
    con = views.connect(Location(str(lake)))
    try:
        assert sorted(r[0] for r in rows(con, "select job from labels")) == sorted(NASTY)
        assert sorted(r[0] for r in rows(con, "select origin_job from confidence_ranked")) == (
            sorted(NASTY)
        )
        for view in VIEW_NAMES:
            con.execute(f"select * from {view}").fetchall()
        texts = rows(con, "select sql from duckdb_views() where not internal")
        assert all("drop view" not in text for (text,) in texts)
    finally:
        con.close()
    saved = tmp_path / "saved 'x'.duckdb"
    views.write_database(Location(str(lake)), str(saved))
    with duckdb.connect(str(saved), read_only=True) as reopened:
        assert rows(reopened, "select count(*) from object_labels") == [(len(NASTY),)]


# -- saved database ---------------------------------------------------------------------------


def test_write_database_holds_the_views_by_absolute_path(lake: Path, tmp_path: Path, con,
                                                         monkeypatch) -> None:  # fmt: skip
    monkeypatch.chdir(lake.parent)
    target = tmp_path / "out" / "lake.duckdb"
    views.write_database(Location("lake"), str(target))
    assert sorted(os.listdir(target.parent)) == ["lake.duckdb"]  # no temporary file left
    monkeypatch.chdir(tmp_path)
    with duckdb.connect(str(target), read_only=True) as saved:
        for view in ("object_labels", "job_lineage", "box_adjustments", "worker_stats"):
            assert sorted(saved.execute(f"select * from {view}").fetchall(), key=str) == sorted(
                con.execute(f"select * from {view}").fetchall(), key=str
            ), view
        definition = rows(saved, "select sql from duckdb_views() where view_name = 'boxes' "
                                 "and schema_name = 'parquet'")[0][0]  # fmt: skip
        assert str(lake.resolve()) in definition
    with duckdb.connect() as other:  # attached under another name, as BI tools do
        other.execute(f"attach {views.sql_string(str(target))} as gt (read_only)")
        assert rows(other, "select count(*) from gt.object_labels") == [(21,)]


def test_write_database_replaces_an_existing_file(lake: Path, tmp_path: Path) -> None:
    target = tmp_path / "lake.duckdb"
    target.write_bytes(b"not a database")
    views.write_database(Location(str(lake)), str(target))
    views.write_database(Location(str(lake)), str(target))
    with duckdb.connect(str(target), read_only=True) as saved:
        assert rows(saved, "select count(*) from job_lineage") == [(5,)]
    assert sorted(os.listdir(tmp_path)) == ["lake.duckdb"]


# -- S3 ---------------------------------------------------------------------------------------


def test_views_over_an_s3_lake(lake: Path, con, s3_bucket: str) -> None:
    location = Location(f"s3://{s3_bucket}/gt/lake")
    location.fs().put(str(lake) + "/", f"{s3_bucket}/gt/lake/", recursive=True)
    remote = views.connect(location)
    try:
        for view in ("object_labels", "job_lineage", "box_adjustments", "low_confidence"):
            assert sorted(remote.execute(f"select * from {view}").fetchall(),
                          key=str) == sorted(
                con.execute(f"select * from {view}").fetchall(), key=str
            ), view  # fmt: skip
        assert rows(remote, "select count(*) from boxes where job = ?", DOGS) == [(6,)]
    finally:
        remote.close()


def test_opening_the_views_imports_no_pandas(lake: Path) -> None:
    """pandas weighs 50 MB in every `gtlake sql`: pyarrow imports it behind `pa.array`,
    `Schema.empty_table`, a timestamp's `to_pylist` and `pyarrow.dataset` (deltalake's
    `to_pyarrow_table`), none of which reading the lake may use."""
    code = (
        "import sys, gtlake; con = gtlake.connect(sys.argv[1]); "
        "con.execute('select count(*) from cuboids').fetchall(); print('pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(lake)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False"]
