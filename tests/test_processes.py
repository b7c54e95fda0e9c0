"""No process of a run outlives it (defect 6 of issue 10): `gtlake ingest` in a real subprocess,
its workers caught in the middle of a job, then the main process killed or stopped.

The window is opened without sleeping: the S3 proxy holds every GET of an output manifest, so
the workers are busy, and the test kills the main process once one of them is waiting there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import error_lines, write_job
from tests.lakeread import lake_table
from tests.s3proxy import S3Proxy, seed_tree

pytestmark = pytest.mark.slow

BOUND_S = 30  # every wait below is bounded by this


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first), None once gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def descendants(root: int) -> dict[int, int]:
    """Every process under `root`, pid -> start time (which tells a reused pid apart)."""
    children: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        fields = _stat(int(entry)) if entry.isdigit() else None
        if fields is not None:
            children[int(fields[1])].append((int(entry), int(fields[19])))
    found, stack = {}, [root]
    while stack:
        for pid, start in children[stack.pop()]:
            found[pid] = start
            stack.append(pid)
    return found


def alive(pid: int, start: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == start


def survivors(processes: dict[int, int]) -> list[int]:
    """The processes still alive once they have had BOUND_S seconds to exit."""
    deadline = time.monotonic() + BOUND_S
    while True:
        left = [pid for pid, start in processes.items() if alive(pid, start)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


@pytest.fixture
def source(s3_bucket, tmp_path) -> str:
    for j in range(4):
        write_job(tmp_path / "tree", f"job-{j}", ['{"source-ref": "s3://b/1.jpg"}'])
    seed_tree(s3_bucket, "gt", tmp_path / "tree")
    return f"s3://{s3_bucket}/gt"


@pytest.fixture
def proxy(s3_server):
    proxy = S3Proxy(s3_server.endpoint_url)
    yield proxy
    proxy.close()


def start_held_ingest(source: str, proxy: S3Proxy, lake: Path, workers: int):
    """`gtlake ingest` whose jobs wait at their manifest's GET; returns it once one job waits
    and its workers exist, with every process under it."""
    held = proxy.hold("/manifests/output/")
    run = subprocess.Popen(
        [sys.executable, "-m", "gtlake.cli", "ingest", source, "--lake", str(lake),
         "--workers", str(workers), "--endpoint-url", proxy.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert held.arrived.wait(BOUND_S), "no job reached its manifest"
    deadline = time.monotonic() + BOUND_S
    processes = descendants(run.pid)
    while workers > 1 and len(processes) < workers and time.monotonic() < deadline:
        time.sleep(0.05)
        processes = descendants(run.pid)
    if workers > 1:
        assert len(processes) >= workers, processes
    return run, processes


@pytest.mark.parametrize("workers", [2, 3])
def test_sigkill_of_the_main_process_takes_its_workers_along(source, proxy, tmp_path, workers):
    run, processes = start_held_ingest(source, proxy, tmp_path / "lake", workers)
    run.kill()
    run.communicate(timeout=BOUND_S)
    assert survivors(processes) == []


@pytest.mark.parametrize(
    ("workers", "signum", "status", "message"),
    [
        (2, signal.SIGTERM, 143, "gtlake: terminated by SIGTERM"),
        (1, signal.SIGTERM, 143, "gtlake: terminated by SIGTERM"),
        (2, signal.SIGINT, 130, "gtlake: interrupted"),
    ],
)
def test_sigterm_and_sigint_stop_cleanly(source, proxy, tmp_path, workers, signum, status, message):
    run, processes = start_held_ingest(source, proxy, tmp_path / "lake", workers)
    run.send_signal(signum)
    out, err = run.communicate(timeout=BOUND_S)
    assert run.returncode == status, err
    assert error_lines(err) == [message]
    assert survivors(processes) == []
    # nothing was committed after the stop: the lake's tables exist, but no job is in them
    assert lake_table(tmp_path / "lake", "jobs").num_rows == 0


def test_a_worker_killed_mid_job_fails_its_jobs_with_a_complete_report(source, proxy, tmp_path):
    """A worker that dies (the OOM killer, a crash in native code) fails the jobs still in the
    pool, each with a one-line reason; the run reports every job and exits 1, no traceback."""
    run, processes = start_held_ingest(source, proxy, tmp_path / "lake", workers=2)
    workers = [
        pid
        for pid in processes
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        and b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert len(workers) == 2, processes
    os.kill(workers[0], signal.SIGKILL)
    for held in proxy.holds:
        held.release()
    out, err = run.communicate(timeout=BOUND_S * 4)
    assert run.returncode == 1, err
    errors = error_lines(err)
    assert errors and all(
        line.startswith("gtlake: error: job job-") and ": worker process failed: " in line
        for line in errors
    ), errors
    assert "Traceback" not in err
    assert "failed in" in out and f"{len(errors)} failed" in out
    assert survivors(processes) == []


def test_sigkill_of_the_dagster_run_takes_its_workers_along(source, proxy, tmp_path):
    """`python -m dagster_project.run` (`make run`) runs its partitions in a pool of worker
    processes: killed while they ingest, it leaves none of them running."""
    held = proxy.hold("/manifests/output/")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    run = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.run", "--source", source,
         "--lake", str(tmp_path / "lake"), "--workers", "2", "--endpoint-url", proxy.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert held.arrived.wait(BOUND_S * 4), "no partition reached its manifest"
    deadline = time.monotonic() + BOUND_S
    processes = descendants(run.pid)
    while len(processes) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        processes = descendants(run.pid)
    assert len(processes) >= 2, processes
    run.kill()
    run.communicate(timeout=BOUND_S)
    assert survivors(processes) == []


def _pool_backend() -> str:
    import pyarrow as pa

    return pa.default_memory_pool().backend_name


@pytest.mark.parametrize("chosen", [None, "mimalloc"])
def test_workers_and_the_cli_allocate_with_malloc_unless_told(chosen, monkeypatch, tmp_path):
    """gtlake's own processes use Arrow's system pool (mimalloc keeps freed pages per thread),
    unless ARROW_DEFAULT_MEMORY_POOL chooses."""
    import pyarrow as pa

    from gtlake.cli import main
    from gtlake.processes import worker_pool

    if chosen is None:
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    else:
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", chosen)
    expected = chosen or "system"
    with worker_pool(1) as pool:
        assert pool.submit(_pool_backend).result(timeout=60) == expected
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.mimalloc_memory_pool())
    try:
        assert main(["--quiet", "demo", str(tmp_path / "samples")]) in (0, None)
        after = pa.default_memory_pool().backend_name
    finally:
        pa.set_memory_pool(before)
    assert after == expected
