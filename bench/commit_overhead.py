"""Bench: the commit overhead per job, before (staging, rename, bulk delete) and after (Delta).

"Before" is the code at commit e3ca3be, the base the Delta Lake work started from (the staging /
rename / bulk-delete protocol); "after" is this working tree. Both run the same ingest API
(`gtlake.ingest.ingest`) in a fresh interpreter with the same `.venv`: the old package is extracted
with `git archive e3ca3be gtlake` into `bench/out/old-e3ca3be/` and put first on `PYTHONPATH`.

The source holds `--jobs` tiny jobs (1 to 10 image-classification lines each, an output manifest
and nothing else), so flattening is negligible and an ingest's time per job is essentially the
cost of writing and committing the job into the lake. In a fresh lake, each run measures:

1. the first ingest of every job (the lake created);
2. a full re-ingest of every job (`--full`): each job replaces its partitions;
3. the re-ingest of one job in the lake of `--jobs` jobs (`gtlake ingest --job X --full`), the
   median of three.

Only the `ingest` call is timed (not the interpreter start nor the imports). Each measure runs on a
local lake and on an S3 lake (a moto server on loopback, in its own process, with a bounded
lifetime), with the request counts the server answered. Before and after alternate within each
round (`--rounds`, default 3); the medians are reported, with after / before as a ratio.

    .venv/bin/python bench/commit_overhead.py [--jobs 200] [--rounds 3] [--workers 1] [--quick]

Prints a Markdown table and writes it to bench/out/commit_overhead.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BASE_COMMIT = "e3ca3be"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "bench", "out")
OLD = os.path.join(OUT, f"old-{BASE_COMMIT}")
BUCKET = "bench-commit"
ONE_REPEAT = 3
META = {"type": "groundtruth/image-classification", "class-name": "cat", "confidence": 0.9}
KINDS = ("GET", "HEAD", "LIST", "PUT", "COPY", "DELETE")


def job_name(j: int) -> str:
    return f"job-{j:05d}"


def write_source(root: str, jobs: int) -> None:
    """`jobs` job directories of 1 to 10 lines each (an output manifest only)."""
    for j in range(jobs):
        name = job_name(j)
        folder = os.path.join(root, name, "manifests", "output")
        os.makedirs(folder)
        lines = [
            json.dumps({"source-ref": f"s3://b/{name}/{i}.jpg", "kind": 0, "kind-metadata": META})
            for i in range(1 + j % 10)
        ]
        with open(os.path.join(folder, "output.manifest"), "w") as out:
            out.write("\n".join(lines) + "\n")


# The driver: runs in a fresh interpreter, with the code under test first on PYTHONPATH.


def _counts(endpoint: str | None) -> dict[str, int]:
    """The moto server's request counts since the last call (and reset them)."""
    if endpoint is None:
        return {}
    call = urllib.request.Request(endpoint + "/_bench/requests", method="POST")
    with urllib.request.urlopen(call, timeout=30) as answer:
        return json.loads(answer.read())


