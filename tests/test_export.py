"""Export tests: every `objects` row rebuilt from the lake parses equal to its input line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gtlake.errors import LakeError
from gtlake.export import export, export_lines
from gtlake.ingest import ingest
from gtlake.storage import Location
from tests.conftest import REAL, write_job

SEEDS = Path(__file__).parent / "data" / "seeds"
TEXTRACT = "textract-transformer-pipeline/augmentation-{}/manifests/output/output.manifest"
EXAMPLES = "sagemaker-examples/"
README_EXCERPTS = "comprehend-customer-scripts-readme/"
OUTPUT = "manifests/output/output.manifest"
REAL_MANIFESTS = {
    "birds": EXAMPLES + "annotation_consolidation_ic_data/output.manifest",
    "yolov5": EXAMPLES + "pytorch_yolov5_training_and_hpo/sample_output.manifest",
    "augmentation-1": TEXTRACT.format(1),
    "augmentation-2": TEXTRACT.format(2),
    "l4v": "l4v-augmentation/output.manifest",
    "ner": "comprehend-ner-examples/output.manifest",
    "legal": "legal-entity-extraction/output.manifest.head2",
    "multilabel": README_EXCERPTS + "multilabel.output.manifest.excerpt",
    "multiclass": README_EXCERPTS + "multiclass.output.manifest.excerpt",
    "ner-excerpt": README_EXCERPTS + "ner.output.manifest.excerpt",
}
SEED_NAMES = sorted(p.stem for p in (SEEDS / "valid").glob("*.jsonl"))
GOOD = (SEEDS / "valid" / "doc1-sport.jsonl").read_text().strip()


def parsed_lines(path: Path) -> list[dict]:
    """The manifest's objects as the standard library reads them (the independent oracle)."""
    text = path.read_bytes().decode("utf-8-sig")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export")
    for job, rel in REAL_MANIFESTS.items():
        (root / "src" / job / OUTPUT).parent.mkdir(parents=True)
        shutil.copyfile(REAL / rel, root / "src" / job / OUTPUT)
    for name in SEED_NAMES:
        shutil.copyfile(SEEDS / "valid" / f"{name}.jsonl", write_job(root / "src", name, b""))
    bad = b"\n".join(
        [GOOD.encode(), b"{broken", b"", GOOD.replace('"sport":0', '"sport":"x"').encode()]
    )
    write_job(root / "src", "with-quarantine", bad + b"\n" + GOOD.encode() + b"\n")
    write_job(root / "src", "empty", b"")
    write_job(root / "src", "sp ace=%", [GOOD])
    report = ingest(Location(str(root / "src")), Location(str(root / "lake")), workers=1)
    assert not report.failed
    return root / "lake"


@pytest.mark.parametrize("job", sorted(REAL_MANIFESTS))
def test_real_manifests_round_trip(lake: Path, job: str) -> None:
    assert export_lines(Location(str(lake)), job) == parsed_lines(REAL / REAL_MANIFESTS[job])


@pytest.mark.parametrize("name", SEED_NAMES)
def test_documented_examples_round_trip(lake: Path, name: str) -> None:
    assert export_lines(Location(str(lake)), name) == parsed_lines(
        SEEDS / "valid" / f"{name}.jsonl"
    )


def test_quarantined_lines_are_left_out_in_order(lake: Path) -> None:
    good = json.loads(GOOD)
    assert export_lines(Location(str(lake)), "with-quarantine") == [good, good]


def test_escaped_job_name(lake: Path) -> None:
    assert export_lines(Location(str(lake)), "sp ace=%") == [json.loads(GOOD)]


def test_empty_job_exports_no_lines(lake: Path) -> None:
    assert export_lines(Location(str(lake)), "empty") == []


def test_unknown_job_is_a_clear_error(lake: Path) -> None:
    with pytest.raises(LakeError, match="job 'nope' is not in the lake"):
        export_lines(Location(str(lake)), "nope")


def test_export_to_a_file_and_to_stdout(
    lake: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    out = tmp_path / "new" / "dir" / "yolov5.manifest"
    assert export(Location(str(lake)), "yolov5", str(out)) == 100
    expected = parsed_lines(REAL / REAL_MANIFESTS["yolov5"])
    assert parsed_lines(out) == expected
    assert b"164.60000000000002" in out.read_bytes()
    assert export(Location(str(lake)), "yolov5") == 100
    written = capsysbinary.readouterr().out
    assert [json.loads(line) for line in written.splitlines()] == expected
