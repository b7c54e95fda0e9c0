"""Incremental ingest from S3: unchanged jobs cost no reads, changed jobs alone are redone.

The source is a moto server behind a counting proxy, so "downloads no manifest" is checked on the
requests the server actually received.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import orjson
import pytest

from gtlake import cli
from gtlake.ingest import ingest
from gtlake.storage import Location
from tests.lakeread import lake_table
from tests.s3proxy import S3Proxy, put_object

OUTPUT = "manifests/output/output.manifest"
INTERMEDIATE = "manifests/intermediate/1/output.manifest"
META = {"type": "groundtruth/image-classification", "class-name": "cat", "confidence": 0.9}


def _manifest(n: int, labeled: int | None = None) -> bytes:
    labeled = n if labeled is None else labeled
    lines = []
    for i in range(n):
        line = {"source-ref": f"s3://b/{i}.jpg"}
        if i < labeled:
            line |= {"kind": 0, "kind-metadata": META}
        lines.append(orjson.dumps(line))
    return b"\n".join(lines) + b"\n"


def _response() -> bytes:
    answer = {"answerContent": {"c": {"label": "cat"}}, "workerId": "vendor.eu-west-1.V1",
              "submissionTime": "2024-05-01T10:00:00Z"}  # fmt: skip
    return orjson.dumps({"answers": [answer]})


@pytest.fixture
def source(s3_bucket) -> str:
    """Four jobs: cats and dogs complete, running in progress, gone (to be deleted)."""
    for job in ("cats", "dogs", "gone"):
        put_object(s3_bucket, f"gt/{job}/manifests/output/output.manifest", _manifest(3))
        put_object(s3_bucket, f"gt/{job}/annotations/worker-response/iteration-1/0/t.json",
                   _response())  # fmt: skip
    put_object(s3_bucket, "gt/running/manifests/intermediate/1/output.manifest", _manifest(4, 2))
    return f"s3://{s3_bucket}/gt"


@pytest.fixture
def proxy(s3_server):
    proxy = S3Proxy(s3_server.endpoint_url)
    yield proxy
    proxy.close()


def _jobs(lake: Location) -> dict[str, dict]:
    table = lake_table(lake, "jobs")
    return {row["job"]: row for row in table.to_pylist()}


def _run(source: str, lake: Location, proxy: S3Proxy, **kwargs):
    report = ingest(Location(source, proxy.url), lake, workers=1, **kwargs)
    assert not report.failed, [j.error for j in report.failed]
    return {j.job: j for j in report.jobs}


@pytest.mark.parametrize("lake_kind", ["local", "s3"])
def test_no_change_reads_no_source_object(source, proxy, tmp_path, lake_kind):
    bucket = source.split("/")[2]
    lake = (
        Location(str(tmp_path / "lake"))
        if lake_kind == "local"
        else Location(f"s3://{bucket}/lake", proxy.url)
    )
    first = _run(source, lake, proxy)
    assert not any(j.skipped for j in first.values())
    assert any(p.endswith("output.manifest") for p in proxy.object_gets("/gt/"))
    # sizes come from the listing: reading the source costs GETs only, never a HEAD
    heads = [r.path for r in proxy.requests if r.method == "HEAD" and "/gt/" in r.path]
    assert heads == []
    proxy.reset()
    second = _run(source, lake, proxy)
    assert all(j.skipped for j in second.values())
    assert proxy.object_gets("/gt/") == []  # no manifest, no response file, nothing
    assert proxy.count("HEAD") == 0 and proxy.count("PUT") == 0
    if lake_kind == "s3":  # the state: the `jobs` table's Delta log only, not one data file
        assert proxy.object_gets("/lake/jobs/_delta_log/")
        assert proxy.object_gets("/lake/") == proxy.object_gets("/lake/jobs/_delta_log/")


def test_changed_manifest_reingests_that_job_only(source, proxy, tmp_path):
    lake = Location(str(tmp_path / "lake"))
    _run(source, lake, proxy)
    bucket = source.split("/")[2]
    put_object(bucket, "gt/cats/manifests/output/output.manifest", _manifest(5))
    proxy.reset()
    report = _run(source, lake, proxy)
    assert [name for name, j in report.items() if not j.skipped] == ["cats"]
    gets = proxy.object_gets("/gt/")
    assert gets and all("/gt/cats/" in p for p in gets)
    assert _jobs(lake)["cats"]["lines"] == 5
    assert _jobs(lake)["dogs"]["lines"] == 3


def test_in_progress_job_becomes_complete(source, proxy, tmp_path):
    lake = Location(str(tmp_path / "lake"))
    _run(source, lake, proxy)
    running = _jobs(lake)["running"]
    assert (running["status"], running["lines"], running["labeled_lines"]) == ("in-progress", 4, 2)
    assert running["manifest"] == "manifests/intermediate/1/output.manifest"
    bucket = source.split("/")[2]
    put_object(bucket, "gt/running/manifests/output/output.manifest", _manifest(4))
    report = _run(source, lake, proxy)
    assert [name for name, j in report.items() if not j.skipped] == ["running"]
    running = _jobs(lake)["running"]
    assert (running["status"], running["lines"], running["labeled_lines"]) == ("complete", 4, 4)
    iterations = lake_table(lake, "iterations").to_pylist()
    assert [(r["job"], r["iteration"], r["lines"], r["labeled_lines"]) for r in iterations] == [
        ("running", 1, 4, 2)
    ]


def test_full_reingests_every_job(source, proxy, tmp_path):
    lake = Location(str(tmp_path / "lake"))
    _run(source, lake, proxy)
    report = _run(source, lake, proxy, full=True)
    assert not any(j.skipped for j in report.values())


def test_a_job_gone_from_the_source_keeps_its_partitions(s3_server, source, proxy, tmp_path):
    lake = Location(str(tmp_path / "lake"))
    _run(source, lake, proxy)
    bucket = source.split("/")[2]
    client = s3_server.client()
    keys = client.list_objects_v2(Bucket=bucket, Prefix="gt/gone/")["Contents"]
    client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k["Key"]} for k in keys]})
    report = _run(source, lake, proxy)
    assert "gone" not in report and all(j.skipped for j in report.values())
    assert "gone" in _jobs(lake)
    responses = lake_table(lake, "worker_responses")
    assert "gone" in responses["job"].to_pylist()


def _objects(lake) -> dict[str, int]:
    table = lake_table(lake, "objects")
    jobs = table["job"].to_pylist()
    return {job: jobs.count(job) for job in sorted(set(jobs))}


def test_a_job_whose_manifests_go_away_keeps_its_rows(tmp_path, capsys):
    """Defect 7: a complete job whose output manifest is deleted is not re-ingested from an older
    intermediate manifest, and a job directory left with no manifest at all keeps its rows; both
    are reported as notes, exit status 0. Once the output manifest is back, it is ingested."""
    src, lake = tmp_path / "src", tmp_path / "lake"
    for job in ("done", "emptied"):
        for path, data in ((OUTPUT, _manifest(3)), (INTERMEDIATE, _manifest(2, 1))):
            (src / job / path).parent.mkdir(parents=True, exist_ok=True)
            (src / job / path).write_bytes(data)
    (src / "never" / "annotations").mkdir(parents=True)  # a job that never had a manifest
    assert cli.main(["ingest", str(src), "--lake", str(lake), "--workers", "1"]) == 0
    assert _objects(lake) == {"done": 3, "emptied": 3}
    capsys.readouterr()

    (src / "done" / OUTPUT).unlink()
    shutil.rmtree(src / "emptied")
    (src / "emptied" / "annotations").mkdir(parents=True)
    (src / "emptied" / "annotations" / "x.json").write_text("{}")
    (src / "never" / "annotations" / "x.json").write_text("{}")
    assert cli.main(["ingest", str(src), "--lake", str(lake), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert (
        "note: job done: the output manifest is gone (manifests/output/output.manifest); the "
        "rows of its complete ingest are kept, not replaced from an older intermediate manifest"
    ) in out
    assert (
        "note: job emptied: no manifest any more (no output or intermediate manifest); its rows "
        "are kept"
    ) in out
    # Never had a manifest: it has no rows to keep, and is ingested as before.
    assert "note: job never: no manifest yet" in out and "ingested 1 jobs" in out
    assert _objects(lake) == {"done": 3, "emptied": 3}
    jobs = _jobs(Location(str(lake)))
    assert (jobs["done"]["status"], jobs["done"]["lines"]) == ("complete", 3)

    (src / "done" / OUTPUT).write_bytes(_manifest(5))
    report = ingest(Location(str(src)), Location(str(lake)), workers=1)
    assert {j.job: (j.skipped, j.message is None) for j in report.jobs} == {
        "done": (False, True),
        "emptied": (True, False),
        "never": (True, True),
    }
    assert _objects(lake) == {"done": 5, "emptied": 3}


def test_a_no_change_ingest_imports_no_pandas(tmp_path):
    """pyarrow imports pandas (0.18 s, 50 MB) on the first `pa.array` of a Python list: a
    re-ingest with nothing to do flattens nothing, so nothing may build one on import."""
    src, lake = tmp_path / "src", tmp_path / "lake"
    (src / "job" / OUTPUT).parent.mkdir(parents=True)
    (src / "job" / OUTPUT).write_bytes(_manifest(3))
    assert cli.main(["--quiet", "ingest", str(src), "--lake", str(lake), "--workers", "1"]) == 0
    code = (
        "import sys; from gtlake.cli import main; "
        "code = main(['--quiet', 'ingest', sys.argv[1], '--lake', sys.argv[2]]); "
        "print(code, 'pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(src), str(lake)], capture_output=True, text=True
    )
    assert done.stdout.splitlines()[-1].split() == ["0", "False"], done.stdout + done.stderr
