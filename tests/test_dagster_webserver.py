"""The workspace as Dagster's own tools load it: `dg check defs`, `dagster definitions validate`,
`dg launch` and the web server.

The module's `DAGSTER_HOME` starts empty: no partition, no sensor tick. `dg launch --job
discover_jobs` (the documented one-shot discovery) adds the partitions of a small tree; then
`dagster-webserver -w workspace.yaml` runs on 127.0.0.1 and its GraphQL API must show the Ground
Truth output asset with every table depending on it, one asset per view with described columns,
blocking error checks, the partitions, and the sensors running by default with no tick yet. The
server is stopped at the end of the test. Without `GTLAKE_SOURCE` the definitions must refuse to
load, saying so.
"""

from __future__ import annotations

import contextlib
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

from dagster_project.sqlviews import VIEWS
from dagster_project.training_sets import load_config as load_training_sets
from dagster_project.training_sets import training_set_key
from gtlake.schemas import TABLES, column_description
from tests.conftest import ROOT, write_job
from tests.s3server import free_port

pytestmark = pytest.mark.slow  # Dagster processes or servers

BIN = Path(sys.executable).parent
JOBS = ["job-a", "job-b"]
CHECKS = {  # (table, check, blocking)
    ("objects", "every_line_accounted_for", True),
    ("labels", "confidences_within_0_1", True),
    ("labels", "label_attribute_names", True),
    ("boxes", "boxes_match_confidences", True),
    ("frames", "referenced_files_accounted_for", True),
    ("quarantine", "quarantine_empty", False),
}
SOURCE = "gtlake/groundtruth_output"
QUERY = """
{
  assetNodes {
    assetKey { path }
    description
    isPartitioned
    partitionKeys
    isMaterializable
    isExecutable
    dependencyKeys { path }
    metadataEntries {
      label
      ... on TableSchemaMetadataEntry { schema { columns { name description } } }
    }
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name blocking } }
    }
  }
  sensorsOrError(repositorySelector: {repositoryName: "__repository__",
                                      repositoryLocationName: "gtlake"}) {
    __typename
    ... on Sensors { results { name sensorState { status ticks { id } } } }
  }
  assetOrError(assetKey: {path: ["gtlake", "groundtruth_output"]}) {
    ... on Asset {
      assetObservations {
        partition
        metadataEntries {
          label
          ... on TextMetadataEntry { text }
          ... on IntMetadataEntry { intValue }
        }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def workspace_env(tmp_path_factory) -> dict[str, str]:
    """Environment for Dagster's tools: a two-job tree, a lake, an empty DAGSTER_HOME."""
    root = tmp_path_factory.mktemp("workspace")
    for job in JOBS:
        write_job(root / "source", job, ['{"source-ref": "s3://bucket/a.jpg"}'])
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTLAKE_", "DAGSTER_"))}
    env.update(
        GTLAKE_SOURCE=str(root / "source"),
        GTLAKE_LAKE=str(root / "lake"),
        DAGSTER_HOME=str(home),
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(env: dict[str, str], *command) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_definitions_validate(workspace_env):
    done = _run(workspace_env, BIN / "dagster", "definitions", "validate", "-w", "workspace.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful for code location gtlake" in done.stdout + done.stderr


def test_dg_check_defs(workspace_env):
    done = _run(workspace_env, BIN / "dg", "check", "defs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All definitions loaded successfully." in done.stdout + done.stderr


def test_definitions_refuse_to_load_without_a_source(workspace_env):
    env = {k: v for k, v in workspace_env.items() if k != "GTLAKE_SOURCE"}
    for command in (
        [BIN / "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        [BIN / "dg", "check", "defs"],
    ):
        done = _run(env, *command)
        assert done.returncode != 0, command
        assert "GTLAKE_SOURCE is not set" in done.stdout + done.stderr, command


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


@contextlib.contextmanager
def serving(command: list, env: dict[str, str], log: Path):
    """Run a server in its own session; stop it and everything it started at the end."""
    with open(log, "wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


LOCATIONS_QUERY = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message causes { message } } }
      }
    }
  }
}
"""


def test_webserver_shows_the_missing_source(workspace_env, tmp_path):
    """Without GTLAKE_SOURCE the UI shows the code location's load error, naming the variable."""
    env = {k: v for k, v in workspace_env.items() if k != "GTLAKE_SOURCE"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "webserver.log"
    command = [BIN / "dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1"]
    with serving([*command, "-p", str(port)], env, log):
        deadline = time.monotonic() + 120
        body = json.dumps({"query": LOCATIONS_QUERY}).encode()

        def loaded():
            answer = json.loads(_get(f"{base}/graphql", body))
            (entry,) = answer["data"]["workspaceOrError"]["locationEntries"]
            return entry if entry["loadStatus"] == "LOADED" else None

        entry = _wait_for(loaded, deadline, "code location", log)
    assert entry["name"] == "gtlake"
    error = entry["locationOrLoadError"]
    assert error["__typename"] == "PythonError"
    messages = [error["message"], *(cause["message"] for cause in error["causes"])]
    assert any("ConfigurationError: GTLAKE_SOURCE is not set" in m for m in messages), messages


def test_webserver_shows_lineage_views_blocking_checks_and_partitions(workspace_env, tmp_path):
    with dg.DagsterInstance.from_config(workspace_env["DAGSTER_HOME"]) as instance:
        assert instance.get_dynamic_partitions("jobs") == []
    done = _run(workspace_env, BIN / "dg", "launch", "--job", "discover_jobs")
    assert done.returncode == 0, done.stdout + done.stderr
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

        def data():
            answer = json.loads(_get(f"{base}/graphql", json.dumps({"query": QUERY}).encode()))
            assert "errors" not in answer, answer
            return answer["data"] if answer["data"]["assetNodes"] else None

        found = _wait_for(data, deadline, "code location", log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)

    by_key = {"/".join(n["assetKey"]["path"]): n for n in found["assetNodes"]}
    views = {f"gtlake/views/{view.name}": view for view in VIEWS}
    tables = {f"gtlake/{t}" for t in TABLES}
    training_sets = {training_set_key(t.name).to_user_string() for t in load_training_sets()}
    assert set(by_key) == tables | set(views) | training_sets | {SOURCE, "gtlake/duckdb_views"}

    # Lineage: Ground Truth output -> tables -> views -> views file.
    source = by_key[SOURCE]
    assert not source["isExecutable"] and not source["isMaterializable"]  # external
    assert sorted(source["partitionKeys"]) == JOBS  # before any sensor tick
    assert "Ground Truth output" in source["description"]
    observed = {
        o["partition"]: {e["label"]: e.get("text", e.get("intValue")) for e in o["metadataEntries"]}
        for o in found["assetOrError"]["assetObservations"]
    }
    assert sorted(observed) == JOBS
    for job, metadata in observed.items():
        assert metadata["status"] == "complete" and metadata["files"] == 1, job
        assert len(metadata["fingerprint"]) == 32, job
    for table in TABLES:
        node = by_key[f"gtlake/{table}"]
        assert node["isPartitioned"], table
        assert sorted(node["partitionKeys"]) == JOBS, table
        assert [k["path"] for k in node["dependencyKeys"]] == [SOURCE.split("/")], table
    views_file = by_key["gtlake/duckdb_views"]
    assert not views_file["isPartitioned"]
    assert {"/".join(k["path"]) for k in views_file["dependencyKeys"]} == set(views)

    # One asset per view: its grain, its reads, its columns described where they are a table's.
    for key, view in views.items():
        node = by_key[key]
        assert node["description"].startswith(f"{view.name}: "), key
        assert {"/".join(k["path"]) for k in node["dependencyKeys"]} == {
            f"gtlake/{t}" for t in view.tables
        } | {f"gtlake/views/{v}" for v in view.views}, key
        (schema,) = [e["schema"] for e in node["metadataEntries"] if "schema" in e]
        assert [c["name"] for c in schema["columns"]] == [name for name, _ in view.columns]
    labels = {
        c["name"]: c["description"]
        for e in by_key["gtlake/views/labels"]["metadataEntries"]
        if "schema" in e
        for c in e["schema"]["columns"]
    }
    assert labels["created_at"] == column_description("labels", "created_at")
    assert all(labels.values())
    assert "one row per" in by_key["gtlake/views/object_labels"]["description"]
    assert {k["path"][-1] for k in by_key["gtlake/views/object_labels"]["dependencyKeys"]} == {
        "labels",
        "objects",
    }

    checks = {
        (key.split("/")[-1], check["name"], check["blocking"])
        for key, node in by_key.items()
        if node["assetChecksOrError"]["__typename"] == "AssetChecks"
        for check in node["assetChecksOrError"]["checks"]
    }
    assert checks == CHECKS

    sensors = {s["name"]: s["sensorState"] for s in found["sensorsOrError"]["results"]}
    assert set(sensors) == {"new_or_changed_jobs", "views_automation"}
    for state in sensors.values():
        assert state["status"] == "RUNNING" and state["ticks"] == []  # on, never ticked
    assert server.returncode is not None


PARTITIONS_QUERY = """
{
  assetNodeOrError(assetKey: {path: ["gtlake", "groundtruth_output"]}) {
    ... on AssetNode { partitionKeys }
  }
}
"""


def test_dg_dev_finds_the_partitions_without_a_manual_start(workspace_env, tmp_path):
    """`dg dev` on a fresh DAGSTER_HOME: the sensor runs by default and adds the partitions."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**workspace_env, "DAGSTER_HOME": str(home), "GTLAKE_LAKE": str(tmp_path / "lake")}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "dg_dev.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [BIN / "dg", "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        _wait_for(lambda: json.loads(_get(f"{base}/server_info")), deadline, "dg dev", log)
        body = json.dumps({"query": PARTITIONS_QUERY}).encode()

        def partitions():
            node = json.loads(_get(f"{base}/graphql", body))["data"]["assetNodeOrError"]
            return sorted(node.get("partitionKeys") or []) == JOBS

        _wait_for(partitions, deadline, "partitions added by the sensor", log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert sorted(instance.get_dynamic_partitions("jobs")) == JOBS
