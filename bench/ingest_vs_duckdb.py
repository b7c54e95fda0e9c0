"""Benchmark: `gtlake ingest` against DuckDB's own NDJSON-to-Parquet copy, on the same files.

1. Generates (once, cached in bench/out/) a synthetic Ground Truth tree with `gtlake.demo`:
   36 base jobs x 20,000 lines over every task type plus their chained jobs, about 1M lines and
   650 MB of output manifests at --scale 1.
2. Times, alternating, `gtlake ingest TREE --lake TMP --full` and
   `COPY (SELECT * FROM read_ndjson('TREE/*/manifests/output/output.manifest',
   union_by_name=true)) TO 'x.parquet' (FORMAT parquet)` in a DuckDB subprocess, each under
   `/usr/bin/time -v`, and keeps the best wall time of the runs.
3. Memory flatness: peak RSS of `gtlake ingest --workers 1` on one 1M-line job versus ten
   100k-line jobs (bounding boxes, no chained jobs, no intermediate manifests).

Prints a Markdown report and writes it to bench/out/results.md. Usage:

    .venv/bin/python bench/ingest_vs_duckdb.py [--scale 0.1] [--runs 2] [--skip-flatness]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gtlake import jobfiles, synthetic

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
GIB = 1 << 30
TARGET_TIME_RATIO = 0.75
TARGET_RSS = 1 * GIB

DUCKDB_SCRIPT = """\
import sys, duckdb
glob, target, threads = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
if threads:
    con.execute(f"set threads = {int(threads)}")
con.execute(
    "copy (select * from read_ndjson(?, union_by_name=true)) to '" + target.replace("'", "''")
    + "' (format parquet)",
    [glob],
)
"""


# -- the input trees ----------------------------------------------------------------------------


# Changes whenever the generator's code changes (read when the code is imported), so that a
# cached tree is then written again.
GENERATOR = hashlib.sha256(
    b"".join(Path(m.__file__).read_bytes() for m in (synthetic, jobfiles))
).hexdigest()[:16]


def cached_tree(name: str, **params) -> Path:
    """`bench/out/<name>/`, generated unless the cached copy was made with the same parameters."""
    tree = OUT / name
    stamp = OUT / f"{name}.json"
    wanted = {**params, "generator": GENERATOR}
    if tree.is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        print(f"using cached {tree.relative_to(HERE.parent)}", flush=True)
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    started = time.perf_counter()
    count = synthetic.write_synthetic(tree, **params)
    took = time.perf_counter() - started
    print(f"generated {tree.relative_to(HERE.parent)}: {count} jobs in {took:.1f}s", flush=True)
    stamp.write_text(json.dumps(wanted, indent=1) + "\n")
    return tree


@dataclass
class TreeStats:
    jobs: int
    lines: int
    output_bytes: int
    total_bytes: int


def tree_stats(tree: Path) -> TreeStats:
    outputs = sorted(tree.glob("*/manifests/output/output.manifest"))
    lines = 0
    for path in outputs:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 24):
                lines += chunk.count(b"\n")
    total = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    return TreeStats(len(outputs), lines, sum(p.stat().st_size for p in outputs), total)


def warm_cache(tree: Path) -> None:
    """Read every file once, so neither contender pays for the first read from disk."""
    for path in tree.rglob("*"):
        if path.is_file():
            with open(path, "rb") as stream:
                while stream.read(1 << 24):
                    pass


# -- measuring one command ----------------------------------------------------------------------


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds, all processes
    max_rss: int  # bytes: the largest single process (/usr/bin/time -v)
    tree_rss: int  # bytes: the largest sum over the process tree (sampled every 50 ms)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


class TreeSampler(threading.Thread):
    """Samples the summed resident memory of a process and its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, sum(_rss(p) for p in _descendants(self.pid)))
            self.done.wait(0.05)


def _time_field(report: str, label: str) -> str:
    match = re.search(rf"^\s*{re.escape(label)}: (.+)$", report, re.MULTILINE)
    if not match:
        raise RuntimeError(f"/usr/bin/time -v printed no {label!r}:\n{report[-2000:]}")
    return match.group(1).strip()


