"""gtlake against a real S3 API (moto's server on loopback): listing, ingest, S3 lakes, faults.

The sample tree (`gtlake demo`) plus a synthetic job of more than 1,000 objects (two listing
pages) is seeded into a bucket; ingesting it from S3 must give exactly the rows that ingesting the
local copy gives.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pyarrow.dataset as ds
import pytest

import gtlake
from gtlake import storage
from gtlake.demo import write_samples
from gtlake.ingest import ingest
from gtlake.schemas import TABLES
from gtlake.snapshot import take
from gtlake.source import list_jobs
from gtlake.storage import Location
from tests.conftest import error_lines, write_job
from tests.lakeread import lake_table
from tests.s3proxy import DROP, S3Proxy, put_object, seed_tree
from tests.s3server import free_port

BIG = "big-job"
BIG_OBJECTS = 1_030
SOME = [BIG, "birds-open-images-clone", "classify-street-signs", "adjust-label-city-streets"]
# Columns that say where a file came from, not what it holds: S3 has ETags and its own
# modification times, so these legitimately differ between a local and an S3 source.
VOLATILE = {
    "files": {"etag", "last_modified"},
    "jobs": {"fingerprint", "ingested_at", "table_versions"},
}


def write_big_job(root: Path) -> None:
    """A job with more than 1,000 objects: masks, worker responses, consolidation files."""
    lines = [
        orjson.dumps(
            {
                "source-ref": f"s3://bucket/img/{i}.jpg",
                "kind": i % 3,
                "kind-metadata": {
                    "class-name": ["cat", "dog", "bird"][i % 3],
                    "confidence": 0.9,
                    "type": "groundtruth/image-classification",
                    "job-name": f"labeling-job/{BIG}",
                    "human-annotated": "yes",
                    "creation-date": "2024-01-02T03:04:05.000006",
                },
            }
        ).decode()
        for i in range(20)
    ]
    write_job(root, BIG, lines)
    write_job(root, BIG, lines[:10], manifest="1")
    job = root / BIG
    masks = job / "annotations/consolidated-annotation/output"
    for i in range(BIG_OBJECTS - 41):  # + 41 other files below
        (masks / str(i)).mkdir(parents=True, exist_ok=True)
        (masks / str(i) / "mask.png").write_bytes(b"\x89PNG" + i.to_bytes(4, "big"))
    for i in range(36):
        answers = [
            {
                "answerContent": {"crowd-image-classifier": {"label": "cat"}},
                "workerId": f"private.us-east-1.W{w}",
                "acceptanceTime": "2024-01-02T03:00:00.000Z",
                "submissionTime": "2024-01-02T03:00:12.500Z",
                "timeSpentInSeconds": 12.5,
                "workerMetadata": {"identityData": {"sub": f"w{w}"}},
            }
            for w in range(2)
        ]
        path = job / f"annotations/worker-response/iteration-1/{i}/2024-01-02_03:00:13.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps({"answers": answers}))
    bad = job / "annotations/worker-response/iteration-1/99/2024-01-02_03:00:14.json"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b'{"answers": [')
    consolidation = job / "annotations/consolidated-annotation"
    request = [
        {
            "datasetObjectId": "0",
            "dataObject": {"s3Uri": "s3://bucket/img/0.jpg"},
            "annotations": [
                {"workerId": "private.us-east-1.W0", "annotationData": {"content": '{"a":1}'}}
            ],
        }
    ]
    response = [{"datasetObjectId": "0", "consolidatedAnnotation": {"content": {"kind": 0}}}]
    for name, doc in (("consolidation-request", request), ("consolidation-response", response)):
        path = consolidation / name / "iteration-1" / "2024-01-02_03:01:00.json"
        path.parent.mkdir(parents=True)
        path.write_bytes(orjson.dumps(doc))


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    write_samples(root)
    write_big_job(root)
    return root


@pytest.fixture(scope="module")
def seeded(s3_server, tree) -> str:
    """A bucket holding the tree under `gt/`; returns `s3://<bucket>/gt`."""
    bucket = f"seeded-{os.getpid()}-{int(time.time() * 1000) % 10**8}"
    s3_server.client().create_bucket(Bucket=bucket)
    seed_tree(bucket, "gt", tree)
    return f"s3://{bucket}/gt"


@pytest.fixture
def proxy(s3_server):
    proxy = S3Proxy(s3_server.endpoint_url)
    yield proxy
    proxy.close()


def lake_rows(lake: Location) -> dict[str, list]:
    """Every table's rows (volatile columns dropped), sorted, keyed by table."""
    out = {}
    for table in TABLES:
        data = lake_table(lake, table)
        data = data.drop_columns([c for c in VOLATILE.get(table, ()) if c in data.column_names])
        out[table] = sorted(map(repr, data.to_pylist()))
    return out


