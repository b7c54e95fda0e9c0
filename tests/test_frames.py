"""Frames: the sequence files of video and point-cloud labels, read into frames, frame_boxes and
cuboids; the documented examples (tests/data/docs) row by row, the real SeqLabel files box by box,
the way back to the files, missing, bad and unchanged files."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import orjson
import pytest

from gtlake import frames, storage, views
from gtlake.demo import VIDEO_JOB, write_samples
from gtlake.flatten import hash_id
from gtlake.frames import resolve
from gtlake.ingest import ingest
from gtlake.schemas import FILE_SCHEMAS
from gtlake.sequences import parse_sequence, rebuild_sequence
from gtlake.snapshot import read_job
from gtlake.storage import Location
from tests.conftest import write_job
from tests.s3proxy import S3Proxy, put_object, seed_tree

DOCS = Path(__file__).parent / "data" / "docs"
SEQ = "annotations/consolidated-annotation/output"
REAL_SEQ = ("SeqLabel.json", "SeqLabel.2021-02-26_659c90c.json")


def _doc_line(name: str) -> dict:
    return orjson.loads((DOCS / f"{name}.jsonl").read_bytes())


def _ingest(src: Path, lake: Path, full: bool = False) -> None:
    report = ingest(Location(str(src)), Location(str(lake)), workers=1, full=full)
    assert not report.failed, report.failed[0].error


def _rows(lake: Path, table: str, job: str) -> list[tuple]:
    data = read_job(Location(str(lake)), table, job)
    return list(zip(*(data[c].to_pylist() for c in data.column_names), strict=True))


def _dicts(lake: Path, table: str, job: str) -> list[dict]:
    return read_job(Location(str(lake)), table, job).to_pylist()


# -- resolving a reference ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "own", "expected"),
    [
        (f"s3://b/output/job-a/{SEQ}/0/SeqLabel.json", False, f"{SEQ}/0/SeqLabel.json"),
        (f"s3://other-bucket/x/job-a/{SEQ}/7/SeqLabel.json", False, f"{SEQ}/7/SeqLabel.json"),
        (f"/local/copy/job-a/{SEQ}/0/SeqLabel.json", False, f"{SEQ}/0/SeqLabel.json"),
        # a renamed job directory: the job's own label is still found from its annotations/ part
        (f"s3://b/output/old-name/{SEQ}/3/SeqLabel.json", True, f"{SEQ}/3/SeqLabel.json"),
        # an inherited label refers to the earlier job's directory: not this job's file
        (f"s3://b/output/old-name/{SEQ}/3/SeqLabel.json", False, None),
    ],
)
def test_resolve(uri: str, own: bool, expected: str | None) -> None:
    assert resolve(uri, "job-a", own) == expected


# -- the documented examples, exact rows ----------------------------------------------------------


def _doc_job(root: Path, job: str, name: str, seq_file: str | None = None) -> dict:
    line = _doc_line(name)
    write_job(root, job, [json.dumps(line)])
    if seq_file is not None:
        target = root / job / SEQ / "0" / "SeqLabel.json"
        if "<datasetObjectId>" in str(line.values()):
            target = root / job / SEQ / "<datasetObjectId>" / "SeqLabel.json"
        target.parent.mkdir(parents=True)
        shutil.copy(DOCS / seq_file, target)
    return line


def test_video_object_detection_example(tmp_path: Path) -> None:
    src, lake = tmp_path / "src", tmp_path / "lake"
    line = _doc_job(src, "labeling-job-name", "video-object-detection",
                    "video-object-detection.SeqLabel.json")  # fmt: skip
    _ingest(src, lake)
    oid, attr = hash_id(line["source-ref"]), "CarObjectDetection-ref"
    file = f"{SEQ}/0/SeqLabel.json"
    attrs = '{"name":"value"}'
    assert _rows(lake, "frames", "labeling-job-name") == [
        (0, oid, attr, file, 0, 0, "frame_0000.jpeg", attrs, 2),
        (0, oid, attr, file, 1, 1, "frame_0001.jpeg", attrs, 2),
    ]
    p = (0, oid, attr, file)
    assert _rows(lake, "frame_boxes", "labeling-job-name") == [
        (*p, 0, 0, "frame_0000.jpeg", 0, None, None, 1, "bus", 339, 152, 53, 41, None,
         '{"occluded":"no","size":"medium"}', attrs),
        (*p, 0, 0, "frame_0000.jpeg", 1, None, None, 0, "car", 183, 148, 37, 24, None,
         '{"occluded":"no"}', attrs),
        (*p, 1, 1, "frame_0001.jpeg", 0, None, None, 0, "car", 341, 152, 53, 41, None, "{}", attrs),
        (*p, 1, 1, "frame_0001.jpeg", 1, None, None, 0, "car", 177, 141, 37, 24, None,
         '{"occluded":"no"}', attrs),
    ]  # fmt: skip
    labels = _dicts(lake, "labels", "labeling-job-name")
    assert [(r["label_type"], r["class_id"], r["class_name"]) for r in labels] == [
        ("video-object-detection", None, None)  # two classes: the label has none of its own
    ]
    assert _rows(lake, "quarantine", "labeling-job-name") == []


def test_video_object_tracking_example(tmp_path: Path) -> None:
    src, lake = tmp_path / "src", tmp_path / "lake"
    line = _doc_job(src, "labeling-job-name", "video-object-tracking",
                    "video-object-tracking.SeqLabel.json")  # fmt: skip
    _ingest(src, lake)
    oid, attr = hash_id(line["source-ref"]), "CarObjectTracking-ref"
    file = f"{SEQ}/0/SeqLabel.json"
    assert _rows(lake, "frames", "labeling-job-name") == [
        (0, oid, attr, file, 0, 0, "frame_0001.jpeg", "{}", 1),
        (0, oid, attr, file, 1, 1, "frame_0002.jpeg", '{"name":"value"}', 2),
    ]
    car, bus = "480dc450-c0ca-11ea-961f-a9b1c5c97972", "98f2b0b0-c0ca-11ea-961f-a9b1c5c97972"
    p = (0, oid, attr, file)
    assert _rows(lake, "frame_boxes", "labeling-job-name") == [
        (*p, 0, 0, "frame_0001.jpeg", 0, car, "car:1", 0, "car", 315, 178, 46, 36, None,
         '{"occluded":"no"}', "{}"),
        (*p, 1, 1, "frame_0002.jpeg", 0, bus, "bus:1", 1, "bus", 344, 163, 47, 30, None,
         '{"occluded":"no","size":"medium"}', '{"name":"value"}'),
        (*p, 1, 1, "frame_0002.jpeg", 1, car, "car:1", 0, "car", 192, 150, 33, 28, None,
         '{"occluded":"partially"}', '{"name":"value"}'),
    ]  # fmt: skip


def test_point_cloud_object_detection_example(tmp_path: Path) -> None:
    src, lake = tmp_path / "src", tmp_path / "lake"
    line = _doc_job(src, "identify-3d-objects", "point-cloud-object-detection")
    _ingest(src, lake)
    oid = hash_id(line["source-ref"])
    p = (0, oid, "3d-bounding-box", None, None, None, None)
    sedan = '{"Occlusion":"Partial","Type":"Sedan"}'
    assert _rows(lake, "cuboids", "identify-3d-objects") == [
        (*p, 0, None, "Car:1", 0, "Car", -2.616382013657516, 125.04149850484193,
         0.311272296465834, 2.993000265181146, 1.8355260519692056, 1.3233490884304047,
         0, 0, 1.6479308313703527, None, sedan, '{"name":"value"}'),
        (*p, 1, None, "Car:2", 0, "Car", -5.188984560617168, 99.7954483288783,
         0.2226435567445657, 4, 2, 2, 0, 0, 1.6243170732068055, None, sedan, '{"name":"value"}'),
    ]  # fmt: skip
    labels = _dicts(lake, "labels", "identify-3d-objects")
    assert [
        (r["label_type"], r["class_id"], r["class_name"], r["adjustment_status"], r["warning"])
        for r in labels
    ] == [("point-cloud-object-detection", 0, "Car", "adjusted", None)]
    assert _rows(lake, "frames", "identify-3d-objects") == []


def test_point_cloud_object_tracking_example(tmp_path: Path) -> None:
    """The documented URI names no job (`<labelingJobName>`): the job's own label is resolved
    from its `annotations/` part."""
    src, lake = tmp_path / "src", tmp_path / "lake"
    line = _doc_job(src, "identify-3d-objects", "point-cloud-object-tracking",
                    "point-cloud-object-tracking.SeqLabel.json")  # fmt: skip
    _ingest(src, lake)
    oid, attr = hash_id(line["source-ref"]), "lidar-label-attribute-ref"
    file = f"{SEQ}/<datasetObjectId>/SeqLabel.json"
    assert _rows(lake, "frames", "identify-3d-objects") == [
        (0, oid, attr, file, 0, 0, "0.txt.pcd", '{"name":"value"}', 3),
        (0, oid, attr, file, 1, 1, "1.txt.pcd", "{}", 3),
    ]
    car4, car1, car2 = ("ae5dc770-a782-11ea-b57d-67c51a0561a1",
                        "06efb020-a782-11ea-b57d-67c51a0561a1",
                        "26fad020-a782-11ea-b57d-67c51a0561a1")  # fmt: skip
    sedan = '{"Occlusion":"Partial","Type":"Sedan"}'
    f0 = (0, oid, attr, file, 0, 0, "0.txt.pcd")
    f1 = (0, oid, attr, file, 1, 1, "1.txt.pcd")
    a0, a1 = '{"name":"value"}', "{}"
    assert _rows(lake, "cuboids", "identify-3d-objects") == [
        (*f0, 0, car4, "Car:4", 0, "Car", -2.2906369208300674, 103.73924823843463,
         0.37634114027023313, 4, 2, 2, 0, 0, 1.5827222214406014, None, "{}", a0),
        (*f0, 1, car1, "Car:1", 0, "Car", -2.6451293634707413, 124.9534455706848,
         0.5020834081743839, 4, 2, 2.080488827301309, 0, 0, -1.5963335581398077, None, sedan, a0),
        (*f0, 2, car2, "Car:2", 0, "Car", -5.205611313118477, 99.91731932137061,
         0.22917217081212138, 3.8747142207671956, 1.9999999999999918, 2, 0, 0,
         1.5672228760316775, None, sedan, a0),
        (*f1, 0, car4, "Car:4", 0, "Car", -2.2906369208300674, 103.73924823843463,
         0.37634114027023313, 4, 2, 2, 0, 0, 1.5827222214406014, None, "{}", a1),
        (*f1, 1, car1, "Car:1", 0, "Car", -2.6451293634707413, 124.9534455706848,
         0.5020834081743839, 4, 2, 2.080488827301309, 0, 0, -1.5963335581398077, None, sedan, a1),
        (*f1, 2, car2, "Car:2", 0, "Car", -5.221311072916759, 100.4639841045424,
         0.22917217081212138, 3.8747142207671956, 1.9999999999999918, 2, 0, 0,
         1.5672228760316775, None, sedan, a1),
    ]  # fmt: skip
    labels = _dicts(lake, "labels", "identify-3d-objects")
    assert [(r["class_id"], r["class_name"], r["adjustment_status"]) for r in labels] == [
        (None, None, "adjusted")  # Car and Person in the class map
    ]


def test_point_cloud_semantic_segmentation_example(tmp_path: Path) -> None:
    """The `.zlib` mask is not read (a binary array of class indexes per point); its color map
    gives `segments` rows as an image segmentation's does."""
    src, lake = tmp_path / "src", tmp_path / "lake"
    line = _doc_job(src, "labeling-job-name", "point-cloud-semantic-segmentation")
    _ingest(src, lake)
    oid, attr = hash_id(line["source-ref"]), "lidar-ss-label-attribute-ref"
    mask = line[attr]
    assert _rows(lake, "segments", "labeling-job-name") == [
        (0, oid, attr, mask, 0, "Background", "#ffffff", 0.0),
        (0, oid, attr, mask, 1, "Car", "#2ca02c", 0.0),
        (0, oid, attr, mask, 2, "Pedestrian", "#1f77b4", 0.0),
        (0, oid, attr, mask, 3, "Tree", "#ff7f0e", 0.0),
    ]
    labels = _dicts(lake, "labels", "labeling-job-name")
    assert [(r["confidence"], r["adjustment_status"]) for r in labels] == [(0.0, "adjusted")]
    assert _rows(lake, "frames", "labeling-job-name") == []


