"""Sequence files in batches (gtlake.sequence_batch) against the reference (one file at a time):
the same rows in every frame table, every column, row order included, and the same quarantine, on
the real and documented samples, the synthetic video jobs, and batches mixed with odd files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orjson import loads as orjson_loads

from gtlake import frames
from gtlake import ingest as ingest_module
from gtlake.demo import write_samples
from gtlake.ingest import ingest
from gtlake.schemas import FRAME_TABLES
from gtlake.sequence_batch import parse_batch
from gtlake.snapshot import read_job
from gtlake.storage import Location
from gtlake.synthetic import write_synthetic
from tests.conftest import write_job

SEQ = "annotations/consolidated-annotation/output"
COMPARED = (*FRAME_TABLES, "quarantine")


def _lake(src: Path, lake: Path) -> dict[str, dict[str, list[dict]]]:
    """Ingest `src` into `lake`; every job's frame and quarantine rows, in stored order."""
    report = ingest(Location(str(src)), Location(str(lake)), workers=1, full=True)
    assert not report.failed, report.failed[0].error
    jobs = sorted(p.name for p in src.iterdir())
    return {
        job: {t: read_job(Location(str(lake)), t, job).to_pylist() for t in COMPARED}
        for job in jobs
    }


def _both(src: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """The rows through the fast path and through the reference only (GTLAKE_REFERENCE)."""
    monkeypatch.delenv(frames.REFERENCE_ONLY, raising=False)
    fast = _lake(src, tmp / "fast")
    monkeypatch.setenv(frames.REFERENCE_ONLY, "1")
    reference = _lake(src, tmp / "reference")
    monkeypatch.delenv(frames.REFERENCE_ONLY)
    return fast, reference


def _count_frames(rows: dict) -> int:
    return sum(len(tables["frames"]) for tables in rows.values())


def test_the_switch_is_the_ingest_switch() -> None:
    assert frames.REFERENCE_ONLY == ingest_module.REFERENCE_ONLY


def test_demo_samples_are_the_same_both_ways(tmp_path: Path, monkeypatch) -> None:
    """The bundled samples: the real video tracking files, the documented video and point-cloud
    tracking files (cuboids with per-frame confidences)."""
    write_samples(tmp_path / "src")
    fast, reference = _both(tmp_path / "src", tmp_path, monkeypatch)
    assert fast == reference
    assert _count_frames(fast) > 0
    assert any(tables["cuboids"] for tables in fast.values())
    assert any(r["confidence"] is not None for t in fast.values() for r in t["cuboids"])
    assert any(tables["frame_boxes"] for tables in fast.values())


def test_real_files_are_the_same_both_ways(tmp_path: Path, real: Path, monkeypatch) -> None:
    src = tmp_path / "src"
    names = ("SeqLabel.json", "SeqLabel.2021-02-26_659c90c.json")
    lines = []
    for i, name in enumerate(names * 2):  # each file twice: two batches' worth of positions
        lines.append(_line("track-real", i, {"0": "Pedestrian", "2": "Vehicle"}))
        target = src / "track-real" / SEQ / str(i) / "SeqLabel.json"
        target.parent.mkdir(parents=True)
        shutil.copy(real / "sagemaker-examples/video_quality_metrics" / name, target)
    write_job(src, "track-real", [json.dumps(x) for x in lines])
    fast, reference = _both(src, tmp_path, monkeypatch)
    assert fast == reference
    assert len(fast["track-real"]["frame_boxes"]) > 100


def test_synthetic_video_jobs_are_the_same_both_ways(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "src"
    write_synthetic(src, 2, 300, kinds=["video-object-tracking"], chained=False, intermediates=0)
    fast, reference = _both(src, tmp_path, monkeypatch)
    assert fast == reference
    assert _count_frames(fast) >= 600


def test_the_fast_path_reads_regular_files_and_the_switch_forces_the_reference(
    tmp_path: Path, monkeypatch
) -> None:
    """Regular files never reach the reference; with GTLAKE_REFERENCE every file does and the
    fast path is not called."""
    src = tmp_path / "src"
    write_synthetic(src, 1, 40, kinds=["video-object-tracking"], chained=False, intermediates=0)
    calls = {"reference": 0, "fast": 0}
    real_reference, real_fast = frames.parse_sequence, frames.parse_batch

    def reference(*args):
        calls["reference"] += 1
        return real_reference(*args)

    def fast(*args):
        calls["fast"] += 1
        return real_fast(*args)

    monkeypatch.setattr(frames, "parse_sequence", reference)
    monkeypatch.setattr(frames, "parse_batch", fast)
    fast_rows, reference_rows = _both(src, tmp_path, monkeypatch)
    assert fast_rows == reference_rows
    assert calls == {"reference": 40, "fast": 1}


# -- odd files mixed into regular batches ---------------------------------------------------------


def _line(job: str, i: int, class_map: object, objects: object = None, file: int | None = None
          ) -> dict:  # fmt: skip
    meta: dict = {
        "class-map": class_map,
        "job-name": f"labeling-job/{job}",
        "human-annotated": "yes",
        "creation-date": "2021-03-19T15:40:27.118000",
        "type": "groundtruth/video-object-tracking",
    }
    if objects is not None:
        meta["objects"] = objects
    at = i if file is None else file
    return {
        "source-ref": f"s3://bucket/videos/{i}/seq.json",
        "tracking-ref": f"s3://bucket/output/{job}/{SEQ}/{at}/SeqLabel.json",
        "tracking-ref-metadata": meta,
    }


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=6)
_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=False,
    allow_infinity=False), _text,
)  # fmt: skip
_json = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)
_coordinate = st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False))