def driver(args: argparse.Namespace) -> None:
    import gtlake
    from gtlake.ingest import ingest
    from gtlake.storage import Location

    source, lake = Location(args.source), Location(args.lake, args.endpoint)
    measures: dict = {"package": os.path.dirname(gtlake.__file__)}

    def timed(step: str, **options) -> None:
        _counts(args.endpoint)
        started = time.perf_counter()
        report = ingest(source, lake, workers=args.workers, **options)
        seconds = time.perf_counter() - started
        expected = len(options.get("names") or []) or args.jobs
        done = [j for j in report.jobs if not j.skipped and not j.error]
        if report.failed or len(done) != expected:
            errors = sorted({j.error for j in report.failed})[:3]
            raise SystemExit(f"{step}: {len(done)} of {expected} jobs ingested: {errors}")
        measures.setdefault(step, []).append(
            {"seconds": seconds, "requests": _counts(args.endpoint)}
        )

    timed("first")
    timed("full", full=True)
    for _ in range(ONE_REPEAT):
        timed("one", names=[job_name(args.jobs // 2)], full=True)
    print(json.dumps(measures))


# The bench: prepares the old code, the source and the server, runs the drivers alternately.


def old_code() -> str:
    """The package at BASE_COMMIT, extracted once; returns the folder to put on PYTHONPATH."""
    if not os.path.isdir(os.path.join(OLD, "gtlake")):
        os.makedirs(OLD, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", REPO, "archive", BASE_COMMIT, "gtlake"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", OLD], input=archive, check=True)
    return OLD


def run_driver(code: str, source: str, lake: str, endpoint: str | None, args) -> dict:
    command = [sys.executable, "-P", os.path.abspath(__file__), "--driver"]
    command += ["--source", source, "--lake", lake, "--jobs", str(args.jobs)]
    command += ["--workers", str(args.workers)]
    if endpoint:
        command += ["--endpoint", endpoint]
    env = {**os.environ, "PYTHONPATH": code}
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=args.timeout,
        cwd=tempfile.gettempdir(),
    )
    if done.returncode != 0:
        raise SystemExit(f"driver failed ({code}, {lake}):\n{done.stderr[-2000:]}")
    measures = json.loads(done.stdout.strip().splitlines()[-1])
    if os.path.realpath(os.path.dirname(measures["package"])) != os.path.realpath(code):
        raise SystemExit(f"driver imported {measures['package']}, not the code in {code}")
    return measures


def _per_job(run: dict, step: str, jobs: int) -> float:
    """Milliseconds per job of one run's step (the median of its repeats)."""
    seconds = statistics.median(m["seconds"] for m in run[step])
    return 1000 * seconds / (1 if step == "one" else jobs)


def _requests(run: dict, step: str, jobs: int) -> str:
    counts = run[step][-1]["requests"]
    per = 1 if step == "one" else jobs
    parts = [f"{counts.get(k, 0) / per:.3g} {k}" for k in KINDS if counts.get(k)]
    return ", ".join(parts) or "none"


STEPS = (
    ("first", "first ingest, per job"),
    ("full", "full re-ingest (`--full`), per job"),
    ("one", "re-ingest of one job in the lake"),
)


def table(results: dict, args) -> str:
    lines = [
        "| lake | measure | before (e3ca3be) ms | after ms | after / before |",
        "|---|---|---:|---:|---:|",
    ]
    for backend, runs in results.items():
        for step, label in STEPS:
            before = statistics.median(_per_job(r, step, args.jobs) for r in runs["before"])
            after = statistics.median(_per_job(r, step, args.jobs) for r in runs["after"])
            lines.append(
                f"| {backend} | {label} | {before:.1f} | {after:.1f} | **{after / before:.2f}** |"
            )
    if "S3" in results:
        lines += ["", "| S3 requests (last run) | before (e3ca3be) | after |", "|---|---|---|"]
        for step, label in STEPS:
            runs = results["S3"]
            lines.append(
                f"| {label} | {_requests(runs['before'][-1], step, args.jobs)} | "
                f"{_requests(runs['after'][-1], step, args.jobs)} |"
            )
    return "\n".join(lines)


def write_report(results: dict, args, rounds: int, load_before, seconds: float) -> str:
    """The table of the rounds done so far, printed and written to bench/out/commit_overhead.md
    (after each round: a run cut short keeps what it measured)."""
    report = "\n".join(
        [
            f"# gtlake commit overhead per job, before ({BASE_COMMIT}) and after (Delta Lake)",
            "",
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"{args.jobs} jobs of 1 to 10 lines, `--workers {args.workers}`, median of "
            f"{rounds} alternating rounds ({seconds:.0f} s); load average "
            f"{load_before[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.",
            "",
            table(results, args),
            "",
        ]
    )
    print(report, file=sys.stderr if rounds < args.rounds else sys.stdout)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "commit_overhead.md"), "w") as out:
        out.write(report)
    return report


def bench(args: argparse.Namespace) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from motoserver import MotoServer

    codes = {"before": old_code(), "after": REPO}
    work = tempfile.mkdtemp(prefix="gtlake-commit-bench-")
    backends = ["local"] + ([] if args.no_s3 else ["S3"])
    results: dict = {b: {"before": [], "after": []} for b in backends}
    load_before = os.getloadavg()
    started = time.perf_counter()
    server = MotoServer(lifetime_s=args.timeout * args.rounds * 4) if not args.no_s3 else None
    try:
        source = os.path.join(work, "source")
        write_source(source, args.jobs)
        if server is not None:
            server.__enter__()
            server.create_bucket(BUCKET)
        for round_ in range(args.rounds):
            order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
            for backend in backends:
                for variant in order:
                    if backend == "local":
                        lake, endpoint = os.path.join(work, f"lake-{variant}-{round_}"), None
                    else:
                        lake, endpoint = f"s3://{BUCKET}/lake-{variant}-{round_}", server.endpoint
                    run = run_driver(codes[variant], source, lake, endpoint, args)
                    results[backend][variant].append(run)
                    print(
                        f"round {round_ + 1}, {backend}, {variant}: full "
                        f"{_per_job(run, 'full', args.jobs):.1f} ms/job, one job "
                        f"{_per_job(run, 'one', args.jobs):.0f} ms",
                        file=sys.stderr,
                    )
                    if backend == "local":
                        shutil.rmtree(lake, ignore_errors=True)
            write_report(results, args, round_ + 1, load_before, time.perf_counter() - started)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-s3", action="store_true", help="the local lake only")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 jobs, one round")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per driver run")
    parser.add_argument("--driver", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--lake", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.driver:
        driver(args)
        return
    if args.quick:
        args.jobs, args.rounds = 10, 1
    bench(args)


if __name__ == "__main__":
    main()