def test_listing_paginates_and_reads_no_object(seeded, tree, proxy):
    jobs = list_jobs(Location(seeded, proxy.url))
    local = {j.name: j for j in list_jobs(Location(str(tree)))}
    assert sorted(j.name for j in jobs) == sorted(local)
    for job in jobs:
        assert sorted((f.path, f.size) for f in job.files) == sorted(
            (f.path, f.size) for f in local[job.name].files
        )
    big = next(j for j in jobs if j.name == BIG)
    assert len(big.files) == BIG_OBJECTS > 1000
    for f in big.files[:50]:
        assert f.etag == hashlib.md5((tree / BIG / f.path).read_bytes()).hexdigest()
        assert f.last_modified is not None and f.last_modified.utcoffset().total_seconds() == 0
    assert proxy.object_gets() == []
    assert proxy.count("HEAD") == 0
    listings = [r for r in proxy.requests if r.method == "GET"]
    total = sum(len(j.files) for j in jobs)
    assert len(listings) <= total // 1000 + 2  # pages of 1,000 keys, plus the isdir probe


def _split_listing_matches(location: Location, known: list[str], proxy: S3Proxy) -> None:
    """`storage.find` split at `known` gives what s3fs's `find` gives, in as many ranges."""
    fields = ("name", "type", "size", "ETag", "LastModified")

    def shown(listing: dict) -> list[tuple]:
        return [tuple(info.get(f) for f in fields) for info in listing.values()]

    expected = location.fs().find(location.root, detail=True, withdirs=True)
    proxy.requests.clear()
    split = storage.find(Location(location.url, proxy.url), known)
    assert proxy.count("GET") >= storage.LIST_RANGES  # a listing per range at least
    assert shown(split) == shown(expected)
    assert [(j.name, j.fingerprint()) for j in list_jobs(location, known=known)] == [
        (j.name, j.fingerprint()) for j in list_jobs(location)
    ]


def test_a_listing_split_at_known_jobs_gives_what_one_listing_gives(
    seeded, s3_server, s3_bucket, proxy, monkeypatch
):
    """Known job names (some gone, new jobs unknown) only split the listing into concurrent
    ranges: pages of 1,000 keys within a range, folder placeholders, nested folders."""
    monkeypatch.setattr(storage, "RANGE_NAMES", 1)
    whole = Location(seeded, s3_server.endpoint_url)
    names = sorted(j.name for j in list_jobs(whole))
    _split_listing_matches(whole, ["0-gone", *names[1::3], "classify-signs-gone", BIG], proxy)

    endpoint = s3_server.endpoint_url
    keys = ["gt/a/manifests/output/output.manifest", "gt/b/", "gt/c/x/", "gt/c/x/y/z.json",
            "gt/d/manifests/", "gt/e/f", "gt/e/g/h", "gt/ee/i", "gt/f/j", "gt/g/k"]  # fmt: skip
    for key in keys:
        put_object(s3_bucket, key, b"" if key.endswith("/") else b"{}", endpoint)
    _split_listing_matches(Location(f"s3://{s3_bucket}/gt", endpoint), list("abcdefg"), proxy)


def test_s3_source_gives_the_rows_of_the_local_copy(seeded, tree, tmp_path):
    local = ingest(Location(str(tree)), Location(str(tmp_path / "a")), workers=1)
    remote = ingest(Location(seeded), Location(str(tmp_path / "b")), workers=1)
    assert not local.failed and not remote.failed
    a, b = lake_rows(Location(str(tmp_path / "a"))), lake_rows(Location(str(tmp_path / "b")))
    assert a == b
    assert len(a["worker_responses"]) > 72 and len(a["files"]) > BIG_OBJECTS
    assert any(BIG in row and "line': None" in row for row in a["quarantine"])


def test_s3_lake_matches_local_lake_and_leaves_one_file_per_partition(
    s3_server, seeded, tree, tmp_path
):
    bucket = seeded.split("/")[2]
    lake = Location(f"s3://{bucket}/lake-{tmp_path.name}")
    report = ingest(Location(seeded), lake, names=SOME, workers=1)
    assert not report.failed
    ingest(Location(str(tree)), Location(str(tmp_path / "local")), names=SOME, workers=1)
    rows = lake_rows(lake)
    assert rows == lake_rows(Location(str(tmp_path / "local")))
    assert rows["quarantine"] and rows["worker_responses"] and rows["iterations"]
    snap = take(lake)
    for table in TABLES:
        per_job = [f.job for f in snap.files[table]]
        assert len(per_job) == len(set(per_job))  # one file per table and job
    again = ingest(Location(seeded), lake, names=SOME, workers=1)
    assert all(j.skipped for j in again.jobs)


