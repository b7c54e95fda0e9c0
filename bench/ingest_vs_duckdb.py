"""Benchmark: `gtlake ingest` next to DuckDB's own NDJSON-to-Parquet copy, on the same files.

What issue 8 asks to show, in one run (`make bench`; about 10 minutes on 2 cores):

1. **The whole tree.** Generates (once, cached in bench/out/) a synthetic Ground Truth tree with
   `gtlake.synthetic`: 36 base jobs x 20,000 lines over every task type plus their chained jobs
   (48 jobs, 960,000 output lines, with intermediate manifests and worker responses). Times,
   alternating for `--rounds` rounds (median counts), `gtlake ingest TREE --lake TMP --full` and
   `COPY (SELECT * FROM read_ndjson('TREE/*/manifests/output/output.manifest',
   union_by_name=true)) TO 'x.parquet' (FORMAT parquet)` in a DuckDB subprocess ("DuckDB raw":
   it loads the JSON without understanding it), each under `/usr/bin/time -v`.
2. **One big job.** The tree's first bounding-box job's output manifest concatenated 20 times
   (400,000 lines at scale 1) as a job of its own (no intermediate manifests): gtlake with 2
   workers against DuckDB with 2 threads, and gtlake with 1 worker against 2 (does one job use
   both cores?). Next to them, "DuckDB flattening": DuckDB itself reading the job with explicit
   column types and writing three flat tables (objects, labels, one row per box with its class
   name and confidence), a fraction of what gtlake writes (no exact text of the labels, no
   quarantine, no Delta log, 3 tables of 16): the floor a compiled engine sets for flattening.
3. **Peak RSS** of every gtlake run (summed over its processes).
4. **Lines per second per task type on one core**: one job of each task type of the tree, each
   ingested in a process pinned to one CPU, by this checkout and by a reference version
   (`--ref`, default commit c7c7ebc, extracted with `git archive` into bench/out/ and run with
   PYTHONPATH in the same virtualenv). After a first ingest that loads the code, `--rounds`
   more in the same process: their median CPU time counts (start-up does not, nor the other
   processes sharing the machine).

Prints a Markdown report and writes it to bench/out/results.md. Usage:

    .venv/bin/python bench/ingest_vs_duckdb.py [--quick] [--rounds 3] [--scale 1] [--ref c7c7ebc]

`--quick` is a smoke run: scale 0.05, one round.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gtlake import jobfiles, synthetic

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
GIB = 1 << 30
TARGET_TREE = 0.5  # gtlake / DuckDB raw, the whole tree
TARGET_SINGLE = 1.5  # gtlake / DuckDB raw, the one big job, 2 workers / 2 threads
TARGET_CORES = 0.6  # gtlake 2 workers / 1 worker, the one big job
TARGET_RSS = 1 * GIB
REFERENCE = "c7c7ebc"
COPIES = 20  # the big job is one bounding-box manifest this many times

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

# DuckDB flattening the big bounding-box job itself: typed columns, three flat Parquet tables.
DUCKDB_FLATTEN_SCRIPT = """\
import sys, duckdb
glob, target, threads = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
if threads:
    con.execute(f"set threads = {int(threads)}")
box = 'STRUCT(class_id INT, top INT, "left" INT, height INT, width INT)'
size = 'STRUCT(width INT, height INT, depth INT)'
meta = ('STRUCT(objects STRUCT(confidence DOUBLE)[], "class-map" MAP(VARCHAR, VARCHAR), '
        'type VARCHAR, "human-annotated" VARCHAR, "creation-date" VARCHAR, "job-name" VARCHAR)')
