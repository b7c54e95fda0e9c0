"""Bench: peak memory of ingesting one huge manifest line, as a multiple of the line's size.

For each shape of line (a long passthrough string, a passthrough of many small JSON objects, a
text-classification line whose `source` is the long text, an object-detection label with many
boxes), a job whose manifest is that single line is ingested (`--workers 1`, local lake) in a
fresh child process, and the child reports how far its peak resident memory (`ru_maxrss`) rose
during the ingest, after a warm-up ingest of a tiny job (Arrow and the Parquet writer allocate
~50 MB once, whatever the input). The anchor, measured the same way in the same run: the
standard library's `json.loads` of the same line (what a plain parse costs).

    .venv/bin/python bench/huge_line.py [--mb 50] [--shapes text,nested,source,boxes]

Figures are ratios to the line size; they do not depend on the machine's speed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUTPUT = "manifests/output/output.manifest"
META = ('"type":"groundtruth/{}","human-annotated":"yes","creation-date":"2020-01-01T00:00:00",'
        '"job-name":"labeling-job/job"')  # fmt: skip


def huge_line(shape: str, size: int) -> bytes:
    """One manifest line of about `size` bytes."""
    if shape == "text":
        return b'{"source-ref":"s3://b/a.jpg","notes":"' + b"x" * size + b'"}'
    if shape == "nested":
        item = b'{"k":[1,2,3],"s":"abc"},'
        return b'{"source-ref":"s3://b/a.jpg","extra":[' + (item * (size // len(item)))[:-1] + b"]}"
    if shape == "source":
        meta = '{"class-name":"a","confidence":0.9,' + META.format("text-classification") + "}"
        text = b"w " * (size // 2)
        return b'{"source":"' + text + b'","c":0,"c-metadata":' + meta.encode() + b"}"
    if shape == "boxes":
        box = b'{"class_id":1,"left":10,"top":20,"width":30,"height":40},'
        n = size // (len(box) + 19)
        value = b'{"image_size":[{"width":1,"height":1,"depth":3}],"annotations":['
        value += (box * n)[:-1] + b"]}"
        objects = (b'{"confidence":0.9},' * n)[:-1]
        meta = b'{"objects":[' + objects + b'],"class-map":{"1":"a"},'
        meta += META.format("object-detection").encode() + b"}"
        return b'{"source-ref":"s3://b/a.jpg","bb":' + value + b',"bb-metadata":' + meta + b"}"
    raise ValueError(shape)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, source: Path, lake: Path) -> None:
    """In a fresh process: warm up, then print the peak memory growth of one step (MB)."""
    from gtlake.ingest import ingest
    from gtlake.storage import Location

    tiny = source.parent / "tiny"
    (tiny / "job" / OUTPUT).parent.mkdir(parents=True, exist_ok=True)
    (tiny / "job" / OUTPUT).write_bytes(b'{"source-ref":"s3://b/0.jpg","x":[1]}\n')
    ingest(Location(str(tiny)), Location(str(lake) + "-tiny"), workers=1)
    if mode == "json":
        data = (source / "job" / OUTPUT).read_bytes()
        before = _peak_mb()
        json.loads(data)
    else:
        before = _peak_mb()
        report = ingest(Location(str(source)), Location(str(lake)), workers=1)
        assert not report.failed and report.jobs[0].lines == 1, report
    print(json.dumps({"growth_mb": _peak_mb() - before}))


def measure(mode: str, source: Path, lake: Path) -> float:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(source), str(lake)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])["growth_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50, help="line size in MiB")
    parser.add_argument("--shapes", default="text,nested,source,boxes")
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "SOURCE", "LAKE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        mode, source, lake = args.child
        child(mode, Path(source), Path(lake))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; line {args.mb} MiB")
    print(f"{'shape':8} {'line MiB':>8} {'gtlake peak':>12} {'x line':>7} {'json.loads':>11} "
          f"{'x line':>7} {'gtlake/json':>11} {'seconds':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="gtlake-huge-") as tmp:
        for shape in args.shapes.split(","):
            source = Path(tmp) / shape / "src"
            manifest = source / "job" / OUTPUT
            manifest.parent.mkdir(parents=True)
            manifest.write_bytes(huge_line(shape, args.mb << 20) + b"\n")
            size = manifest.stat().st_size / 2**20
            started = time.perf_counter()
            ours = measure("ingest", source, Path(tmp) / shape / "lake")
            seconds = time.perf_counter() - started
            anchor = measure("json", source, Path(tmp) / shape / "lake-json")
            print(f"{shape:8} {size:8.0f} {ours:10.0f}MB {ours / size:7.2f} {anchor:9.0f}MB "
                  f"{anchor / size:7.2f} {ours / anchor:11.2f} {seconds:8.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
