"""The `gtlake` command, run in-process: exit codes and one-line errors without tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Ran, gtlake, write_job

SEEDS = Path(__file__).parent / "data" / "seeds"
GOOD = (SEEDS / "valid" / "doc1-sport.jsonl").read_text().strip()
BOXES = (SEEDS / "valid" / "doc1-adjusted-bounding-box.jsonl").read_text().strip()
# The log line of a finished job, as `gtlake ingest` writes it when standard error is no terminal.
JOB_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d job (\S+): \d+ lines, \d+ quarantined, .* \[\d+/\d+\]"
)


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
    logged = sorted(JOB_LINE.fullmatch(line).group(1) for line in done.stderr.splitlines())
    assert logged == ["adjust-bounding-boxes-on-dogs-and-toys", "identify-sport", "not-started"]
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
    assert_one_line_error(gtlake("export", str(tmp_path / "none"), "--job", "x"), "does not exist")
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


# -- every mistake a user can make: one line `gtlake: error: ...`, exit 1, no traceback ---------

NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",
}
SOME_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_MAX_ATTEMPTS": "1"}

# (what goes wrong, the arguments, the environment, words the error line must hold).
# {tree}: a Ground Truth output tree, {lake}: a lake ingested from it, {file}: a regular file,
# {closed}: an endpoint on a loopback port where nothing listens.
MISTAKES = [
    ("demo into a file", ["demo", "{file}"], None, ["exists and is not a directory"]),
    ("demo --jobs 0", ["demo", "{tmp}/d", "--jobs", "0"], None, ["--jobs", "0"]),
    ("demo --lines -5", ["demo", "{tmp}/d", "--jobs", "1", "--lines", "-5"], None, ["--lines"]),
    ("demo --jobs abc", ["demo", "{tmp}/d", "--jobs", "abc"], None, ["--jobs", "abc"]),
    ("export s3 without credentials",
     ["export", "s3://bucket/lake", "--job", "x", "--endpoint-url", "{closed}"], NO_CREDENTIALS,
     ["s3://bucket/lake", "credentials"]),
    ("export s3 unreachable",
     ["export", "s3://bucket/lake", "--job", "x", "--endpoint-url", "{closed}"],
     SOME_CREDENTIALS, ["s3://bucket/lake", "connect"]),
    ("sql s3 unreachable",
     ["sql", "s3://bucket/lake", "select 1", "--endpoint-url", "{closed}"], SOME_CREDENTIALS,
     ["s3://bucket/lake", "connect"]),
    ("sql s3 without credentials",
     ["sql", "s3://bucket/lake", "select 1", "--endpoint-url", "{closed}"], NO_CREDENTIALS,
     ["credentials"]),
    ("sql: unknown table", ["sql", "{lake}", "select * from boxs"], None,
     ["Catalog Error", "boxs", 'Did you mean "boxes"']),
    ("sql: unknown column", ["sql", "{lake}", "select clas_name from boxes"], None,
     ["clas_name", "Candidate bindings", "class_name"]),
    ("sql: syntax", ["sql", "{lake}", "selec 1"], None, ["Parser Error", "selec"]),
    ("sql: runtime", ["sql", "{lake}", "select 'a'::int"], None, ["Conversion Error"]),
    ("sql on a job tree", ["sql", "{tree}", "select count(*) from boxes"], None,
     ["is not a gtlake lake", "gtlake ingest"]),
    ("sql on an empty directory", ["sql", "{tmp}", "select 1"], None, ["is not a gtlake lake"]),
    ("sql on a missing lake", ["sql", "{tmp}/nowhere", "select 1"], None, ["does not exist"]),
    ("sql on a file", ["sql", "{file}", "select 1"], None, ["is not a directory"]),
    ("sql --format xml", ["sql", "{lake}", "select 1", "--format", "xml"], None, ["xml"]),
    ("export from a missing lake", ["export", "{tmp}/nowhere", "--job", "x"], None,
     ["nowhere", "does not exist"]),
    ("export from a job tree", ["export", "{tree}", "--job", "identify-sport"], None,
     ["is not a gtlake lake"]),
    ("export an unknown job", ["export", "{lake}", "--job", "nope"], None, ["'nope'"]),
    ("export without --job", ["export", "{lake}"], None, ["--job"]),
    ("ingest a missing source", ["ingest", "{tmp}/nowhere", "--lake", "{tmp}/l"], None,
     ["nowhere"]),
    ("ingest --workers abc", ["ingest", "{tree}", "--lake", "{tmp}/l", "--workers", "x"], None,
     ["--workers"]),
    ("ddl on a job tree", ["ddl", "{tree}", "--engine", "duckdb"], None,
     ["is not a gtlake lake", "gtlake ingest"]),
    ("ddl on a missing lake", ["ddl", "{tmp}/nowhere", "--engine", "spark"], None,
     ["does not exist"]),
    ("ddl --engine hive", ["ddl", "{lake}", "--engine", "hive"], None,
     ["unknown engine 'hive'", "athena, trino, spark, duckdb"]),
    ("ddl without --engine", ["ddl", "{lake}"], None, ["--engine"]),
    ("ddl athena on a local lake", ["ddl", "{lake}", "--engine", "athena"], None,
     ["S3 only", "--location s3://"]),
    ("ddl trino on a local lake", ["ddl", "{lake}", "--engine", "trino"], None,
     ["local path", "--location s3://"]),
    ("ddl --database with a quote", ["ddl", "{lake}", "--engine", "spark", "--database", "a'b"],
     None, ["--database", "not a plain name"]),
    ("jobs on a file", ["jobs", "{file}"], None, ["file.txt"]),
    ("unknown command", ["nonsense"], None, ["nonsense"]),
    ("unknown option", ["sql", "{lake}", "--colour"], None, ["--colour"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("mistakes")
    tree = root / "tree"
    write_job(tree, "identify-sport", [GOOD, GOOD])
    write_job(tree, "adjust-bounding-boxes-on-dogs-and-toys", [BOXES])
    lake = root / "lake"
    assert gtlake("-q", "ingest", str(tree), "--lake", str(lake), "--workers", "1").returncode == 0
    (root / "file.txt").write_text("x")
    return {"tree": str(tree), "lake": str(lake), "file": str(root / "file.txt")}


@pytest.mark.parametrize(
    ("args", "env", "words"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES]
)
def test_every_mistake_is_one_line_and_exit_1(
    places: dict[str, str],
    tmp_path: Path,
    args: list[str],
    env: dict[str, str | None] | None,
    words: list[str],
) -> None:
    from tests.s3server import free_port

    where = {**places, "tmp": str(tmp_path), "closed": f"http://127.0.0.1:{free_port()}"}
    done = gtlake(*(a.format(**where) for a in args), env=env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert_one_line_error(done, *words)
    assert done.stdout == ""


# -- piped, `gtlake ingest` logs a line per job as each finishes --------------------------------


@pytest.fixture
def held_proxy(s3_server):
    from tests.s3proxy import S3Proxy

    proxy = S3Proxy(s3_server.endpoint_url)
    yield proxy
    proxy.close()


def test_piped_ingest_logs_each_job_as_it_finishes(s3_server, held_proxy, tmp_path: Path) -> None:
    """While the second job's manifest is held back by the proxy, the log file already holds
    the first job's line, and only it; once released, the second job's line follows."""
    from tests.s3proxy import seed_tree

    tree = tmp_path / "tree"
    write_job(tree, "big-first", [GOOD] * 50)  # largest manifest: ingested first
    write_job(tree, "small-second", [GOOD])
    bucket = f"piped-{tmp_path.name[-20:].lower().replace('_', '-')}"
    s3_server.client().create_bucket(Bucket=bucket)
    seed_tree(bucket, "gt", tree)
    gate = held_proxy.hold("small-second/manifests")
    log = tmp_path / "ingest.log"
    command = [sys.executable, "-m", "gtlake.cli", "ingest", f"s3://{bucket}/gt",
               "--lake", str(tmp_path / "lake"), "--workers", "1",
               "--endpoint-url", held_proxy.url]  # fmt: skip
    with open(log, "w") as err:
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        deadline = time.monotonic() + 60
        while "big-first" not in log.read_text() and time.monotonic() < deadline:
            assert run.poll() is None, log.read_text()
            time.sleep(0.05)
        lines = log.read_text().splitlines()
        assert [JOB_LINE.fullmatch(line).group(1) for line in lines] == ["big-first"]
        assert run.poll() is None  # still held on the second job
        gate.release()
        out, _ = run.communicate(timeout=120)
    finally:
        gate.release()
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, log.read_text()
    lines = log.read_text().splitlines()
    assert [JOB_LINE.fullmatch(line).group(1) for line in lines] == ["big-first", "small-second"]
    assert "ingested 2 jobs" in out
