"""Bench: peak memory of `gtlake sql LAKE "select * from objects"` on a 500k-line lake.

1. Builds (once per parameters and lake-writing code, cached in bench/out/sql_memory/) a lake
   with the command line itself:
   `gtlake demo TREE --jobs 10 --lines 36000` (about 500k manifest lines with the chained jobs),
   then `gtlake ingest TREE --lake LAKE`.
2. Runs, one after the other in child processes, and reads each one's peak RSS from `wait4`:
   - `gtlake sql LAKE "select * from objects"` (table, the default --max-rows 40);
   - the same with `--max-rows 0` (every row, aligned batch by batch) and with `--format csv`,
     output to /dev/null;
   - the anchor: the same query through the same views, the whole result fetched into Python
     (`fetchall`), which is what the table printer did before it streamed.

Prints a Markdown report (figures and ratios to the anchor) and writes it to
bench/out/sql_memory.md. Usage:

    .venv/bin/python bench/sql_memory.py [--jobs 10] [--lines 36000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
GTLAKE = [sys.executable, "-m", "gtlake.cli"]
QUERY = "select * from objects"
MIB = 1 << 20
TARGET = 300 * MIB

ANCHOR = """\
import sys
from gtlake.storage import Location
from gtlake.views import connect
rows = connect(Location(sys.argv[1])).execute(sys.argv[2]).fetchall()
print(len(rows))
"""


def build_lake(jobs: int, lines: int) -> tuple[Path, int]:
    """The cached lake (built again when the parameters change) and its `objects` row count."""
    tree, lake, stamp = (
        OUT / "sql_memory" / "tree",
        OUT / "sql_memory" / "lake",
        OUT / "sql_memory.json",
    )
    # built again when the code that writes the lake changes too (a lake of an older writer
    # measured 2.4 GB for what the current one reads in 259 MB)
    writers = ("writer.py", "lake.py", "ingest.py")
    code = hashlib.sha256(b"".join((HERE.parent / "gtlake" / f).read_bytes() for f in writers))
    wanted = {"jobs": jobs, "lines": lines, "writer": code.hexdigest()[:16]}
    if not (lake.is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == wanted):
        shutil.rmtree(OUT / "sql_memory", ignore_errors=True)
        stamp.unlink(missing_ok=True)
        started = time.perf_counter()
        run([*GTLAKE, "demo", str(tree), "--jobs", str(jobs), "--lines", str(lines)])
        run([*GTLAKE, "-q", "ingest", str(tree), "--lake", str(lake)])
        print(f"built {lake.relative_to(HERE.parent)} in {time.perf_counter() - started:.0f}s")
        stamp.write_text(json.dumps(wanted))
    count = subprocess.run(
        [*GTLAKE, "sql", str(lake), "select count(*) from objects", "--format", "csv"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()[1]  # fmt: skip
    return lake, int(count)


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def peak_rss(command: list[str]) -> tuple[int, float]:
    """The child's peak resident set size in bytes and its wall time; output to /dev/null."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as null:
        child = subprocess.Popen(command, stdout=null, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - started
    error = child.stderr.read().decode() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {error}")
    return usage.ru_maxrss * 1024, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--lines", type=int, default=36000)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    lake, rows = build_lake(args.jobs, args.lines)
    cases = {
        f'gtlake sql LAKE "{QUERY}"': [*GTLAKE, "sql", str(lake), QUERY],
        f'gtlake sql LAKE "{QUERY}" --max-rows 0': [*GTLAKE, "sql", str(lake), QUERY,
                                                    "--max-rows", "0"],
        f'gtlake sql LAKE "{QUERY}" --format csv': [*GTLAKE, "sql", str(lake), QUERY,
                                                    "--format", "csv"],
        "anchor: the same query fetched whole (fetchall)": [sys.executable, "-c", ANCHOR,
                                                            str(lake), QUERY],
    }  # fmt: skip
    measured = {name: peak_rss(command) for name, command in cases.items()}
    anchor = measured["anchor: the same query fetched whole (fetchall)"][0]
    lines = [
        f"# `gtlake sql` peak memory, {rows:,} rows in `objects`",
        "",
        f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs. "
        f"Target: the default command under {TARGET // MIB} MB.",
        "",
        "| command | peak RSS | ratio to the anchor | wall time |",
        "|---|---:|---:|---:|",
    ]
    for name, (rss, took) in measured.items():
        lines.append(f"| `{name}` | {rss / MIB:.0f} MB | {rss / anchor:.2f} | {took:.1f} s |")
    report = "\n".join(lines) + "\n"
    print(report)
    (OUT / "sql_memory.md").write_text(report)


if __name__ == "__main__":
    main()