@st.composite
def _annotation(draw: st.DrawFn, cuboid: bool) -> dict:
    ann: dict = {"class-id": draw(st.sampled_from(["0", "1", "2", 1, 2, " 3 "]))}
    keys = ("center-x", "center-y", "center-z", "length", "width", "height", "roll", "pitch",
            "yaw") if cuboid else ("left", "top", "width", "height")  # fmt: skip
    for key in keys:
        if draw(st.integers(0, 9)):
            ann[key] = draw(_coordinate)
    if draw(st.booleans()):
        ann["object-id"] = draw(_text)
    if draw(st.booleans()):
        ann["object-name"] = draw(_text)
    if draw(st.booleans()):
        ann["label-category-attributes"] = draw(st.dictionaries(_text, _json, max_size=3))
    return ann


@st.composite
def _regular(draw: st.DrawFn) -> dict:
    cuboid = draw(st.booleans())
    frames_ = []
    for n in range(draw(st.integers(1, 4))):
        frame: dict = {"annotations": draw(st.lists(_annotation(cuboid), max_size=4))}
        if cuboid:
            frame["frame-number"], frame["frame-name"] = n, f"{n}.pcd"
        else:
            frame["frame-no"], frame["frame"] = str(n), f"{n:06d}.jpg"
        if draw(st.booleans()):
            frame["frame-attributes"] = draw(st.dictionaries(_text, _json, max_size=2))
        frames_.append(frame)
    return {"tracking-annotations": frames_}


_ODD_VALUES = st.one_of(
    _json, st.just(1e300), st.just(10**30), st.just(-0.0), st.just("0"), st.just("x"),
    st.just([]), st.just({}),
)  # fmt: skip


