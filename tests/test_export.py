"""Export tests: every `objects` row rebuilt from the lake parses equal to its input line."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
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


def test_reading_a_job_uses_no_arrow_scanner(lake: Path) -> None:
    """`pq.read_table` on a Python file object goes through `pyarrow.dataset`, whose scanner
    can drop the file object on its own thread while the interpreter exits, which aborted
    `gtlake export` on a loaded machine (exit 134, "terminate called without an active
    exception"). Reading a job must not load that module (nor pandas behind it)."""
    code = (
        "import sys; from gtlake.export import export_texts; from gtlake.snapshot import read_job; "
        "from gtlake.storage import Location; lake = Location(sys.argv[1]); "
        "assert export_texts(lake, 'sp ace=%'); assert read_job(lake, 'boxes', 'sp ace=%') "
        "is not None; print(sorted(m for m in ('pyarrow._dataset', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(lake)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["[]"]


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


EXACT = (
    '{"source-ref": "s3://b/0.jpg", "keep": 1e999, "neg": -1E+999, "tiny": 1e-999, '
    '"big": 123456789012345678901234567890, "f": 0.10000000000000000001, '
    '"nested": {"n": [18446744073709551616, 2.50]}}'
)


def test_numbers_come_back_exactly_as_written(tmp_path: Path) -> None:
    """Defect 8: integers beyond 64 bits, `1e999` and digits a float64 cannot hold are exported
    as the very text of the input (no crash, no `null`, no rounding)."""
    label = json.loads(GOOD)
    label["sport-metadata"]["extra"] = 1e999  # json.dumps writes Infinity: put the text back
    labelled = json.dumps(label).replace("Infinity", "1e999")
    write_job(tmp_path / "src", "numbers", [EXACT, labelled])
    assert not ingest(Location(str(tmp_path / "src")), Location(str(tmp_path / "lake"))).failed
    out = tmp_path / "numbers.manifest"
    assert export(Location(str(tmp_path / "lake")), "numbers", str(out)) == 2
    first, second = out.read_bytes().splitlines()
    for literal in (b"1e999", b"-1E+999", b"1e-999", b"123456789012345678901234567890",
                    b"0.10000000000000000001", b"18446744073709551616", b"2.50"):  # fmt: skip
        assert literal in first, literal
    assert b'"extra": 1e999' in second
    assert b"null" not in first + second
    expected = [json.loads(EXACT), json.loads(labelled)]
    assert [json.loads(line) for line in (first, second)] == expected


def _export_limited(lake: Path, out: Path, max_bytes: int) -> subprocess.CompletedProcess:
    """`gtlake export` in a process that may write files of at most `max_bytes` (EFBIG past it)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run(
        [sys.executable, "-m", "gtlake.cli", "export", str(lake), "--job", "yolov5",
         "--out", str(out)],
        capture_output=True, text=True, timeout=60, preexec_fn=limit,
    )  # fmt: skip


def test_a_failed_export_leaves_no_partial_file(lake: Path, tmp_path: Path) -> None:
    """Defect 8: a write that fails half-way (file size limit: EFBIG) leaves the previous file
    untouched and no temporary file; the error is one line."""
    out = tmp_path / "yolov5.manifest"
    out.write_bytes(b"previous export\n")
    failed = _export_limited(lake, out, max_bytes=4096)
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == [f"gtlake: error: cannot write {out}: File too large"]
    assert out.read_bytes() == b"previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["yolov5.manifest"]
    done = _export_limited(lake, out, max_bytes=1 << 30)
    assert done.returncode == 0, done.stderr
    assert parsed_lines(out) == parsed_lines(REAL / REAL_MANIFESTS["yolov5"])