# -- the real SeqLabel files ----------------------------------------------------------------------


def _real_video_job(root: Path, real: Path, job: str = "track-real") -> list[dict]:
    """One line per real SeqLabel file, each file at its output index."""
    lines = []
    for i, name in enumerate(REAL_SEQ):
        lines.append(
            {
                "source-ref": f"s3://bucket/videos/{i}/seq.json",
                "tracking-ref": f"s3://bucket/output/{job}/{SEQ}/{i}/SeqLabel.json",
                "tracking-ref-metadata": {
                    "class-map": {"0": "Pedestrian", "1": "Pedestrian", "2": "Vehicle"},
                    "job-name": f"labeling-job/{job}",
                    "human-annotated": "yes",
                    "creation-date": "2021-03-19T15:40:27.118000",
                    "type": "groundtruth/video-object-tracking",
                },
            }
        )
        target = root / job / SEQ / str(i) / "SeqLabel.json"
        target.parent.mkdir(parents=True)
        shutil.copy(real / "sagemaker-examples/video_quality_metrics" / name, target)
    write_job(root, job, [json.dumps(x) for x in lines])
    return lines


def test_every_box_of_the_real_files_is_in_the_lake(tmp_path: Path, real: Path) -> None:
    src, lake = tmp_path / "src", tmp_path / "lake"
    _real_video_job(src, real)
    _ingest(src, lake)
    boxes = _dicts(lake, "frame_boxes", "track-real")
    for i, name in enumerate(REAL_SEQ):
        doc = orjson.loads((real / "sagemaker-examples/video_quality_metrics" / name).read_bytes())
        frames = doc["tracking-annotations"]
        mine = [b for b in boxes if b["line"] == i]
        assert len(mine) == sum(len(f["annotations"]) for f in frames) > 0
        assert Counter(b["frame_no"] for b in mine) == Counter(
            {int(f["frame-no"]): len(f["annotations"]) for f in frames if f["annotations"]}
        )
        expected = [
            (int(f["frame-no"]), f["frame"], j, a["object-id"], a["object-name"],
             int(a["class-id"]), a["left"], a["top"], a["width"], a["height"],
             a["label-category-attributes"], f.get("frame-attributes"))
            for f in frames for j, a in enumerate(f["annotations"])
        ]  # fmt: skip
        got = [
            (b["frame_no"], b["frame"], b["box_index"], b["track_id"], b["object_name"],
             b["class_id"], b["left"], b["top"], b["width"], b["height"],
             json.loads(b["category_attributes"]),
             None if b["frame_attributes"] is None else json.loads(b["frame_attributes"]))
            for b in mine
        ]  # fmt: skip
        assert got == expected
    frames = _dicts(lake, "frames", "track-real")
    assert Counter(f["line"] for f in frames) == {0: 300, 1: 32}


