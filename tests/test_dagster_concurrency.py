"""Two job partitions materialized at the same time, each run on Dagster's multiprocess executor.

Two worker processes each launch one `ingest` run against one persistent (SQLite) Dagster instance;
every step of a run executes in its own subprocess (multiprocess executor, two at a time). Both
runs write the lake and both refresh the DuckDB views file. Afterwards the lake must hold exactly
what a plain `gtlake ingest` writes, and the views file must open and answer a query.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.checks import RULES
from dagster_project.lakeread import read_partition
from dagster_project.partitions import JOBS
from dagster_project.run import materialize_all
from gtlake.cli import main as gtlake_main
from gtlake.schemas import TABLES
from gtlake.storage import Location
from tests.conftest import REAL, write_job

pytestmark = pytest.mark.slow  # Dagster processes or servers

# When the job was ingested, and the Delta versions holding its rows (a lake written by two runs
# is at other versions than one written once): everything else must be equal.
VOLATILE = ["ingested_at", "table_versions"]

CHECK_NAMES = {rule.__name__ for _, rule, _ in RULES}
JOB_FILES = {
    "yolo-boxes": REAL
    / "sagemaker-examples/pytorch_yolov5_training_and_hpo/sample_output.manifest",
    "birds": REAL / "sagemaker-examples/annotation_consolidation_ic_data/output.manifest",
}


def test_two_partitions_at_once_do_not_corrupt_the_lake_or_the_views(tmp_path, monkeypatch):
    source, lake, home = tmp_path / "source", tmp_path / "lake", tmp_path / "dagster_home"
    for job, path in JOB_FILES.items():
        write_job(source, job, path.read_bytes())
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # The runs' processes load the definitions, configured from the environment.
    monkeypatch.setenv("GTLAKE_SOURCE", str(source))
    monkeypatch.setenv("GTLAKE_LAKE", str(lake))
    monkeypatch.delenv("GTLAKE_VIEWS", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(JOBS, sorted(JOB_FILES))
        runs = materialize_all(sorted(JOB_FILES), workers=2, instance=instance,
                               executor="multiprocess")  # fmt: skip
        assert [r.success for r in runs] == [True, True], [r.error for r in runs]
        failed = [(r.job, c.name, c.description) for r in runs for c in r.checks if not c.passed]
        assert failed == []
        assert all(len(r.checks) == len(CHECK_NAMES) for r in runs)

        # The two runs overlapped, and their steps ran in subprocesses of their own.
        records = instance.get_run_records()
        assert len(records) == 2
        assert max(r.start_time for r in records) < min(r.end_time for r in records)
        for run in runs:
            steps = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
            assert len(steps) == 4  # tables, checks, views, views file
            pids = {e.dagster_event.pid for e in steps}
            assert len(pids) == 4 and os.getpid() not in pids

    plain = Location(str(tmp_path / "plain"))
    assert gtlake_main(["ingest", str(source), "--lake", plain.url, "--workers", "1"]) == 0
    ours = Location(str(lake))
    for job in JOB_FILES:
        for table in TABLES:
            mine, theirs = read_partition(ours, table, job), read_partition(plain, table, job)
            if table == "jobs":
                mine, theirs = mine.drop_columns(VOLATILE), theirs.drop_columns(VOLATILE)
            assert mine.equals(theirs), (job, table)
    assert [p.name for p in lake.iterdir() if p.name.startswith("_staging")] == []

    from dagster_project import viewsfile

    views = lake / "gtlake.duckdb"
    assert [p.name for p in lake.iterdir() if p.name.endswith(".tmp")] == []
    _, rows = viewsfile.query(str(views), "select job, count(*) from objects group by 1 order by 1")
    assert rows == [("birds", 302), ("yolo-boxes", 100)]
    assert "confidence_ranked" in viewsfile.view_names(str(views))
    assert {r.rows["objects"] for r in runs} == {302, 100}
    assert Path(views).stat().st_size > 0