def test_a_large_manifest_in_byte_ranges_into_an_s3_lake(
    s3_server, s3_bucket, tree, tmp_path, monkeypatch
):
    """Worker processes write a large manifest's ranges into the S3 job's staging folder; the
    lake holds the rows a local lake holds from one process, a file per range, and no staging
    folder is left behind."""
    import tempfile

    import gtlake.ingest as ingest_module
    from gtlake.writer import STAGING_PREFIX

    names = [BIG, "adjust-bounding-boxes-on-dogs-and-toys"]
    local = Location(str(tmp_path / "local"))
    ingest(Location(str(tree)), local, names=names, workers=1)
    lake = Location(f"s3://{s3_bucket}/lake")
    staging_before = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith(STAGING_PREFIX)}
    monkeypatch.setattr(ingest_module, "RANGE_MIN", 0)
    monkeypatch.setattr(ingest_module, "RANGE_BYTES", 300)
    report = ingest(Location(str(tree)), lake, names=names[1:], workers=2)
    report_big = ingest(Location(str(tree)), lake, names=names[:1], workers=2)
    assert not report.failed and not report_big.failed
    assert lake_rows(lake) == lake_rows(local)
    files = [f for f in take(lake).files["objects"] if f.job == names[1]]
    assert len(files) > 3  # one per byte range
    staging_after = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith(STAGING_PREFIX)}
    assert staging_after <= staging_before


def test_s3_lake_commit_removes_the_old_type_partition(s3_server, s3_bucket, tmp_path):
    """A job first seen unlabeled (in progress) then labeled moves to a new `type=`."""
    line = {"source-ref": "s3://b/1.jpg"}
    labeled = {
        **line,
        "kind": 0,
        "kind-metadata": {"type": "groundtruth/image-classification", "class-name": "cat"},
    }
    put_object(s3_bucket, "gt/job-a/manifests/intermediate/1/output.manifest",
               orjson.dumps(line) + b"\n")  # fmt: skip
    lake = Location(f"s3://{s3_bucket}/lake")
    ingest(Location(f"s3://{s3_bucket}/gt"), lake, workers=1)
    assert {f.type for files in take(lake).files.values() for f in files} == {"unlabeled"}
    put_object(s3_bucket, "gt/job-a/manifests/output/output.manifest",
               orjson.dumps(labeled) + b"\n")  # fmt: skip
    report = ingest(Location(f"s3://{s3_bucket}/gt"), lake, workers=1)
    assert [j.status for j in report.jobs] == ["complete"]
    types = {f.type for files in take(lake).files.values() for f in files}
    assert types == {"image-classification"}
    with gtlake.connect(lake.url) as con:
        assert con.execute("select distinct type from objects").fetchall() == [
            ("image-classification",)
        ]


def test_ingest_reads_each_manifest_with_gets_only(seeded, proxy, tmp_path):
    """The size known from the listing opens every manifest: no HEAD request at all."""
    jobs = ["birds-open-images-clone", "identify-animal-species"]
    report = ingest(Location(seeded, proxy.url), Location(str(tmp_path / "lake")), names=jobs,
                    workers=1)  # fmt: skip
    assert not report.failed
    assert proxy.object_gets("output.manifest")
    assert proxy.count("HEAD") == 0


def test_throttling_and_5xx_are_retried(seeded, tree, proxy, tmp_path):
    slow = proxy.inject(503, "SlowDown", times=2, method="GET", path_contains="output.manifest")
    internal = proxy.inject(500, "InternalError", times=2, method="GET", path_contains="/worker")
    unavailable = proxy.inject(503, "ServiceUnavailable", times=1, method="GET")
    lake = Location(str(tmp_path / "lake"))
    report = ingest(Location(seeded, proxy.url), lake, names=[BIG, "birds-open-images-clone"],
                    workers=1)  # fmt: skip
    assert not report.failed
    assert (slow.hits, internal.hits, unavailable.hits) == (2, 2, 1)
    assert any(r.status == 503 for r in proxy.requests)
    clean = ingest(Location(str(tree)), Location(str(tmp_path / "clean")),
                   names=[BIG, "birds-open-images-clone"], workers=1)  # fmt: skip
    assert not clean.failed
    assert lake_rows(lake) == lake_rows(Location(str(tmp_path / "clean")))