@pytest.mark.parametrize("name", REAL_SEQ)
def test_real_files_round_trip(tmp_path: Path, real: Path, name: str) -> None:
    """Each real file, rebuilt from its rows in the lake, parses equal to the original."""
    src, lake = tmp_path / "src", tmp_path / "lake"
    _real_video_job(src, real)
    _ingest(src, lake)
    line = REAL_SEQ.index(name)
    pick = {t: [r for r in _dicts(lake, t, "track-real") if r["line"] == line]
            for t in ("frames", "frame_boxes", "cuboids")}  # fmt: skip
    rebuilt = rebuild_sequence("video-object-tracking", pick["frames"], pick["frame_boxes"], [])
    original = orjson.loads((real / "sagemaker-examples/video_quality_metrics" / name).read_bytes())
    assert rebuilt == original


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("video-object-detection", "video-object-detection.SeqLabel.json"),
        ("video-object-tracking", "video-object-tracking.SeqLabel.json"),
        ("point-cloud-object-tracking", "point-cloud-object-tracking.SeqLabel.json"),
    ],
)
def test_documented_files_round_trip(kind: str, name: str) -> None:
    data = (DOCS / name).read_bytes()
    rows = parse_sequence((0, "x", "a"), "f", data)
    dicts = {
        t: [dict(zip(FILE_SCHEMAS[t].names, r, strict=True)) for r in rs]
        for t, rs in rows._asdict().items()
    }
    rebuilt = rebuild_sequence(kind, dicts["frames"], dicts["frame_boxes"], dicts["cuboids"])
    assert rebuilt == orjson.loads(data)


