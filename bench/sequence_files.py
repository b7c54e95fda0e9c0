"""Bench: a video job's sequence files (one `SeqLabel.json` per line), before and after the batched
path (issue 8, item 6), side by side in one run.

"Before" is the code at a commit (`--before`, default 2403179, the base the batched path started
from), extracted with `git archive` into `bench/out/seq-<commit>/` and put first on `PYTHONPATH`;
"after" is this working tree. Both run `gtlake ingest <tree> --lake <lake> --full --workers 1` in
a fresh interpreter each (the same `.venv`), alternating within each round; the medians are
reported with after / before as a ratio. Timed in-process: the whole ingest call and the time
spent in `gtlake.frames.frame_tables` (reading, parsing and stamping the sequence files).

- **fresh lake**: the first ingest; every sequence file is read and parsed.
- **re-ingest**: `--full` again into that lake; the files are unchanged, so their rows are taken
  from the lake and stamped again (no file read). The before side is slow here (minutes for
  20,000 files), so it runs `--kept-rounds` times (default 1).
- **local reads**: the files alone, read 256 at a time through fsspec's `cat_ranges` (before)
  and `gtlake.storage.fetch_all` (after), in this interpreter.

The job: `--job` (a job directory; default the `make bench` tree's first video job, else a
synthetic 20,000-line video tracking job written under bench/out/).

    .venv/bin/python bench/sequence_files.py [--job DIR] [--rounds 3] [--kept-rounds 1]

Prints a Markdown table and writes it to bench/out/sequence_files.md.
"""

from __future__ import annotations

import argparse
import glob
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BENCH_TREE_JOB = OUT / "tree-36x20000-seed0" / "synth-007-video-object-tracking"

# run in a fresh interpreter: ingest, timing frame_tables; prints "whole frame_tables"
_RUN = """
import sys, time
import gtlake.frames, gtlake.ingest
from gtlake.cli import main
spent = [0.0]
inner = gtlake.frames.frame_tables
def timed(*args, **kwargs):
    start = time.perf_counter()
    for item in inner(*args, **kwargs):
        spent[0] += time.perf_counter() - start
        yield item
        start = time.perf_counter()
    spent[0] += time.perf_counter() - start
gtlake.ingest.frame_tables = timed
start = time.perf_counter()
code = main(["ingest", sys.argv[1], "--lake", sys.argv[2], "--full", "--workers", "1"])
assert code == 0, code
print(gtlake.__file__, time.perf_counter() - start, spent[0])
"""


def _before(commit: str) -> Path:
    target = OUT / f"seq-{commit}"
    if not (target / "gtlake").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit, "gtlake"], cwd=ROOT, check=True,
                                 capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _ingest(path: Path, tree: Path, lake: Path) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(tree), str(lake)],
        env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"},
        cwd=tree.parent,  # not the checkout: `-c` puts the working directory first on sys.path
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    where, whole, frames = done.stdout.split()[-3:]
    assert where.startswith(str(path)), where  # the side's own code
    return float(whole), float(frames)


def _reads(job: Path) -> tuple[float, float]:
    from fsspec.implementations.local import LocalFileSystem

    from gtlake.storage import fetch_all

    paths = sorted(glob.glob(f"{job}/annotations/consolidated-annotation/output/*/SeqLabel.json"))
    fs = LocalFileSystem()
    start = time.perf_counter()
    for at in range(0, len(paths), 256):
        part = paths[at : at + 256]
        fs.cat_ranges(part, [0] * len(part), [None] * len(part), on_error="return")
    middle = time.perf_counter()
    for at in range(0, len(paths), 256):
        fetch_all(fs, paths[at : at + 256])
    return middle - start, time.perf_counter() - middle


def _job(given: str | None, work: Path) -> Path:
    if given:
        return Path(given)
    if BENCH_TREE_JOB.is_dir():
        return BENCH_TREE_JOB
    from gtlake.synthetic import write_synthetic

    made = OUT / "seq-video-20000"
    if not made.is_dir():
        write_synthetic(made, 1, 20_000, kinds=["video-object-tracking"], chained=False,
                        intermediates=0)  # fmt: skip
    return next(made.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--job")
    parser.add_argument("--before", default="2403179")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kept-rounds", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="seqbench-"))
    try:
        job = _job(args.job, work)
        tree = work / "tree"
        tree.mkdir()
        shutil.copytree(job, tree / job.name)
        sides = {"before": _before(args.before), "after": ROOT}
        fresh: dict[str, list[tuple[float, float]]] = {s: [] for s in sides}
        kept: dict[str, list[tuple[float, float]]] = {s: [] for s in sides}
        reads: dict[str, list[float]] = {"before": [], "after": []}
        for round_ in range(args.rounds):
            for side, path in sides.items():
                lake = work / f"lake-{side}"
                shutil.rmtree(lake, ignore_errors=True)
                fresh[side].append(_ingest(path, tree, lake))
                if side == "after" or round_ < args.kept_rounds:
                    kept[side].append(_ingest(path, tree, lake))
            before, after = _reads(tree / job.name)
            reads["before"].append(before)
            reads["after"].append(after)
        lines = [
            f"Job `{job.name}` ({len(list((tree / job.name).rglob('SeqLabel.json')))} sequence "
            f"files), one worker; medians of {args.rounds} rounds (re-ingest before: "
            f"{min(args.kept_rounds, args.rounds)}).",
            "",
            "| measure | before | after | after / before |",
            "|---|---:|---:|---:|",
        ]
        for name, runs in (("fresh lake", fresh), ("re-ingest (rows kept)", kept)):
            for label, at in (("whole ingest", 0), ("frame_tables", 1)):
                b = statistics.median(r[at] for r in runs["before"])
                a = statistics.median(r[at] for r in runs["after"])
                lines.append(f"| {name}: {label} | {b:.2f} s | {a:.2f} s | {a / b:.2f} |")
        b, a = statistics.median(reads["before"]), statistics.median(reads["after"])
        lines.append(f"| local reads of the files | {b:.2f} s | {a:.2f} s | {a / b:.2f} |")
        text = "\n".join(lines) + "\n"
        print(text)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "sequence_files.md").write_text(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