con.execute(
    "create temp table src as select row_number() over () as line, * from read_json(?, "
    "format='newline_delimited', columns={'source-ref': 'VARCHAR', "
    f"'bounding-box': 'STRUCT(image_size {size}[], annotations {box}[])', "
    f"'bounding-box-metadata': '{meta}'}})",
    [glob],
)
assert con.execute('select count("bounding-box") from src').fetchone()[0], "no boxes read"
out = target.replace("'", "''")
con.execute(f\"\"\"copy (select line, "source-ref" as source_ref from src)
    to '{out}-objects.parquet' (format parquet)\"\"\")
con.execute(f\"\"\"copy (select line, m.type, m."job-name" as job_name,
    m."creation-date" as created, m."human-annotated" as human,
    b.image_size[1].width as width, b.image_size[1].height as height
    from (select line, "bounding-box" b, "bounding-box-metadata" m from src))
    to '{out}-labels.parquet' (format parquet)\"\"\")
con.execute(f\"\"\"copy (select line, item, a.class_id,
    m."class-map"[cast(a.class_id as varchar)] as class_name,
    a.top, a."left", a.width, a.height, o.confidence
    from (select line, m, unnest(b.annotations) as a, unnest(m.objects) as o,
                 generate_subscripts(b.annotations, 1) as item
          from (select line, "bounding-box" b, "bounding-box-metadata" m from src)))
    to '{out}-boxes.parquet' (format parquet)\"\"\")
"""

# One job, ingested 1 + N times in one process pinned to one CPU; the first ingest loads the code,
# the median CPU and wall times of the N others count.
ONE_CORE_SCRIPT = """\
import json, os, shutil, statistics, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
import gtlake
from gtlake.cli import main
tree, lake, out, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cpu, wall = [], []
for _ in range(1 + repeats):
    shutil.rmtree(lake, ignore_errors=True)
    started, clock = time.perf_counter(), time.process_time()
    code = main(["--quiet", "ingest", tree, "--lake", lake, "--full", "--workers", "1"])
    wall.append(time.perf_counter() - started)
    cpu.append(time.process_time() - clock)
    if code:
        sys.exit(f"gtlake ingest exited {code}")
shutil.rmtree(lake, ignore_errors=True)
with open(out, "w") as f:
    json.dump({"cpu": statistics.median(cpu[1:]), "wall": statistics.median(wall[1:]),
               "gtlake": os.path.dirname(gtlake.__file__)}, f)
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


def measure(
    label: str, command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> Run:
    """Run `command` under `/usr/bin/time -v`; fail loudly when it fails."""
    print(f"  {label} ...", end="", flush=True)
    proc = subprocess.Popen(
        ["/usr/bin/time", "-v", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
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


# -- the contenders -----------------------------------------------------------------------------


def gtlake_command(tree: Path, lake: Path, workers: int | None) -> list[str]:
    exe = Path(sys.executable).with_name("gtlake")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "gtlake.cli"]
    command = [*base, "ingest", str(tree), "--lake", str(lake), "--full"]
    return command + (["--workers", str(workers)] if workers else [])


def duckdb_command(glob: str, target: Path, threads: int | None) -> list[str]:
    return [sys.executable, "-c", DUCKDB_SCRIPT, glob, str(target), str(threads or "")]


def run_duckdb_flatten(glob: str, threads: int, label: str) -> Run:
    target = OUT / "tmp-duckdb-flat"
    tables = [OUT / f"{target.name}-{table}.parquet" for table in ("objects", "labels", "boxes")]
    try:
        command = [sys.executable, "-c", DUCKDB_FLATTEN_SCRIPT, glob, str(target), str(threads)]
        return measure(label, command)
    finally:
        for table in tables:
            table.unlink(missing_ok=True)


def run_gtlake(tree: Path, workers: int | None, label: str) -> Run:
    lake = OUT / "tmp-lake"
    shutil.rmtree(lake, ignore_errors=True)
    try:
        return measure(label, gtlake_command(tree, lake, workers))
    finally:
        shutil.rmtree(lake, ignore_errors=True)


def run_duckdb(glob: str, threads: int | None, label: str) -> Run:
    target = OUT / "tmp-duckdb.parquet"
    target.unlink(missing_ok=True)
    try:
        return measure(label, duckdb_command(glob, target, threads))
    finally:
        target.unlink(missing_ok=True)


def output_glob(tree: Path) -> str:
    return f"{tree}/*/manifests/output/output.manifest"


# -- the one big job and the one-job-per-type trees ---------------------------------------------


def big_job(tree: Path, copies: int = COPIES) -> Path:
    """A tree of one bounding-box job: the tree's first one's output manifest `copies` times."""
    source = sorted(tree.glob("*-object-detection"))[0]
    manifest = source / "manifests/output/output.manifest"
    data = manifest.read_bytes()
    if not data.endswith(b"\n"):
        data += b"\n"
    lines = data.count(b"\n") * copies
    big = OUT / f"big-{source.name}-{lines}"
    target = big / f"{source.name}-x{copies}" / "manifests/output/output.manifest"
    if not target.is_file() or target.stat().st_size != len(data) * copies:
        shutil.rmtree(big, ignore_errors=True)
        target.parent.mkdir(parents=True)
        with open(target, "wb") as out:
            for _ in range(copies):
                out.write(data)
        print(f"wrote {target.relative_to(REPO)}: {lines:,} lines", flush=True)
    return big


def type_of(job: str) -> str:
    """The task type part of a synthetic job's name (`synth-004-object-detection`)."""
    return job.split("-", 2)[2]


def one_job_trees(tree: Path) -> dict[str, Path]:
    """For each task type of the tree (chained jobs included), a tree holding its first job,
    hard-linked from the big tree (no copy)."""
    trees: dict[str, Path] = {}
    for job in sorted(p for p in tree.iterdir() if p.is_dir()):
        kind = type_of(job.name)
        if kind in trees:
            continue
        target = OUT / f"types-{tree.name}" / kind
        if not (target / job.name).is_dir():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            shutil.copytree(job, target / job.name, copy_function=os.link)
        trees[kind] = target
    return trees


def reference_code(commit: str) -> Path:
    """`git archive COMMIT gtlake` extracted under bench/out/ (for PYTHONPATH)."""
    target = OUT / f"ref-{commit}"
    if (target / "gtlake" / "__init__.py").is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "gtlake"], check=True, capture_output=True
    ).stdout
    tar = OUT / f"ref-{commit}.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as t:
        t.extractall(target, filter="data")
    tar.unlink()
    return target


@dataclass
class OneCore:
    seconds: float  # CPU time of one ingest (the process is pinned to one CPU)
    wall: float
    run: Run


def run_one_core(tree: Path, pythonpath: Path, label: str, repeats: int) -> OneCore:
    lake = OUT / "tmp-lake-one-core"
    out = OUT / "tmp-one-core.json"
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    command = [sys.executable, "-c", ONE_CORE_SCRIPT, str(tree), str(lake), str(out), str(repeats)]
    try:
        run = measure(label, command, env=env, cwd=pythonpath)  # not the checkout: no ./gtlake
        result = json.loads(out.read_text())
        if Path(result["gtlake"]).parent.resolve() != pythonpath.resolve():
            sys.exit(f"{label}: ran gtlake from {result['gtlake']}, not from {pythonpath}")
        return OneCore(result["cpu"], result["wall"], run)
    finally:
        shutil.rmtree(lake, ignore_errors=True)
        out.unlink(missing_ok=True)


def count_lines(tree: Path) -> int:
    lines = 0
    for path in tree.glob("*/manifests/output/output.manifest"):
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 24):
                lines += chunk.count(b"\n")
    return lines


