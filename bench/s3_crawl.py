"""Bench: crawling and incremental ingest of many jobs on a local S3 server (moto, loopback).

Seeds JOBS job directories (an output manifest, an intermediate manifest and worker responses
each) into a moto server running in a child process, then measures, from this process through the
S3 API:

1. listing and fingerprinting every job (`gtlake.source.list_jobs`: paginated ListObjectsV2);
2. a full ingest (S3 source, local lake), then the same ingest again with nothing changed (every
   job skipped from its fingerprint), as a fraction of the full one;
3. the same pair with the lake on S3 too, for the first `--s3-lake-jobs` jobs.

    .venv/bin/python bench/s3_crawl.py [--jobs 2000] [--workers 2] [--s3-lake-jobs 200]

moto answers every request in Python, so absolute times are far slower than AWS; the ratios and
request counts are what carry over.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import shutil
import socket
import tempfile
import time

import orjson

BUCKET = "bench-crawl"
LINES = 20
RESPONSES = 3
META = {"type": "groundtruth/image-classification", "class-name": "cat", "confidence": 0.9}


def _job_objects(job: str) -> dict[str, bytes]:
    lines = [
        orjson.dumps({"source-ref": f"s3://b/{job}/{i}.jpg", "kind": 0, "kind-metadata": META})
        for i in range(LINES)
    ]
    answer = {"answerContent": {"c": {"label": "cat"}}, "workerId": "public.us-east-1.W",
              "submissionTime": "2024-05-01T10:00:00Z"}  # fmt: skip
    objects = {
        "manifests/output/output.manifest": b"\n".join(lines) + b"\n",
        "manifests/intermediate/1/output.manifest": b"\n".join(lines[: LINES // 2]) + b"\n",
    }
    for i in range(RESPONSES):
        key = f"annotations/worker-response/iteration-1/{i}/2024-05-01_10:00:00.json"
        objects[key] = orjson.dumps({"answers": [answer]})
    return objects


def _serve(port: int, jobs: int, ready, stop) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    store = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    store.create_bucket(BUCKET, "us-east-1")
    for j in range(jobs):
        job = f"job-{j:05d}"
        for key, data in _job_objects(job).items():
            store.put_object(BUCKET, f"gt/{job}/{key}", data)
    ready.set()
    stop.wait()
    server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--s3-lake-jobs", type=int, default=200)
    args = parser.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench-key")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    server = ctx.Process(target=_serve, args=(port, args.jobs, ready, stop), daemon=True)
    server.start()
    ready.wait(600)

    from gtlake.ingest import ingest
    from gtlake.source import list_jobs
    from gtlake.storage import Location

    source = Location(f"s3://{BUCKET}/gt", endpoint)
    objects = args.jobs * (2 + RESPONSES)
    work = tempfile.mkdtemp(prefix="gtlake-bench-")
    try:
        list_s, jobs = _timed(lambda: list_jobs(source))
        fp_s, _ = _timed(lambda: [j.fingerprint() for j in jobs])
        assert len(jobs) == args.jobs

        lake = Location(os.path.join(work, "lake"))
        full_s, full = _timed(lambda: ingest(source, lake, workers=args.workers))
        again_s, again = _timed(lambda: ingest(source, lake, workers=args.workers))
        assert not full.failed and all(j.skipped for j in again.jobs)

        names = [j.name for j in jobs[: args.s3_lake_jobs]]
        s3_lake = Location(f"s3://{BUCKET}/lake", endpoint)
        s3_full_s, s3_full = _timed(lambda: ingest(source, s3_lake, names, workers=args.workers))
        s3_again_s, s3_again = _timed(lambda: ingest(source, s3_lake, names, workers=args.workers))
        assert not s3_full.failed and all(j.skipped for j in s3_again.jobs)
    finally:
        stop.set()
        server.join(30)
        shutil.rmtree(work, ignore_errors=True)

    print(f"# gtlake S3 crawl bench ({platform.machine()}, {os.cpu_count()} cores, moto server)")
    print(f"jobs {args.jobs}, objects {objects}, workers {args.workers}\n")
    print("| step | seconds | note |")
    print("|---|---:|---|")
    print(f"| list {args.jobs} jobs ({objects} objects) | {list_s:.2f} | "
          f"{-(-objects // 1000)} ListObjectsV2 pages |")  # fmt: skip
    print(f"| fingerprint {args.jobs} jobs | {fp_s:.3f} | from the listing, no request |")
    print(f"| full ingest, local lake | {full_s:.1f} | {args.jobs} jobs |")
    print(f"| no-change re-ingest, local lake | {again_s:.2f} | "
          f"{again_s / full_s:.1%} of the full ingest |")  # fmt: skip
    print(f"| full ingest, S3 lake | {s3_full_s:.1f} | {len(names)} jobs |")
    print(f"| no-change re-ingest, S3 lake | {s3_again_s:.2f} | "
          f"{s3_again_s / s3_full_s:.1%} of the full ingest |")  # fmt: skip


if __name__ == "__main__":
    main()
