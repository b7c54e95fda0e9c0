"""Benchmark: lines per second of the flattening, per task type, on one core.

Generates (once, cached in bench/out/engine-types/) one synthetic job per task type (20,000 lines
each, with the chained adjustment, verification and second-question jobs), then times, for each
job, reading + parsing + flattening its output manifest into Arrow tables (no Parquet writing),
as CPU time of this process (`time.process_time`, so other work on a shared machine weighs less):

- `engine`: the normal path (the vectorised engine, the reference interpreter for what it refuses);
- `reference`: every line through the reference interpreter (`GTLAKE_REFERENCE=1`);
- `--against DIR`: the same timing with the `gtlake` package found under DIR (another checkout,
  e.g. `git archive <commit> gtlake | tar -x -C DIR`), in a subprocess, side by side.

Rounds alternate between the variants; the best of `--rounds` is kept. Usage:

    .venv/bin/python bench/engine_types.py [--lines 20000] [--rounds 3] [--against DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "engine-types"

TIMER = r"""
import json, os, sys, time
from gtlake import ingest
from gtlake.manifest import Parsed, parse, read_blocks
from gtlake.schemas import TABLES

def run(path):
    attributes, lines = {}, 0
    started = time.process_time()
    with open(path, "rb") as stream:
        for block in read_blocks(stream):
            parsed = [parse(raw) for raw in block]
            sample = [p for p in parsed[:200] if type(p) is Parsed]
            own = ingest._provisional_own("job", sample)
            rows = ingest._flatten_block("job", attributes, "m", parsed, own)
            for table in TABLES:
                rows.arrow(table)
            lines += len(parsed)
    return lines, time.process_time() - started

out = {}
for path in sys.argv[1:]:
    lines, seconds = run(path)
    out[path] = lines / seconds
print(json.dumps(out))
"""


def manifests(lines: int) -> list[Path]:
    from gtlake.synthetic import write_synthetic

    tree = OUT / f"tree-{lines}"
    if not tree.is_dir():
        write_synthetic(tree, jobs=9, lines=lines, seed=0, chained=True, intermediates=0)
    return sorted(tree.glob("*/manifests/output/output.manifest"))


def measure(paths: list[Path], env: dict) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", TIMER, *map(str, paths)],
        env={**os.environ, **env}, capture_output=True, text=True, check=True, cwd="/",
    )  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, help="a directory holding another `gtlake`")
    args = parser.parse_args(argv)
    paths = manifests(args.lines)
    here = str(HERE.parent)
    variants = {
        "engine": {"PYTHONPATH": here, "GTLAKE_REFERENCE": ""},
        "reference": {"PYTHONPATH": here, "GTLAKE_REFERENCE": "1"},
    }
    if args.against:
        variants[f"{args.against.name}"] = {"PYTHONPATH": str(args.against.resolve())}
    best: dict[str, dict[str, float]] = {v: {} for v in variants}
    started = time.perf_counter()
    for _ in range(args.rounds):
        for name, env in variants.items():
            for path, rate in measure(paths, env).items():
                best[name][path] = max(rate, best[name].get(path, 0.0))
    names = list(variants)
    took = time.perf_counter() - started
    print(f"lines/s on one core (CPU time, best of {args.rounds}; {took:.0f} s in all)")
    print("| job | " + " | ".join(names) + " | engine / " + names[-1] + " |")
    print("|---|" + "---:|" * (len(names) + 1))
    for path in paths:
        key = str(path)
        job = path.parent.parent.parent.name
        rates = [best[n][key] for n in names]
        ratio = best["engine"][key] / best[names[-1]][key]
        print(f"| {job} | " + " | ".join(f"{r:,.0f}" for r in rates) + f" | {ratio:.1f} × |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
