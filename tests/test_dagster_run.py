"""`python -m dagster_project.run` (what `make run` calls), as a user runs it: a fresh process
without `DAGSTER_HOME`, two worker processes, a summary on standard output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, write_job

pytestmark = pytest.mark.slow  # Dagster processes or servers


def _line(job: str, confidence: float, i: int) -> str:
    meta = {
        "type": "groundtruth/image-classification",
        "job-name": f"labeling-job/{job}",
        "class-name": "cat",
        "confidence": confidence,
        "human-annotated": "yes",
        "creation-date": "2024-05-01T10:00:00",
    }
    return json.dumps({"source-ref": f"s3://b/{job}/{i}.jpg", "pet": 0, "pet-metadata": meta})


def test_run_ingests_checks_and_summarizes(tmp_path):
    source, lake = tmp_path / "source", tmp_path / "lake"
    write_job(source, "good", [_line("good", 0.9, i) for i in range(3)])
    write_job(source, "with-bad-line", [_line("with-bad-line", 0.8, 0), "{not json"])
    write_job(source, "overconfident", [_line("overconfident", 1.5, 0)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTLAKE_", "DAGSTER_"))}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster_project.run",
            "--source",
            str(source),
            "--lake",
            str(lake),
            "--workers",
            "2",
        ],  # fmt: skip
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr  # an error-severity check failed
    assert "3 jobs under" in out and "ephemeral instances" in out
    assert "checks: 18 evaluated, 16 passed, 1 warnings, 1 failed" in out
    assert "FAILED: gtlake/labels: confidences_within_0_1" in out  # a blocking check
    assert "warn: quarantine_empty on with-bad-line" in out
    assert "error: confidences_within_0_1 on overconfident" in out
    assert "rows per table: objects 5, labels 5," in out
    assert "quarantined lines: 1" in out
    assert f"views file: {lake / 'gtlake.duckdb'}" in out
    # The example query: mean confidence of the five labels, (3 * 0.9 + 0.8 + 1.5) / 5.
    assert out.rstrip().endswith("image-classification  3     5       1.0")
    assert not (tmp_path / ".dagster_home").exists()
