"""At most one run per job partition: the sample `deploy/dagster.yaml` under a real daemon.

Two `ingest` runs of the same job partition are submitted while no daemon is running, so both
wait in the queue together; then `dagster-daemon run` starts with the instance configured by
`deploy/dagster.yaml` (a tag concurrency limit of 1 per value of `dagster/partition`). The queue
must launch them one after the other (the second starts after the first ended; without the limit
both leave the queue in the same pass), both succeed, and the lake holds exactly what a plain
`gtlake ingest` writes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.lakeread import read_partition
from dagster_project.partitions import JOBS
from gtlake.cli import main as gtlake_main
from gtlake.schemas import TABLES
from gtlake.storage import Location
from tests.conftest import REAL, ROOT, write_job

pytestmark = pytest.mark.slow  # Dagster processes or servers

# When the job was ingested, and the Delta versions holding its rows (a lake written by two runs
# is at other versions than one written once): everything else must be equal.
VOLATILE = ["ingested_at", "table_versions"]

BIN = Path(sys.executable).parent
JOB = "yolo-boxes"
MANIFEST = REAL / "sagemaker-examples/pytorch_yolov5_training_and_hpo/sample_output.manifest"
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def _dagster(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [BIN / "dagster", *args, "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_two_runs_of_one_partition_wait_for_each_other(tmp_path):
    source, lake, home = tmp_path / "source", tmp_path / "lake", tmp_path / "dagster_home"
    write_job(source, JOB, MANIFEST.read_bytes())
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTLAKE_", "DAGSTER_"))}
    env.update(
        GTLAKE_SOURCE=str(source),
        GTLAKE_LAKE=str(lake),
        DAGSTER_HOME=str(home),
        PYTHONUNBUFFERED="1",
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(JOBS, [JOB])
    # Only the two runs below: no sensor may request runs of its own meanwhile.
    for sensor in ("new_or_changed_jobs", "views_automation"):
        _dagster(env, "sensor", "stop", sensor)
    tags = json.dumps({"dagster/partition": JOB})
    for _ in range(2):
        _dagster(env, "job", "launch", "-j", "ingest", "--tags", tags)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        queued = instance.get_runs()
        assert [r.status for r in queued] == [dg.DagsterRunStatus.QUEUED] * 2
        assert {r.tags["dagster/partition"] for r in queued} == {JOB}

    log = tmp_path / "daemon.log"
    with open(log, "wb") as out:
        daemon = subprocess.Popen(
            [BIN / "dagster-daemon", "run", "-w", "workspace.yaml"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        with dg.DagsterInstance.from_config(str(home)) as instance:
            while time.monotonic() < deadline:
                runs = instance.get_runs()
                if all(r.status in FINISHED for r in runs):
                    break
                time.sleep(1)
            else:
                raise AssertionError(f"runs not finished; daemon log:\n{log.read_text()[-3000:]}")
            records = sorted(instance.get_run_records(), key=lambda r: r.start_time)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=10)

    assert [r.dagster_run.status for r in records] == [dg.DagsterRunStatus.SUCCESS] * 2
    first, second = records
    assert second.start_time >= first.end_time  # serialised: never both in progress

    plain = Location(str(tmp_path / "plain"))
    assert gtlake_main(["ingest", str(source), "--lake", plain.url, "--workers", "1"]) == 0
    ours = Location(str(lake))
    for table in TABLES:
        mine, theirs = read_partition(ours, table, JOB), read_partition(plain, table, JOB)
        if table == "jobs":
            mine, theirs = mine.drop_columns(VOLATILE), theirs.drop_columns(VOLATILE)
        assert mine.equals(theirs), table
    assert read_partition(ours, "objects", JOB).num_rows == 100
