"""The `gtlake` command, run in-process: exit codes and one-line errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Ran, gtlake, write_job

SEEDS = Path(__file__).parent / "data" / "seeds"
GOOD = (SEEDS / "valid" / "doc1-sport.jsonl").read_text().strip()
BOXES = (SEEDS / "valid" / "doc1-adjusted-bounding-box.jsonl").read_text().strip()


def assert_one_line_error(done: Ran, *words: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("gtlake: error: "), lines[0]
    for word in words:
        assert word in lines[0]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    write_job(src, "identify-sport", [GOOD, "{not json", GOOD])
    write_job(src, "adjust-bounding-boxes-on-dogs-and-toys", [BOXES])
    (src / "not-started" / "annotations").mkdir(parents=True)
    return src


def test_ingest_export_round_trip(source: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    done = gtlake("ingest", str(source), "--lake", str(lake), "--workers", "1")
    assert done.returncode == 0, done.stderr  # a quarantined line does not fail the run
    assert done.stderr == ""
    assert "ingested 3 jobs, skipped 0 unchanged, 0 failed" in done.stdout
    assert "note: job not-started: no manifest yet" in done.stdout
    again = gtlake("ingest", str(source), "--lake", str(lake))
    assert again.returncode == 0 and "ingested 0 jobs, skipped 3 unchanged" in again.stdout

    out = tmp_path / "sport.manifest"
    done = gtlake("export", str(lake), "--job", "identify-sport", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote 2 lines to {out}"
    assert [json.loads(line) for line in out.read_text().splitlines()] == [json.loads(GOOD)] * 2

    done = gtlake("export", str(lake), "--job", "adjust-bounding-boxes-on-dogs-and-toys")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [json.loads(BOXES)]


def test_missing_source(tmp_path: Path) -> None:
    done = gtlake("ingest", str(tmp_path / "nowhere"), "--lake", str(tmp_path / "lake"))
    assert_one_line_error(done, "source", "nowhere")
    assert not (tmp_path / "lake").exists()


def test_source_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    done = gtlake("ingest", str(tmp_path / "file.txt"), "--lake", str(tmp_path / "lake"))
    assert_one_line_error(done, "source", "file.txt")


def test_unknown_job_name(source: Path, tmp_path: Path) -> None:
    done = gtlake("ingest", str(source), "--lake", str(tmp_path / "lake"), "--job", "nope")
    assert_one_line_error(done, "nope")


@pytest.mark.parametrize("lake", ["file.txt/lake", "file.txt"])
def test_unwritable_lake(source: Path, tmp_path: Path, lake: str) -> None:
    """A path under a regular file cannot be written, even by root."""
    (tmp_path / "file.txt").write_text("x")
    done = gtlake("ingest", str(source), "--lake", str(tmp_path / lake))
    assert_one_line_error(done, "lake", lake)
    assert (tmp_path / "file.txt").read_text() == "x"


def test_export_errors(source: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    assert gtlake("ingest", str(source), "--lake", str(lake), "--workers", "1").returncode == 0
    assert_one_line_error(gtlake("export", str(lake), "--job", "nope"), "'nope'")
    assert_one_line_error(gtlake("export", str(tmp_path / "none"), "--job", "x"), "'x'")
    (tmp_path / "file.txt").write_text("x")
    done = gtlake(
        "export", str(lake), "--job", "identify-sport", "--out", str(tmp_path / "file.txt/out")
    )
    assert_one_line_error(done, "cannot write")


def test_jobs_lists_the_job_directories(source: Path) -> None:
    done = gtlake("jobs", str(source))
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert rows[0] == ["job", "status", "files", "manifest"]
    assert rows[1:] == [
        [
            "adjust-bounding-boxes-on-dogs-and-toys",
            "complete",
            "1",
            "manifests/output/output.manifest",
        ],
        ["identify-sport", "complete", "1", "manifests/output/output.manifest"],
        ["not-started", "in-progress", "0", "(none)"],
        ["3", "jobs"],
    ]
    assert_one_line_error(gtlake("jobs", str(source / "missing")), "missing")