# -- missing, bad and unchanged files -------------------------------------------------------------


def test_a_missing_file_is_quarantined_and_its_line_still_loads(tmp_path: Path, real: Path) -> None:
    src, lake = tmp_path / "src", tmp_path / "lake"
    _real_video_job(src, real)
    os.remove(src / "track-real" / SEQ / "1" / "SeqLabel.json")
    _ingest(src, lake)
    assert [r["line"] for r in _dicts(lake, "objects", "track-real")] == [0, 1]
    assert [r["line"] for r in _dicts(lake, "labels", "track-real")] == [0, 1]
    quarantine = _rows(lake, "quarantine", "track-real")
    assert quarantine == [
        (f"{SEQ}/1/SeqLabel.json", None, None,
         "referred to by line 2 (tracking-ref): no such file under the job directory", None)
    ]  # fmt: skip
    assert {r["line"] for r in _dicts(lake, "frames", "track-real")} == {0}


def test_a_file_that_is_not_a_sequence_is_quarantined(tmp_path: Path, real: Path) -> None:
    src, lake = tmp_path / "src", tmp_path / "lake"
    _real_video_job(src, real)
    (src / "track-real" / SEQ / "0" / "SeqLabel.json").write_bytes(b'{"tracking-annotations": [')
    _ingest(src, lake)
    [(file, line, offset, error, raw)] = _rows(lake, "quarantine", "track-real")
    assert (file, line, offset, raw) == (f"{SEQ}/0/SeqLabel.json", None, None,
                                         '{"tracking-annotations": [')  # fmt: skip
    assert error.startswith("referred to by line 1 (tracking-ref): not a sequence file: not JSON")
    assert {r["line"] for r in _dicts(lake, "frames", "track-real")} == {1}


