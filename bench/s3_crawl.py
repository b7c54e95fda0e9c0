"""Bench: crawling and incremental ingest of many jobs on a local S3 server (moto, loopback).

Seeds JOBS job directories (an output manifest, an intermediate manifest and worker responses
each) into a moto server running in a child process (`bench/motoserver.py`: loopback, a bounded
lifetime, the requests it answers counted by kind), then measures, from this process through the
S3 API, with the requests each step made:

1. listing and fingerprinting every job (`gtlake.source.list_jobs`: paginated ListObjectsV2), and
   the listing split into concurrent ranges at known job names, as an ingest into a lake does;
2. a full ingest (S3 source, local lake), then the same ingest again with nothing changed (every
   job skipped from its fingerprint), as a fraction of the full one;
3. the same pair with the lake on S3 too (every job, or the first `--s3-lake-jobs`).

The no-change ingests are the median of three. Prints a Markdown table and writes it to
bench/out/s3_crawl.md.

    .venv/bin/python bench/s3_crawl.py [--jobs 2000] [--workers 2] [--s3-lake-jobs N] [--quick]

moto answers every request in Python, so absolute times are far slower than AWS; the ratios and
request counts are what carry over.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import shutil
import sys
import tempfile
import time

import orjson

BUCKET = "bench-crawl"
LAKE_BUCKET = "bench-lake"  # its own bucket: moto lists a prefix by scanning the whole bucket
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


def _seed(jobs: int, store) -> None:
    """Fill moto's backend (in the server process) with `jobs` job directories."""
    store.create_bucket(BUCKET, "us-east-1")
    store.create_bucket(LAKE_BUCKET, "us-east-1")
    for j in range(jobs):
        job = f"job-{j:05d}"
        for key, data in _job_objects(job).items():
            store.put_object(BUCKET, f"gt/{job}/{key}", data)


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def _requests(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {kind}" for kind, n in counts.items() if n) or "no request"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--s3-lake-jobs", type=int, help="jobs ingested into the S3 lake (all)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 jobs")
    parser.add_argument("--lifetime", type=float, default=3600, help="the server's, in seconds")
    args = parser.parse_args()
    if args.quick:
        args.jobs = 100
    lake_jobs = min(args.s3_lake_jobs or args.jobs, args.jobs)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from motoserver import MotoServer

    from gtlake import storage
    from gtlake.ingest import ingest
    from gtlake.source import list_jobs
    from gtlake.storage import Location

    objects = args.jobs * (2 + RESPONSES)
    work = tempfile.mkdtemp(prefix="gtlake-bench-")
    rows = []
    load_before = os.getloadavg()
    with MotoServer(args.lifetime, functools.partial(_seed, args.jobs)) as server:
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        source = Location(f"s3://{BUCKET}/gt", server.endpoint)

        def step(label: str, fn, note: str = "") -> tuple[float, object]:
            server.requests(reset=True)
            seconds, value = _timed(fn)
            counts = server.requests(reset=True)
            rows.append((label, seconds, note, _requests(counts)))
            return seconds, value

        def no_change(label: str, lake: Location, names, full_s: float) -> None:
            """The median of three no-change ingests, as a fraction of the full one."""
            runs = []
            for _ in range(3):
                server.requests(reset=True)
                seconds, report = _timed(lambda: ingest(source, lake, names, workers=args.workers))
                assert not report.failed and all(j.skipped for j in report.jobs)
                runs.append((seconds, server.requests(reset=True)))
            seconds, counts = sorted(runs, key=lambda r: r[0])[1]
            rows.append((label, seconds, f"**{seconds / full_s:.1%}** of the full ingest "
                         "(median of 3)", _requests(counts)))  # fmt: skip

        try:
            _, jobs = step(f"list {args.jobs} jobs ({objects} objects)", lambda: list_jobs(source))
            known = [j.name for j in jobs]
            step(
                f"the same, split at the {len(known)} jobs a lake knows",
                lambda: list_jobs(source, known=known),
                f"{len(storage.split_points(known)) + 1} range(s) listed concurrently",
            )
            step(f"fingerprint {args.jobs} jobs", lambda: [j.fingerprint() for j in jobs])
            assert len(jobs) == args.jobs

            lake = Location(os.path.join(work, "lake"))
            full_s, full = step(
                "full ingest, local lake",
                lambda: ingest(source, lake, workers=args.workers),
                f"{args.jobs} jobs",
            )
            assert not full.failed
            no_change("no-change re-ingest, local lake", lake, None, full_s)

            names = [j.name for j in jobs[:lake_jobs]] if lake_jobs < args.jobs else None
            s3_lake = Location(f"s3://{LAKE_BUCKET}/lake", server.endpoint)
            s3_full_s, s3_full = step(
                "full ingest, S3 lake",
                lambda: ingest(source, s3_lake, names, workers=args.workers),
                f"{lake_jobs} jobs",
            )
            assert not s3_full.failed
            no_change("no-change re-ingest, S3 lake", s3_lake, names, s3_full_s)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()

    lines = [
        f"# gtlake S3 crawl bench ({platform.machine()}, {os.cpu_count()} cores, moto server)",
        "",
        f"jobs {args.jobs}, objects {objects}, workers {args.workers}; load average "
        f"{load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end",
        "",
        "| step | seconds | note | S3 requests |",
        "|---|---:|---|---|",
    ]
    lines += [
        f"| {label} | {seconds:.2f} | {note} | {counts} |" for label, seconds, note, counts in rows
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "s3_crawl.md"), "w") as file:
        file.write(report)


if __name__ == "__main__":
    main()