@st.composite
def _odd(draw: st.DrawFn) -> bytes | dict:
    """A regular file with one thing changed: a wrong type, a missing field, an extra key, an
    empty frame list, both frame lists; or not JSON at all."""
    doc = draw(_regular())
    frames_ = doc["tracking-annotations"]
    kind = draw(st.sampled_from(
        ["not-json", "truncated", "frame-field", "box-field", "drop", "extra", "empty", "both",
         "list-type", "doc-type", "huge", "escaped"]
    ))  # fmt: skip
    frame = draw(st.sampled_from(frames_))
    if kind == "not-json":
        return b"{not json"
    if kind == "truncated":
        return json.dumps(doc).encode()[:-3]
    if kind == "frame-field":
        frame[
            draw(
                st.sampled_from(
                    [
                        "annotations",
                        "frame-no",
                        "frame-number",
                        "frame",
                        "frame-name",
                        "frame-attributes",
                    ]
                )
            )
        ] = draw(_ODD_VALUES)
    elif kind == "box-field" and frame["annotations"]:
        ann = draw(st.sampled_from(frame["annotations"]))
        key = draw(st.sampled_from(sorted({*ann, "class-id", "left", "center-x", "object-id"})))
        ann[key] = draw(_ODD_VALUES)
    elif kind == "drop":
        target = draw(st.sampled_from([frame, *frame["annotations"]]))
        if target:
            del target[draw(st.sampled_from(sorted(target)))]
    elif kind == "extra":
        target = draw(st.sampled_from([doc, frame, *frame["annotations"]]))
        target[draw(_text)] = draw(_json)
    elif kind == "empty":
        doc["tracking-annotations"] = []
    elif kind == "both":
        doc["detection-annotations"] = draw(_regular())["tracking-annotations"]
    elif kind == "list-type":
        doc["tracking-annotations"] = draw(_ODD_VALUES)
    elif kind == "doc-type":
        return json.dumps(frames_).encode()
    elif kind == "huge" and frame["annotations"]:
        frame["annotations"][0]["left"] = 10**400
        return _dump(doc, None, True)
    elif kind == "escaped":
        return _dump(doc, 1, True)
    return doc


def _dump(doc: dict, indent: int | None, ascii_only: bool) -> bytes:
    return json.dumps(doc, indent=indent, ensure_ascii=ascii_only).encode()


_CLASS_MAPS = ({"0": "car", "1": "bus", "3": 7}, {"0": "car", "1": "bus", "3": 7}, [],
               {"1": "truck", "2": "bike"})  # fmt: skip


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.lists(st.one_of(_regular(), _regular(), _odd()), min_size=1, max_size=12),
    pretty=st.booleans(),
    confidences=st.booleans(),
    data=st.data(),
)
def test_odd_files_in_regular_batches(
    tmp_path_factory, monkeypatch, files, pretty, confidences, data
) -> None:
    tmp = tmp_path_factory.mktemp("odd")
    src, job = tmp / "src", "odd-job"
    lines = []
    for i, doc in enumerate(files):
        objects = None
        if confidences and isinstance(doc, dict):
            objects = [{"frame-no": n, "confidence": data.draw(st.lists(
                st.one_of(st.floats(0, 1), st.just("x"), st.just(True)), max_size=4))}
                for n in range(3)]  # fmt: skip
        class_map = data.draw(st.sampled_from(_CLASS_MAPS))  # one per line, or all the same
        shared = i and data.draw(st.integers(0, 4)) == 0  # the previous line's file as well
        lines.append(_line(job, i, class_map, objects, i - 1 if shared else None))
        target = src / job / SEQ / str(i) / "SeqLabel.json"
        target.parent.mkdir(parents=True)
        raw = doc if isinstance(doc, bytes) else _dump(doc, 2 if pretty else None, pretty)
        target.write_bytes(raw)
    write_job(src, job, [json.dumps(x) for x in lines])
    fast, reference = _both(src, tmp, monkeypatch)
    assert fast == reference


def test_parse_batch_refuses_exactly_the_odd_files() -> None:
    regular = json.dumps(
        {"tracking-annotations": [{"frame-no": "0", "frame": "a.jpg", "annotations": [
            {"class-id": "1", "left": 1, "top": 2, "width": 3, "height": 4}]}]}
    ).encode()  # fmt: skip
    odd = [b"[]", b"{", b'{"tracking-annotations": []}', regular.replace(b'"1"', b'"one"'),
           regular.replace(b"1,", b"1e999,"), regular.replace(b'"0"', b"true")]  # fmt: skip
    contents = [regular, *odd, regular]
    parsed = parse_batch([f"f{i}" for i in range(len(contents))], contents)
    assert parsed.accepted == [0, len(contents) - 1]
    boxes = parsed.tables["frame_boxes"]
    assert boxes["file"].to_pylist() == ["f0", f"f{len(contents) - 1}"]
    assert boxes["class_id"].to_pylist() == [1, 1]
    assert parsed.starts["frame_boxes"] == [0, 1, 2]