def test_a_lasting_error_fails_the_job_with_one_line(seeded, proxy, tmp_path):
    proxy.inject(503, "SlowDown", times=10_000, method="GET", path_contains=f"{BIG}/manifests")
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "2"}
    run = subprocess.run(
        [sys.executable, "-m", "gtlake.cli", "ingest", seeded, "--lake", str(tmp_path / "lake"),
         "--job", BIG, "--workers", "1", "--endpoint-url", proxy.url],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1
    errors = error_lines(run.stderr)
    assert len(errors) == 1 and errors[0].startswith(f"gtlake: error: job {BIG}: ")
    assert "Traceback" not in run.stderr and "testing-secret-key" not in run.stderr


def _many_jobs(root: Path, jobs: int, responses: int) -> None:
    for j in range(jobs):
        lines = [orjson.dumps({"source-ref": f"s3://b/{j}/{i}.jpg"}).decode() for i in range(5)]
        write_job(root, f"job-{j:03d}", lines)
        for i in range(responses):
            path = root / f"job-{j:03d}/annotations/worker-response/iteration-1/{i}/t.json"
            path.parent.mkdir(parents=True)
            path.write_bytes(b'{"answers":[{"workerId":"public.x.Y","answerContent":{}}]}')


def _cli(args: list[str], endpoint: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "1", "AWS_ENDPOINT_URL": endpoint}
    return subprocess.run(
        [sys.executable, "-m", "gtlake.cli", *args], capture_output=True, text=True, env=env,
        timeout=300,
    )  # fmt: skip


def test_server_stopped_mid_ingest(s3_server, tmp_path):
    """Non-zero exit with one-line reasons; the local lake stays consistent; the next ingest
    completes; the secret key appears nowhere."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    bucket = f"stop-{tmp_path.name[-20:].lower().replace('_', '-')}"
    import boto3

    # an in-process server (its store outlives a stop), seeded and reached by its own endpoint
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    _many_jobs(tmp_path / "tree", jobs=10, responses=8)
    seed_tree(bucket, "gt", tmp_path / "tree", endpoint)
    lake = tmp_path / "lake"

    def stop_after_some_jobs() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            objects = lake / "objects"
            done = list(objects.glob("*/type=*/*.parquet")) if objects.is_dir() else []
            if len(done) >= 2:
                break
            time.sleep(0.02)
        server.stop()

    stopper = threading.Thread(target=stop_after_some_jobs)
    stopper.start()
    try:
        first = _cli(["ingest", f"s3://{bucket}/gt", "--lake", str(lake), "--workers", "1"],
                     endpoint)  # fmt: skip
    finally:
        stopper.join()
    assert first.returncode == 1, first.stdout + first.stderr
    errors = error_lines(first.stderr)
    assert errors and all(line.startswith("gtlake: error: job job-") for line in errors)
    assert "Traceback" not in first.stderr

    # Consistent: every committed job complete, one file per table and job.
    committed = lake_rows(Location(str(lake)))
    jobs = lake_table(lake, "jobs").to_pylist()
    assert 2 <= len(jobs) < 10
    objects = lake_table(lake, "objects")
    for job in jobs:
        assert objects.filter(ds.field("job") == job["job"]).num_rows == job["lines"] == 5
    snap = take(Location(str(lake)))
    for table in TABLES:
        per_job = [f.job for f in snap.files[table]]
        assert len(per_job) == len(set(per_job))
    assert committed["worker_responses"]

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        second = _cli(["ingest", f"s3://{bucket}/gt", "--lake", str(lake), "--workers", "1"],
                      endpoint)  # fmt: skip
    finally:
        server.stop()
    assert second.returncode == 0, second.stderr
    assert f"skipped {len(jobs)} unchanged" in second.stdout
    fresh = tmp_path / "fresh"
    from gtlake.ingest import ingest as run_ingest

    assert not run_ingest(Location(str(tmp_path / "tree")), Location(str(fresh)), workers=1).failed
    assert lake_rows(Location(str(lake))) == lake_rows(Location(str(fresh)))

    secret = os.environ["AWS_SECRET_ACCESS_KEY"].encode()
    for run in (first, second):
        assert secret.decode() not in run.stdout + run.stderr
    for path in lake.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes()


def test_connection_lost_on_an_intermediate_manifest_stops_the_run(
    s3_bucket, proxy, tmp_path, monkeypatch
):
    """Defect 9: a dropped connection while an intermediate manifest is read is a storage error
    naming the file (not a manifest error), and the run stops instead of failing every job."""
    for j in range(4):
        write_job(tmp_path / "tree", f"job-{j}", ['{"source-ref":"s3://x/1.jpg"}'])
        write_job(tmp_path / "tree", f"job-{j}", ['{"source-ref":"s3://x/1.jpg"}'], manifest="1")
    seed_tree(s3_bucket, "gt", tmp_path / "tree")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    proxy.inject(DROP, "", times=10_000, method="GET", path_contains="/manifests/intermediate/")
    report = ingest(
        Location(f"s3://{s3_bucket}/gt", proxy.url), Location(str(tmp_path / "lake")), workers=1
    )
    first, *rest = report.jobs
    assert first.unreachable
    assert first.error.startswith(
        f"cannot reach the store: {s3_bucket}/gt/job-0/manifests/intermediate/1/output.manifest: "
    )
    assert [r.error for r in rest] == ["not started: the store is unreachable"] * 3
    assert not any("job-1" in path or "job-2" in path for path in proxy.object_gets())