def _seconds(clock: str) -> float:
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def measure(label: str, command: list[str]) -> Run:
    """Run `command` under `/usr/bin/time -v`; fail loudly when it fails."""
    print(f"  {label} ...", end="", flush=True)
    proc = subprocess.Popen(
        ["/usr/bin/time", "-v", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    sampler.done.set()
    sampler.join()
    if proc.returncode != 0:
        print(" failed")
        sys.exit(f"{label} failed (exit {proc.returncode}):\n{stdout[-2000:]}\n{stderr[-4000:]}")
    wall = _seconds(_time_field(stderr, "Elapsed (wall clock) time (h:mm:ss or m:ss)"))
    cpu = float(_time_field(stderr, "User time (seconds)"))
    cpu += float(_time_field(stderr, "System time (seconds)"))
    max_rss = int(_time_field(stderr, "Maximum resident set size (kbytes)")) * 1024
    # The sampler also sees /usr/bin/time itself (about 2 MB); a run shorter than one sample
    # interval falls back to the largest single process.
    run = Run(wall, cpu, max_rss, max(sampler.peak, max_rss))
    print(f" {run.wall:.1f}s, peak RSS {mib(run.tree_rss)}", flush=True)
    return run


# -- the two contenders -------------------------------------------------------------------------


def gtlake_command(tree: Path, lake: Path, workers: int | None) -> list[str]:
    exe = Path(sys.executable).with_name("gtlake")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "gtlake.cli"]
    command = [*base, "ingest", str(tree), "--lake", str(lake), "--full"]
    return command + (["--workers", str(workers)] if workers else [])


def duckdb_command(tree: Path, target: Path, threads: int | None) -> list[str]:
    glob = f"{tree}/*/manifests/output/output.manifest"
    return [sys.executable, "-c", DUCKDB_SCRIPT, glob, str(target), str(threads or "")]


def run_gtlake(tree: Path, workers: int | None = None, label: str = "gtlake ingest") -> Run:
    lake = OUT / "tmp-lake"
    shutil.rmtree(lake, ignore_errors=True)
    try:
        return measure(label, gtlake_command(tree, lake, workers))
    finally:
        shutil.rmtree(lake, ignore_errors=True)


def run_duckdb(tree: Path, threads: int | None = None) -> Run:
    target = OUT / "tmp-duckdb.parquet"
    target.unlink(missing_ok=True)
    try:
        return measure("duckdb copy  ", duckdb_command(tree, target, threads))
    finally:
        target.unlink(missing_ok=True)


# -- the report ---------------------------------------------------------------------------------


def mib(n: float) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def best(runs: list[Run]) -> Run:
    """The fastest run's time, the largest memory seen in any run (memory is not luck)."""
    fastest = min(runs, key=lambda r: r.wall)
    return Run(
        fastest.wall,
        fastest.cpu,
        max(r.max_rss for r in runs),
        max(r.tree_rss for r in runs),
    )


def comparison_table(stats: TreeStats, g: Run, d: Run, runs: int) -> str:
    ratio = g.wall / d.wall
    return "\n".join(
        [
            f"Input: {stats.jobs} jobs, {stats.lines:,} lines, "
            f"{stats.output_bytes / 1e6:,.0f} MB of output manifests "
            f"({stats.total_bytes / 1e6:,.0f} MB in the whole tree with intermediate manifests "
            "and worker responses). Best wall time of "
            f"{runs} alternating runs each; peak memory is the largest seen in any run.",
            "",
            "| measure | gtlake ingest | DuckDB COPY | gtlake / DuckDB | target | met |",
            "|---|---:|---:|---:|---|---|",
            f"| wall time | {g.wall:.1f} s | {d.wall:.1f} s | {ratio:.2f} "
            f"| ≤ {TARGET_TIME_RATIO} | {met(ratio <= TARGET_TIME_RATIO)} |",
            f"| CPU time (user + sys) | {g.cpu:.1f} s | {d.cpu:.1f} s | {g.cpu / d.cpu:.2f} | | |",
            f"| lines per second | {stats.lines / g.wall:,.0f} | {stats.lines / d.wall:,.0f} "
            "| | | |",
            f"| peak RSS, all processes | {mib(g.tree_rss)} | {mib(d.tree_rss)} "
            f"| {g.tree_rss / d.tree_rss:.2f} | gtlake ≤ 1 GiB | {met(g.tree_rss <= TARGET_RSS)} |",
            f"| peak RSS, largest process | {mib(g.max_rss)} | {mib(d.max_rss)} "
            f"| {g.max_rss / d.max_rss:.2f} | | |",
        ]
    )


def flatness_table(one: tuple[TreeStats, Run], ten: tuple[TreeStats, Run]) -> str:
    rows = []
    for label, (stats, run) in (
        (f"1 job × {one[0].lines:,} lines", one),
        (f"{ten[0].jobs} jobs × {ten[0].lines // max(ten[0].jobs, 1):,} lines", ten),
    ):
        rows.append(
            f"| {label} | {stats.output_bytes / 1e6:,.0f} MB | {run.wall:.1f} s "
            f"| {mib(run.tree_rss)} | {mib(run.max_rss)} |"
        )
    ratio = one[1].tree_rss / ten[1].tree_rss
    return "\n".join(
        [
            "`gtlake ingest --workers 1` (one process, so both runs hold one job at a time): "
            "bounding-box jobs, no chained jobs, no intermediate manifests.",
            "",
            "| input | output manifests | wall time | peak RSS, all processes "
            "| peak RSS, largest process |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"Single 1-job peak / 10-job peak = {ratio:.2f} (target ≤ 1.00: "
            f"{met(one[1].tree_rss <= ten[1].tree_rss)}).",
        ]
    )


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    import duckdb
    import pyarrow

    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"pyarrow {pyarrow.__version__}, duckdb {duckdb.__version__}"
    )


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    parser.add_argument("--runs", type=int, default=2, help="alternating runs per contender")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, help="gtlake worker processes (default: gtlake's, the CPU count)"
    )
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's)")
    parser.add_argument("--skip-flatness", action="store_true", help="only the comparison")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")
    if not Path("/usr/bin/time").exists():
        parser.error("/usr/bin/time is needed (GNU time, for -v)")
    OUT.mkdir(parents=True, exist_ok=True)

    lines = max(1, round(20_000 * args.scale))
    tree = cached_tree(f"tree-36x{lines}-seed{args.seed}", jobs=36, lines=lines, seed=args.seed)
    stats = tree_stats(tree)
    warm_cache(tree)
    print(f"comparison on {stats.lines:,} lines ({stats.output_bytes / 1e6:,.0f} MB):", flush=True)
    g_runs, d_runs = [], []
    for _ in range(args.runs):
        g_runs.append(run_gtlake(tree, args.workers))
        d_runs.append(run_duckdb(tree, args.threads))
    g, d = best(g_runs), best(d_runs)

    sections = [
        f"# gtlake ingest vs DuckDB read_ndjson → Parquet (scale {args.scale:g})",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}; gtlake workers: "
        f"{args.workers or 'default (CPU count)'}; DuckDB threads: {args.threads or 'default'}.",
        "",
        "## Side by side",
        "",
        comparison_table(stats, g, d, args.runs),
    ]
    if not args.skip_flatness:
        big = max(10, round(1_000_000 * args.scale))
        flat = {"kinds": ["object-detection"], "chained": False, "intermediates": 0}
        one_tree = cached_tree(f"flat-1x{big}", jobs=1, lines=big, seed=args.seed, **flat)
        ten_tree = cached_tree(
            f"flat-10x{big // 10}", jobs=10, lines=big // 10, seed=args.seed, **flat
        )
        print("memory flatness (--workers 1):", flush=True)
        results = []
        for t, label in ((one_tree, "1 job      "), (ten_tree, "10 jobs    ")):
            warm_cache(t)
            results.append((tree_stats(t), run_gtlake(t, workers=1, label=label)))
        sections += ["", "## Memory flatness", "", flatness_table(results[0], results[1])]
    report = "\n".join(sections) + "\n"
    (OUT / "results.md").write_text(report)
    print()
    print(report)
    print(f"written to {(OUT / 'results.md').relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