def test_a_frame_mixing_boxes_and_cuboids_with_confidences(tmp_path: Path, monkeypatch) -> None:
    """The i-th confidence belongs to the frame's i-th annotation: a box after a cuboid has an
    index beyond the boxes' own confidences and gets none (it used to fail the job)."""
    src, job = tmp_path / "src", "mixed"
    box = {"class-id": "0", "left": 1, "top": 2, "width": 3, "height": 4}
    cuboid = {"class-id": "1", "center-x": 1.5}
    doc = {"tracking-annotations": [{"frame-no": "0", "annotations": [box, cuboid, box]}]}
    target = src / job / SEQ / "0" / "SeqLabel.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(_dump(doc, None, True))
    objects = [{"frame-no": 0, "confidence": [0.5, 0.25]}]
    write_job(src, job, [json.dumps(_line(job, 0, {"0": "car", "1": "bus"}, objects))])
    fast, reference = _both(src, tmp_path, monkeypatch)
    assert fast == reference
    boxes = fast[job]["frame_boxes"]
    assert [(b["box_index"], b["class_name"], b["confidence"]) for b in boxes] == [
        (0, "car", 0.5),
        (2, "car", None),
    ]
    assert [(c["cuboid_index"], c["confidence"]) for c in fast[job]["cuboids"]] == [(1, None)]


def _change(src: Path) -> None:
    """A changed manifest over mostly unchanged sequence files: the last line renames its classes
    and refers to the first line's file instead; one file is rewritten."""
    (manifest,) = src.rglob("output.manifest")
    lines = manifest.read_bytes().splitlines()
    last = orjson_loads(lines[-1])
    first = orjson_loads(lines[0])
    (attribute,) = [k for k in first if k.endswith("-ref") and k != "source-ref"]
    last[attribute] = first[attribute]
    names = last[f"{attribute}-metadata"]["class-map"]
    names.update({k: f"{v} (renamed)" for k, v in names.items()})
    lines[-1] = json.dumps(last).encode()
    lines[1] = lines[1].replace(b'"truck"', b'"van"')
    manifest.write_bytes(b"\n".join(lines) + b"\n")
    (seq,) = src.rglob(f"{SEQ}/2/SeqLabel.json")
    seq.write_bytes(seq.read_bytes().replace(b'"class-id":"1"', b'"class-id":"3"'))


def test_kept_rows_are_the_same_both_ways(tmp_path: Path, monkeypatch) -> None:
    """Unchanged files keep their rows from the lake (no re-read), stamped afresh with the line
    that refers to them now: the batched keeping gives the reference's rows."""
    write_synthetic(
        tmp_path / "src", 1, 30, kinds=["video-object-tracking"], chained=False, intermediates=0
    )
    rows = {}
    for mode in ("fast", "reference"):
        src, lake = tmp_path / f"src-{mode}", Location(str(tmp_path / f"lake-{mode}"))
        shutil.copytree(tmp_path / "src", src)
        if mode == "reference":
            monkeypatch.setenv(frames.REFERENCE_ONLY, "1")
        assert not ingest(Location(str(src)), lake, workers=1).failed
        _change(src)
        fetched: list[str] = []

        def fetch_all(fs, paths, fetched=fetched, real=frames.fetch_all):  # records what is read
            fetched.extend(paths)
            return real(fs, paths)

        monkeypatch.setattr(frames, "fetch_all", fetch_all)
        assert not ingest(Location(str(src)), lake, workers=1).failed
        monkeypatch.undo()
        assert [p.split(f"{SEQ}/")[1] for p in fetched] == ["2/SeqLabel.json"]
        (job,) = [p.name for p in src.iterdir()]
        rows[mode] = {t: read_job(lake, t, job).to_pylist() for t in COMPARED}
    assert rows["fast"] == rows["reference"]
    boxes = rows["fast"]["frame_boxes"]
    last = [b for b in boxes if b["line"] == 29]
    assert {b["file"] for b in last} == {f"{SEQ}/0/SeqLabel.json"}  # the first line's file
    assert all(b["class_name"].endswith(" (renamed)") for b in last)
