"""The bundled sample tree and the synthetic generator: valid, chained, deterministic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from gtlake import demo, jobfiles, synthetic
from gtlake.ingest import ingest
from gtlake.storage import Location
from tests.conftest import gtlake
from tests.lakeread import lake_table as read_lake_table

ROOT = Path(__file__).resolve().parent.parent

# Every job of the sample tree and its own task type.
SAMPLE_JOBS = {
    "identify-sport": "image-classification",
    "identify-sport-venue": "image-classification",
    "identify-animal-species": "image-classification",
    "label-mood": "text-classification",
    "image-label-attribute-name": "image-classification-multilabel",
    "text-label-attribute-name": "text-classification-multilabel",
    "identify-dogs-and-toys": "object-detection",
    "adjust-bounding-boxes-on-dogs-and-toys": "object-detection",
    "verify-bounding-boxes": "label-verification",
    "label-city-streets": "semantic-segmentation",
    "verify-city-streets": "label-verification",
    "adjust-label-city-streets": "semantic-segmentation",
    "tag-entities-in-reviews": "text-span",
    "track-pedestrians-and-vehicles": "video-object-tracking",
    "adjust-pedestrian-and-vehicle-tracks": "video-object-tracking",
    "detect-cars-in-video": "video-object-detection",
    "identify-3d-objects": "point-cloud-object-detection",
    "track-3d-objects": "point-cloud-object-tracking",
    "track-cars-and-buses": "video-object-tracking",
    "segment-lidar-frames": "point-cloud-single-frame-semantic-segmentation",
    "annotate-insurance-letters": "custom",
    "rate-search-relevance": "custom",
    "classify-street-signs": "image-classification",
    "birds-open-images-clone": "image-classification",
    "ground-truth-od-demo-1662974840": "object-detection",
    "augmentation-1": "object-detection",
    "augmentation-2": "object-detection",
    "s10-label3": "semantic-segmentation",
    "test-gtner-blog-004": "text-span",
    "entityrecognizerpoc-1": "text-span",
    "cutomdocclassification": "text-classification-multilabel",
    "cutomdocclassification-multi-class": "text-classification",
    "legal-entity-label-job-labeling-job-20220104t172242": "custom",
}

# Chained jobs: (downstream job, upstream job, label keys the downstream lines carry unchanged).
CHAINS = [
    ("identify-sport-venue", "identify-sport", ("sport", "sport-metadata")),
    ("adjust-bounding-boxes-on-dogs-and-toys", "identify-dogs-and-toys",
     ("bounding-box", "bounding-box-metadata")),
    ("verify-bounding-boxes", "identify-dogs-and-toys", ("bounding-box", "bounding-box-metadata")),
    ("verify-city-streets", "label-city-streets", ("city-streets-ref", "city-streets-metadata")),
    ("adjust-label-city-streets", "label-city-streets",
     ("city-streets-ref", "city-streets-metadata")),
]  # fmt: skip

TRUNCATED = "classify-street-signs/manifests/intermediate/2/output.manifest"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("samples")
    assert demo.write_samples(root) == len(SAMPLE_JOBS)
    return root


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def manifest_lines(path: Path) -> list[bytes]:
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    return [line.rstrip(b"\r") for line in data.split(b"\n") if line.strip()]


def output_lines(root: Path, job: str) -> list[dict]:
    path = root / job / "manifests/output/output.manifest"
    return [orjson.loads(line) for line in manifest_lines(path)]


def lake_table(lake: Path, table: str) -> list[dict]:
    return read_lake_table(lake, table).to_pylist()


# -- the sample tree ----------------------------------------------------------------------------


def test_sample_tree_has_every_job_and_stays_small(samples: Path) -> None:
    assert sorted(p.name for p in samples.iterdir()) == sorted(SAMPLE_JOBS)
    size = sum(p.stat().st_size for p in samples.rglob("*") if p.is_file())
    assert size < 800_000


def test_every_manifest_line_is_valid_except_the_truncated_one(samples: Path) -> None:
    bad = []
    for path in sorted(samples.glob("*/manifests/**/output.manifest")):
        for number, line in enumerate(manifest_lines(path)):
            try:
                assert isinstance(orjson.loads(line), dict)
            except orjson.JSONDecodeError:
                bad.append((str(path.relative_to(samples)), number))
    assert bad == [(TRUNCATED, 5)]
    assert not (samples / TRUNCATED).read_bytes().endswith(b"\n")


def test_documented_examples_are_written_as_documented(samples: Path) -> None:
    dogs = output_lines(samples, "identify-dogs-and-toys")[0]
    assert dogs["bounding-box"]["annotations"][0] == {
        "class_id": 0, "left": 111, "top": 134, "width": 61, "height": 128
    }  # fmt: skip
    assert dogs["bounding-box-metadata"]["class-map"] == {"0": "dog", "5": "bone"}
    species = output_lines(samples, "identify-animal-species")[0]
    assert species["species"] == "0"
    assert species["species-metadata"]["confidence"] == 0.93
    verify = output_lines(samples, "verify-bounding-boxes")[0]["verify-bounding-box-metadata"]
    assert [c["comment"] for c in verify["worker-feedback"]] == [
        "The bounding box on the bird is too wide on the right side.",
        "The bird on the upper right is not labeled.",
    ]
    adjusted = output_lines(samples, "adjust-label-city-streets")[0]
    assert adjusted["adjusted-city-streets-metadata"]["job-name"] == "adjust-label-city-streets"
    assert output_lines(samples, "label-mood")[0]["source"] == "a bad day"


@pytest.mark.parametrize(("downstream", "upstream", "keys"), CHAINS)
def test_chained_jobs_carry_the_upstream_labels_unchanged(
    samples: Path, downstream: str, upstream: str, keys: tuple[str, ...]
) -> None:
    before = {line["source-ref"]: line for line in output_lines(samples, upstream)}
    after = output_lines(samples, downstream)
    assert len(after) == len(before)
    for line in after:
        assert {k: line[k] for k in keys} == {k: before[line["source-ref"]][k] for k in keys}


def test_real_files_are_copied_byte_for_byte(samples: Path) -> None:
    real = demo.SAMPLES / "real"
    out = samples / "augmentation-1/manifests/output/output.manifest"
    assert out.read_bytes() == (real / "augmentation-1.manifest").read_bytes()
    responses = orjson.loads((real / "birds-open-images-clone.worker-responses.json").read_bytes())
    for rel, text in responses.items():
        assert (samples / "birds-open-images-clone/annotations" / rel).read_text() == text


def test_consolidation_request_holds_content_as_a_json_string(samples: Path) -> None:
    requests = samples / "identify-dogs-and-toys" / jobfiles.REQUESTS / "iteration-1"
    (path,) = requests.iterdir()
    request = orjson.loads(path.read_bytes())
    content = request[0]["annotations"][0]["annotationData"]["content"]
    assert isinstance(content, str)
    assert orjson.loads(content)["annotatedResult"]["inputImageProperties"]["width"] == 500


def test_worker_responses_come_in_both_shapes(samples: Path) -> None:
    def first_answer(job: str) -> dict:
        path = next((samples / job / "annotations/worker-response").rglob("*.json"))
        return orjson.loads(path.read_bytes())["answers"][0]

    old = first_answer("birds-open-images-clone")
    new = first_answer("identify-animal-species")
    assert set(old) == {"answerContent", "submissionTime", "workerId"}
    assert {"acceptanceTime", "timeSpentInSeconds", "workerMetadata"} <= set(new)


def test_samples_are_deterministic(samples: Path, tmp_path: Path) -> None:
    demo.write_samples(tmp_path)
    assert tree_digest(tmp_path) == tree_digest(samples)


def test_sample_tree_ingests_with_only_the_truncated_line_quarantined(
    samples: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    report = ingest(Location(str(samples)), Location(str(lake)), workers=1)
    assert report.failed == []
    assert {j.job: j.type for j in report.jobs} == SAMPLE_JOBS
    assert {j.job: j.quarantined for j in report.jobs if j.quarantined} == {
        "classify-street-signs": 1
    }
    status = {j.job: j.status for j in report.jobs}
    assert status.pop("classify-street-signs") == "in-progress"
    assert set(status.values()) == {"complete"}

    (bad,) = lake_table(lake, "quarantine")
    assert (bad["file"], bad["line"]) == ("manifests/intermediate/2/output.manifest", 5)
    jobs = {row["job"]: row["label_attribute"] for row in lake_table(lake, "jobs")}
    assert jobs["adjust-bounding-boxes-on-dogs-and-toys"] == "adjusted-bounding-box"
    assert jobs["verify-city-streets"] == "verify-city-streets"
    assert jobs["augmentation-1"] == "augmentation-1"  # job-name anonymised: latest label wins
    inherited = {
        (row["job"], row["attribute"]) for row in lake_table(lake, "labels") if row["is_inherited"]
    }
    assert ("verify-bounding-boxes", "bounding-box") in inherited
    assert ("identify-sport-venue", "sport") in inherited


# -- the synthetic generator --------------------------------------------------------------------

SYNTHETIC = {"jobs": 9, "lines": 50}


def test_synthetic_is_deterministic_per_seed(tmp_path: Path) -> None:
    one, two, other = tmp_path / "one", tmp_path / "two", tmp_path / "other"
    assert synthetic.write_synthetic(one, seed=7, **SYNTHETIC) == 12
    synthetic.write_synthetic(two, seed=7, **SYNTHETIC)
    synthetic.write_synthetic(other, seed=8, **SYNTHETIC)
    assert tree_digest(one) == tree_digest(two)
    digest, changed = tree_digest(one), tree_digest(other)
    outputs = sorted(k for k in digest if k.endswith("manifests/output/output.manifest"))
    assert outputs == sorted(k for k in changed if k.endswith("manifests/output/output.manifest"))
    assert len(outputs) == 12
    assert all(digest[k] != changed[k] for k in outputs)


def test_synthetic_tree_chains_and_covers_every_task_type(tmp_path: Path) -> None:
    count = synthetic.write_synthetic(tmp_path, seed=3, **SYNTHETIC)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert count == len(names) == 12
    assert {"synth-004-adjust-boxes", "synth-004-verify-boxes", "synth-000-indoor-outdoor"} <= set(
        names
    )
    for job in names:
        job_dir = tmp_path / job
        out = output_lines(tmp_path, job)
        assert len(out) == SYNTHETIC["lines"]
        firsts = [orjson.loads(raw) for raw in manifest_lines(_intermediate(job_dir, 1))]
        seconds = [orjson.loads(raw) for raw in manifest_lines(_intermediate(job_dir, 2))]
        assert len(firsts) == len(seconds) == len(out)
        # cumulative: a line labeled in iteration 1 stays labeled in iteration 2 and the output
        for a, b, c in zip(firsts, seconds, out, strict=True):
            assert len(a) <= len(b) <= len(c)
            if len(a) == len(c):
                assert a == b == c
        assert 0 < len(list((job_dir / "annotations/worker-response").rglob("*.json"))) <= 4

    upstream = {
        line["source-ref"]: line for line in output_lines(tmp_path, "synth-004-object-detection")
    }
    for job, own in (("synth-004-adjust-boxes", "adjusted-bounding-box"),
                     ("synth-004-verify-boxes", "verify-bounding-box")):  # fmt: skip
        for line in output_lines(tmp_path, job):
            before = upstream[line["source-ref"]]
            assert {k: line[k] for k in before} == before
            assert own in line and f"{own}-metadata" in line

    report = ingest(Location(str(tmp_path)), Location(str(tmp_path / ".lake")), workers=1)
    assert report.failed == []
    assert {j.type for j in report.jobs} == {*synthetic.SYNTHETIC_KINDS, "label-verification"}
    assert sum(j.quarantined for j in report.jobs) == 0
    assert all(j.labeled_lines == SYNTHETIC["lines"] for j in report.jobs)


def _intermediate(job_dir: Path, n: int) -> Path:
    return job_dir / f"manifests/intermediate/{n}/output.manifest"


def test_synthetic_kinds_and_chaining_can_be_chosen(tmp_path: Path) -> None:
    count = synthetic.write_synthetic(
        tmp_path, jobs=2, lines=5, kinds=["object-detection"], chained=False, intermediates=0
    )
    assert count == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "synth-000-object-detection",
        "synth-001-object-detection",
    ]
    assert not list(tmp_path.glob("*/manifests/intermediate"))
    with pytest.raises(ValueError, match="unknown synthetic task types: nope"):
        synthetic.write_synthetic(tmp_path, jobs=1, lines=1, kinds=["nope"])


# -- the command --------------------------------------------------------------------------------


def test_demo_command_writes_the_samples(tmp_path: Path) -> None:
    out = tmp_path / "gt-output"
    done = gtlake("demo", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {len(SAMPLE_JOBS)} job directories to {out}"
    assert sorted(p.name for p in out.iterdir()) == sorted(SAMPLE_JOBS)


def test_demo_command_writes_a_synthetic_tree(tmp_path: Path) -> None:
    done = gtlake("demo", str(tmp_path), "--jobs", "5", "--lines", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote 8 job directories to {tmp_path}"