# -- the report ---------------------------------------------------------------------------------


def mib(n: float) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


@dataclass
class Summary:
    """Medians over the rounds of a contender; the largest memory seen in any round."""

    wall: float
    cpu: float
    tree_rss: int
    max_rss: int
    walls: list[float]


def summary(runs: list[Run]) -> Summary:
    return Summary(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        max(r.tree_rss for r in runs),
        max(r.max_rss for r in runs),
        [r.wall for r in runs],
    )


def walls(s: Summary) -> str:
    return ", ".join(f"{w:.1f}" for w in s.walls)


def tree_section(stats: TreeStats, g: Summary, d: Summary, rounds: int) -> str:
    ratio = g.wall / d.wall
    return "\n".join(
        [
            f"Input: {stats.jobs} jobs, {stats.lines:,} output lines, "
            f"{stats.output_bytes / 1e6:,.0f} MB of output manifests "
            f"({stats.total_bytes / 1e6:,.0f} MB in the whole tree with intermediate manifests "
            f"and worker responses, which only gtlake reads). Median of {rounds} alternating "
            "rounds; gtlake with its default workers (one per CPU), DuckDB with its default "
            "threads.",
            "",
            "| measure | gtlake ingest | DuckDB raw | gtlake / DuckDB | target | met |",
            "|---|---:|---:|---:|---|---|",
            f"| wall time, median | {g.wall:.2f} s | {d.wall:.2f} s | {ratio:.2f} "
            f"| ≤ {TARGET_TREE} | {met(ratio <= TARGET_TREE)} |",
            f"| wall time, every round | {walls(g)} s | {walls(d)} s | | | |",
            f"| CPU time (user + sys), median | {g.cpu:.1f} s | {d.cpu:.1f} s "
            f"| {g.cpu / d.cpu:.2f} | | |",
            f"| lines per second | {stats.lines / g.wall:,.0f} | {stats.lines / d.wall:,.0f} "
            "| | | |",
            f"| peak RSS, all processes | {mib(g.tree_rss)} | {mib(d.tree_rss)} "
            f"| {g.tree_rss / d.tree_rss:.2f} | gtlake ≤ 1 GiB | {met(g.tree_rss <= TARGET_RSS)} |",
        ]
    )


