"""The workspace as Dagster's own tools load it: `dagster definitions validate` and the web server.

`dagster-webserver -w workspace.yaml` runs on 127.0.0.1 with a temporary `DAGSTER_HOME` holding the
`jobs` partitions of a small tree; its GraphQL API must list the assets, the partitions and the
asset checks. The server is stopped at the end of the test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from gtlake.schemas import TABLES
from tests.conftest import ROOT, write_job
from tests.s3server import free_port

pytestmark = pytest.mark.slow  # Dagster processes or servers

BIN = Path(sys.executable).parent
JOBS = ["job-a", "job-b"]
CHECKS = {
    ("objects", "every_line_accounted_for"),
    ("labels", "confidences_within_0_1"),
    ("labels", "label_attribute_names"),
    ("boxes", "boxes_match_confidences"),
    ("quarantine", "quarantine_empty"),
}
QUERY = """
{
  assetNodes {
    assetKey { path }
    isPartitioned
    partitionKeys
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def workspace_env(tmp_path_factory) -> dict[str, str]:
    """Environment for Dagster's tools: a two-job tree, a lake, a DAGSTER_HOME with partitions."""
    root = tmp_path_factory.mktemp("workspace")
    for job in JOBS:
        write_job(root / "source", job, ['{"source-ref": "s3://bucket/a.jpg"}'])
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        instance.add_dynamic_partitions("jobs", JOBS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTLAKE_", "DAGSTER_"))}
    env.update(
        GTLAKE_SOURCE=str(root / "source"),
        GTLAKE_LAKE=str(root / "lake"),
        DAGSTER_HOME=str(home),
        PYTHONUNBUFFERED="1",
    )
    return env


def test_definitions_validate(workspace_env):
    done = subprocess.run(
        [BIN / "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=workspace_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful for code location gtlake" in done.stdout + done.stderr


def _get(url: str, data: bytes | None = None, timeout: float = 10) -> bytes:
    headers = {"Content-Type": "application/json"} if data else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return answer.read()


def _wait_for(predicate, deadline: float, what: str, log: Path):
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{what} not ready ({last}); server log:\n{log.read_text()[-3000:]}")


def test_webserver_lists_assets_partitions_and_checks(workspace_env, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "webserver.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [BIN / "dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env=workspace_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        _wait_for(lambda: json.loads(_get(f"{base}/server_info")), deadline, "server", log)

        def nodes():
            answer = json.loads(_get(f"{base}/graphql", json.dumps({"query": QUERY}).encode()))
            assert "errors" not in answer, answer
            return answer["data"]["assetNodes"]

        found = _wait_for(nodes, deadline, "code location", log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)

    by_key = {"/".join(n["assetKey"]["path"]): n for n in found}
    assert set(by_key) == {f"gtlake/{t}" for t in TABLES} | {"gtlake/duckdb_views"}
    for table in TABLES:
        node = by_key[f"gtlake/{table}"]
        assert node["isPartitioned"], table
        assert sorted(node["partitionKeys"]) == JOBS, table
    assert not by_key["gtlake/duckdb_views"]["isPartitioned"]
    checks = {
        (key.split("/")[-1], check["name"])
        for key, node in by_key.items()
        if node["assetChecksOrError"]["__typename"] == "AssetChecks"
        for check in node["assetChecksOrError"]["checks"]
    }
    assert checks == CHECKS
    assert server.returncode is not None