def test_unchanged_files_keep_their_rows_and_changed_ones_are_read_again(
    tmp_path: Path, real: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-ingest after one file changed: only that file is read, and the lake equals a fresh
    ingest of the new tree."""
    src, lake, fresh = tmp_path / "src", tmp_path / "lake", tmp_path / "fresh"
    _real_video_job(src, real)
    _ingest(src, lake)
    changed = src / "track-real" / SEQ / "1" / "SeqLabel.json"
    doc = orjson.loads(changed.read_bytes())
    doc["tracking-annotations"][0]["annotations"][0]["left"] = 1.5
    del doc["tracking-annotations"][-1]
    changed.write_bytes(orjson.dumps(doc))
    read: list[str] = []

    def fetch_all(fs, paths):  # the storage layer's fetch, recording what is read
        read.extend(paths)
        return storage.fetch_all(fs, paths)

    monkeypatch.setattr(frames, "fetch_all", fetch_all)
    _ingest(src, lake)
    assert [p.split("/track-real/")[1] for p in read] == [f"{SEQ}/1/SeqLabel.json"]
    monkeypatch.undo()
    _ingest(src, fresh)
    for table in ("frames", "frame_boxes", "quarantine"):
        assert _rows(lake, table, "track-real") == _rows(fresh, table, "track-real")
    boxes = _dicts(lake, "frame_boxes", "track-real")
    assert [b["left"] for b in boxes if b["line"] == 1][0] == 1.5
    assert Counter(f["line"] for f in _dicts(lake, "frames", "track-real")) == {0: 300, 1: 31}


# -- on S3 (the moto server, requests counted by a loopback proxy) --------------------------------


def test_on_s3_changed_files_are_read_again_unchanged_ones_never(
    s3_server, s3_bucket: str, tmp_path: Path, real: Path
) -> None:
    local, lake, fresh = tmp_path / "src", tmp_path / "lake", tmp_path / "fresh"
    _real_video_job(local, real)
    seed_tree(s3_bucket, "gt", local)
    proxy = S3Proxy(s3_server.endpoint_url)
    try:
        source = Location(f"s3://{s3_bucket}/gt", proxy.url)
        report = ingest(source, Location(str(lake)), workers=1)
        assert not report.failed, report.failed[0].error
        first, second = (f"{SEQ}/{i}/SeqLabel.json" for i in (0, 1))
        assert len(proxy.object_gets(first)) == len(proxy.object_gets(second)) == 1
        assert proxy.count("HEAD") == 0

        # the second file changes (new ETag): the job is ingested again
        doc = orjson.loads((local / "track-real" / second).read_bytes())
        doc["tracking-annotations"][0]["annotations"][0]["top"] = 601.25
        put_object(s3_bucket, f"gt/track-real/{second}", orjson.dumps(doc))
        proxy.reset()
        report = ingest(source, Location(str(lake)), workers=1)
        assert [j.skipped for j in report.jobs] == [False]
        assert proxy.object_gets(first) == []  # unchanged: not fetched again
        assert len(proxy.object_gets(second)) == 1  # changed: read again
        report = ingest(source, Location(str(fresh)), workers=1)
        for table in ("frames", "frame_boxes", "quarantine"):
            assert _rows(lake, table, "track-real") == _rows(fresh, table, "track-real")
        tops = [b["top"] for b in _dicts(lake, "frame_boxes", "track-real") if b["line"] == 1]
        assert tops[0] == 601.25

        # the first file disappears: quarantined, its line still loads
        s3_server.client().delete_object(Bucket=s3_bucket, Key=f"gt/track-real/{first}")
        proxy.reset()
        report = ingest(source, Location(str(lake)), workers=1)
        assert not report.failed, report.failed[0].error
        assert proxy.object_gets("SeqLabel") == []  # the other one is unchanged
        assert [r["line"] for r in _dicts(lake, "objects", "track-real")] == [0, 1]
        assert [(q[0], q[3]) for q in _rows(lake, "quarantine", "track-real")] == [
            (first, "referred to by line 1 (tracking-ref): no such file under the job directory")
        ]
        assert {r["line"] for r in _dicts(lake, "frames", "track-real")} == {1}
    finally:
        proxy.close()


# -- the views over frames: tracks, frame_box_adjustments, confidence_ranked ----------------------


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("frames-demo")
    write_samples(root / "src")
    _ingest(root / "src", root / "lake")
    return root / "src", root / "lake"


def _query(lake: Path, sql: str) -> list[tuple]:
    con = views.connect(Location(str(lake)))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_tracks_of_the_real_sequences(demo_lake: tuple[Path, Path]) -> None:
    src, lake = demo_lake
    expected = []
    for line in (0, 1):
        doc = orjson.loads((src / VIDEO_JOB / SEQ / str(line) / "SeqLabel.json").read_bytes())
        seen: dict[str, list[int]] = {}
        for frame in doc["tracking-annotations"]:
            for box in frame["annotations"]:
                seen.setdefault(box["object-id"], []).append(int(frame["frame-no"]))
        expected += [(line, t, min(f), max(f), len(set(f))) for t, f in seen.items()]
    got = _query(lake, "select line, track_id, first_frame, last_frame, frames from tracks "
                       f"where job = '{VIDEO_JOB}'")  # fmt: skip
    assert sorted(got) == sorted(expected)
    assert len(expected) > 6


def test_tracks_count_class_changes(tmp_path: Path) -> None:
    frames = [
        {"frame-no": str(i), "frame": f"{i}.jpg", "annotations": [
            {"left": 1, "top": 1, "width": 2, "height": 2, "class-id": cid,
             "object-id": "t1", "object-name": "x:1"}]}
        for i, cid in enumerate(["0", "1", "1", "0"])
    ] + [{"frame-no": "4", "frame": "4.jpg", "annotations": []}]  # fmt: skip
    job = "track-job"
    line = {
        "source-ref": "s3://b/v.json",
        "t-ref": f"s3://b/out/{job}/{SEQ}/0/SeqLabel.json",
        "t-ref-metadata": {"class-map": {"0": "cat", "1": "dog"}, "job-name": job,
                           "type": "groundtruth/video-object-tracking"},
    }  # fmt: skip
    write_job(tmp_path / "src", job, [json.dumps(line)])
    seq = tmp_path / "src" / job / SEQ / "0" / "SeqLabel.json"
    seq.parent.mkdir(parents=True)
    seq.write_bytes(orjson.dumps({"tracking-annotations": frames}))
    _ingest(tmp_path / "src", tmp_path / "lake")
    assert _query(
        tmp_path / "lake",
        "select track_id, first_frame, last_frame, frames, class_changes, classes from tracks",
    ) == [("t1", 0, 3, 4, 2, ["cat", "dog"])]
    assert _query(tmp_path / "lake", "select count(*), sum(annotations) from frames") == [(5, 4)]


def test_frame_box_adjustments_pair_by_frame_and_track(demo_lake: tuple[Path, Path]) -> None:
    src, lake = demo_lake
    original = orjson.loads((src / VIDEO_JOB / SEQ / "0" / "SeqLabel.json").read_bytes())
    boxes = sum(len(f["annotations"]) for f in original["tracking-annotations"])
    got = dict(_query(lake, "select change, count(*) from frame_box_adjustments group by all"))
    assert got == {"moved": 5, "relabelled": 1, "removed": 1, "unchanged": boxes - 7}
    moved = _query(
        lake,
        "select frame_no, dx, dy, dw, dh, original_job, original_attribute, adjusted_attribute "
        "from frame_box_adjustments where change = 'moved' order by frame_no",
    )
    assert moved == [(n, 6, 4, 0, 0, VIDEO_JOB, "tracking-ref", "adjusted-tracking-ref")
                     for n in range(10, 15)]  # fmt: skip
    assert _query(
        lake,
        "select frame_no, original_class, adjusted_class, class_changed from frame_box_adjustments"
        " where change in ('relabelled', 'removed') order by change",
    ) == [(30, "Pedestrian", "Vehicle", True), (31, "Pedestrian", None, False)]


def test_confidence_ranked_covers_cuboids(demo_lake: tuple[Path, Path]) -> None:
    _, lake = demo_lake
    rows = _query(
        lake,
        "select origin_job, item, frame_no, item_index, confidence, rank_in_group "
        "from confidence_ranked where item = 'cuboid' order by origin_job, frame_no, confidence",
    )
    assert rows == [
        ("identify-3d-objects", "cuboid", None, 2, 0.61, 1),
        ("identify-3d-objects", "cuboid", None, 1, 0.85, 2),
        ("identify-3d-objects", "cuboid", None, 0, 0.92, 3),
        ("track-3d-objects", "cuboid", 0, 2, 0.66, 1),
        ("track-3d-objects", "cuboid", 0, 1, 0.87, 4),
        ("track-3d-objects", "cuboid", 0, 0, 0.91, 6),
        ("track-3d-objects", "cuboid", 1, 2, 0.7, 2),
        ("track-3d-objects", "cuboid", 1, 1, 0.85, 3),
        ("track-3d-objects", "cuboid", 1, 0, 0.9, 5),
    ]


def test_many_sequence_files_make_few_row_groups(tmp_path: Path, monkeypatch) -> None:
    """Rows of many sequence files are gathered into one table per table and batch: not one
    Parquet row group per file (a video job has one file per line); the rows are the same
    whatever the batch."""
    import pyarrow.parquet as pq

    from gtlake.synthetic import write_synthetic

    src = tmp_path / "src"
    write_synthetic(src, 1, 120, kinds=["video-object-tracking"], chained=False, intermediates=0)
    job = next(src.iterdir()).name
    _ingest(src, tmp_path / "one-batch")
    monkeypatch.setattr(frames._Pending, "ROWS", 100)  # a table once 100 rows are gathered
    _ingest(src, tmp_path / "batches")
    (path,) = (tmp_path / "batches" / "frames").rglob("*.parquet")
    stored = pq.ParquetFile(path)
    assert stored.metadata.num_rows >= 240  # 120 files, 2 or more frames each
    assert stored.num_row_groups <= stored.metadata.num_rows // 100 + 1 < 120
    for table in ("frames", "frame_boxes"):
        assert _rows(tmp_path / "batches", table, job) == _rows(tmp_path / "one-batch", table, job)