def single_section(
    lines: int, size: int, g2: Summary, g1: Summary, d2: Summary, f2: Summary, rounds: int
) -> str:
    single, cores = g2.wall / d2.wall, g2.wall / g1.wall
    floor = f2.wall / d2.wall
    return "\n".join(
        [
            f"Input: one bounding-box job of {lines:,} lines ({size / 1e6:,.0f} MB, the tree's "
            f"first bounding-box manifest {COPIES} times, no intermediate manifests). Median of "
            f"{rounds} alternating rounds. DuckDB flattening: DuckDB itself writing three flat "
            "tables of the job (objects, labels, boxes with class names and confidences; no "
            "label text, no quarantine, no Delta log).",
            "",
            "| measure | gtlake, 2 workers | gtlake, 1 worker | DuckDB raw, 2 threads "
            "| DuckDB flattening, 2 threads | ratio | target | met |",
            "|---|---:|---:|---:|---:|---|---|---|",
            f"| wall time, median | {g2.wall:.2f} s | {g1.wall:.2f} s | {d2.wall:.2f} s "
            f"| {f2.wall:.2f} s | gtlake 2 workers / DuckDB raw = {single:.2f} "
            f"| ≤ {TARGET_SINGLE} | {met(single <= TARGET_SINGLE)} |",
            f"| flattening floor | | | | | DuckDB flattening / DuckDB raw = {floor:.2f} | | |",
            f"| cores | | | | | gtlake 2 workers / 1 worker = {cores:.2f} | ≤ {TARGET_CORES} "
            f"| {met(cores <= TARGET_CORES)} |",
            f"| wall time, every round | {walls(g2)} s | {walls(g1)} s | {walls(d2)} s "
            f"| {walls(f2)} s | | | |",
            f"| CPU time (user + sys), median | {g2.cpu:.1f} s | {g1.cpu:.1f} s | {d2.cpu:.1f} s "
            f"| {f2.cpu:.1f} s | | | |",
            f"| lines per second | {lines / g2.wall:,.0f} | {lines / g1.wall:,.0f} "
            f"| {lines / d2.wall:,.0f} | {lines / f2.wall:,.0f} | | | |",
            f"| peak RSS, all processes | {mib(g2.tree_rss)} | {mib(g1.tree_rss)} "
            f"| {mib(d2.tree_rss)} | {mib(f2.tree_rss)} | | gtlake ≤ 1 GiB "
            f"| {met(max(g2.tree_rss, g1.tree_rss) <= TARGET_RSS)} |",
        ]
    )


def rss_section(runs: dict[str, Run]) -> str:
    rows = [
        f"| {label} | {mib(run.tree_rss)} | {mib(run.max_rss)} "
        f"| {met(run.tree_rss <= TARGET_RSS)} |"
        for label, run in runs.items()
    ]
    return "\n".join(
        [
            "The largest peak of each gtlake run, summed over its processes (sampled every 50 ms) "
            "and of its largest process (`/usr/bin/time -v`).",
            "",
            "| gtlake run | peak RSS, all processes | peak RSS, largest process | ≤ 1 GiB |",
            "|---|---:|---:|---|",
            *rows,
        ]
    )


def types_section(rows: list[tuple[str, int, OneCore, OneCore]], ref: str, rounds: int) -> str:
    out = [
        "One job of each task type of the tree, ingested (`--workers 1`) in a process pinned to "
        f"one CPU: after a first ingest that loads the code, {rounds} more, whose median CPU time "
        "(user + sys of the process: the machine is shared, and CPU time is what one core "
        f"spends) gives the lines per second. `before` is commit {ref}, run from `git archive` "
        "with PYTHONPATH in the same virtualenv, alternating with now.",
        "",
        "| task type (job) | lines | lines/s now | lines/s before | now / before "
        "| wall s now, before | peak RSS now |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, lines, now, before in rows:
        out.append(
            f"| {kind} | {lines:,} | {lines / now.seconds:,.0f} | {lines / before.seconds:,.0f} "
            f"| {before.seconds / now.seconds:.2f} | {now.wall:.2f}, {before.wall:.2f} "
            f"| {mib(now.run.tree_rss)} |"
        )
    return "\n".join(out)


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
    parser.add_argument("--quick", action="store_true", help="smoke run: scale 0.05, one round")
    parser.add_argument("--scale", type=float, help="fraction of the full size (default 1)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per contender (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, help="gtlake workers on the tree (default: gtlake's, the CPU count)"
    )
    parser.add_argument(
        "--threads", type=int, help="DuckDB threads on the tree (default: DuckDB's)"
    )
    parser.add_argument("--ref", default=REFERENCE, help="the `before` commit for lines per second")
    parser.add_argument("--skip-types", action="store_true", help="no lines-per-second section")
    args = parser.parse_args(argv)
    scale = args.scale if args.scale is not None else (0.05 if args.quick else 1.0)
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if not 0 < scale <= 10:
        parser.error("--scale must be in (0, 10]")
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    if not Path("/usr/bin/time").exists():
        parser.error("/usr/bin/time is needed (GNU time, for -v)")
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    lines = max(1, round(20_000 * scale))
    tree = cached_tree(f"tree-36x{lines}-seed{args.seed}", jobs=36, lines=lines, seed=args.seed)
    big = big_job(tree)
    stats = tree_stats(tree)
    big_stats = tree_stats(big)
    warm_cache(tree)
    warm_cache(big)
    rss: dict[str, Run] = {}

    print(f"the whole tree ({stats.lines:,} lines), {rounds} rounds:", flush=True)
    g_runs, d_runs = [], []
    for _ in range(rounds):
        g_runs.append(run_gtlake(tree, args.workers, "gtlake ingest   "))
        d_runs.append(run_duckdb(output_glob(tree), args.threads, "duckdb raw      "))
    rss[f"the whole tree, {args.workers or 'default'} workers"] = max(
        g_runs, key=lambda r: r.tree_rss
    )

    print(f"one job of {big_stats.lines:,} lines, {rounds} rounds:", flush=True)
    g2_runs, g1_runs, d2_runs, f2_runs = [], [], [], []
    for _ in range(rounds):
        g2_runs.append(run_gtlake(big, 2, "gtlake 2 workers"))
        d2_runs.append(run_duckdb(output_glob(big), 2, "duckdb 2 threads"))
        g1_runs.append(run_gtlake(big, 1, "gtlake 1 worker "))
        f2_runs.append(run_duckdb_flatten(output_glob(big), 2, "duckdb flattens "))
    rss["the big job, 2 workers"] = max(g2_runs, key=lambda r: r.tree_rss)
    rss["the big job, 1 worker"] = max(g1_runs, key=lambda r: r.tree_rss)

    sections = [
        f"# gtlake ingest vs DuckDB raw (`read_ndjson` → Parquet), scale {scale:g}",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}; load average before the run: "
        f"{LOAD_BEFORE}.",
        "",
        "## The whole tree",
        "",
        tree_section(stats, summary(g_runs), summary(d_runs), rounds),
        "",
        "## One big job",
        "",
        single_section(
            big_stats.lines,
            big_stats.output_bytes,
            summary(g2_runs),
            summary(g1_runs),
            summary(d2_runs),
            summary(f2_runs),
            rounds,
        ),
    ]
    if not args.skip_types:
        print("lines per second per task type, one core (now, before):", flush=True)
        ref = reference_code(args.ref)
        rows = []
        for kind, one in one_job_trees(tree).items():
            count = count_lines(one)
            warm_cache(one)
            now = run_one_core(one, REPO, f"{kind[:16]:16s}", rounds)
            before = run_one_core(one, ref, f"{'  before':16s}", rounds)
            rows.append((kind, count, now, before))
            rss[f"{kind}, one core"] = now.run
        sections += [
            "",
            "## Lines per second per task type, one core",
            "",
            types_section(rows, args.ref, rounds),
        ]
    sections += ["", "## Peak memory", "", rss_section(rss)]
    took = time.perf_counter() - started
    sections += [
        "",
        f"The whole benchmark took {took / 60:.1f} minutes; load average after: {load()}.",
    ]
    report = "\n".join(sections) + "\n"
    (OUT / "results.md").write_text(report)
    print()
    print(report)
    print(f"written to {(OUT / 'results.md').relative_to(REPO)}")
    return 0


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


LOAD_BEFORE = load()

if __name__ == "__main__":
    sys.exit(main())
