"""Benchmark: candidate decoders for the vectorised engine (issue 8, "What to build" 2).

Each candidate turns one job's output manifest into the same typed Arrow columns: a `labels`
table (one row per line: line number, source-ref, the label value's typed fields, the metadata's
class-map as a map, type, job-name, human-annotated, creation-date) and a child table (`boxes`:
one row per box with its confidence; `classes`: one row per class id of a multi-label line). The
candidates:

- **msgspec structs**: typed structs built at run time with `msgspec.defstruct` and `rename` for
  the job's attribute names, decoded a block at a time (`decode_lines`); the columns are then
  gathered from the structs by Python list comprehensions (per box, in Python).
- **DuckDB `read_json`** with explicit `columns` (`MAP(VARCHAR, VARCHAR)` for the class-map),
  2 threads; the child table with `unnest`.
- **pyarrow JSON** (`pyarrow.json.read_json` with an explicit schema, its own threads); the child
  table with list kernels (`list_flatten`, `list_parent_indices`). It cannot read a map with
  free keys (the class-map), so that column is missing from its output.
- the anchor, **generic decode**: msgspec decoding every line into Python dicts and lists (no
  columns at all): what decoding alone costs.

Inputs: the bench tree's first bounding-box job and first multi-label image job (20,000 lines
each at scale 1; `bench/ingest_vs_duckdb.py` generates and caches the tree). The tables of every
candidate are checked equal (pyarrow's without the class-map). Median of `--rounds` runs in one
process, alternating; prints a Markdown table and writes bench/out/decoders.md.

    .venv/bin/python bench/decoders.py [--quick] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_vs_duckdb import OUT, cached_tree, load, machine  # noqa: E402

BLOCK = 4 << 20
META = ["type", "job-name", "human-annotated", "creation-date"]
LABELS_COMMON = [
    ("line", pa.int64()),
    ("source_ref", pa.string()),
]
META_FIELDS = [(m.replace("-", "_"), pa.string()) for m in META]
BOXES = pa.schema(
    [
        ("line", pa.int64()),
        ("class_id", pa.int64()),
        ("left", pa.float64()),
        ("top", pa.float64()),
        ("width", pa.float64()),
        ("height", pa.float64()),
        ("confidence", pa.float64()),
    ]
)
CLASSES = pa.schema([("line", pa.int64()), ("class_id", pa.int64())])
CLASS_MAP = pa.map_(pa.string(), pa.string())
LABELS = {
    "boxes": pa.schema(
        [
            *LABELS_COMMON,
            ("width", pa.int64()),
            ("height", pa.int64()),
            ("depth", pa.int64()),
            ("class_map", CLASS_MAP),
            *META_FIELDS,
        ]
    ),  # fmt: skip
    "classes": pa.schema(
        [
            *LABELS_COMMON,
            ("class_map", CLASS_MAP),
            ("confidence_map", pa.map_(pa.string(), pa.float64())),
            *META_FIELDS,
        ]
    ),  # fmt: skip
}


def attribute_of(manifest: Path) -> str:
    """The job's own label attribute: the key whose `-metadata` names this job."""
    first = msgspec.json.decode(manifest.open("rb").readline())
    job = manifest.parents[2].name
    for key, value in first.items():
        if key.endswith("-metadata") and str(value.get("job-name", "")).endswith(job):
            return key[: -len("-metadata")]
    raise SystemExit(f"{manifest}: no attribute of job {job}")


def blocks(path: Path):
    with open(path, "rb") as stream:
        rest = b""
        while block := stream.read(BLOCK):
            data = rest + block
            cut = data.rfind(b"\n") + 1
            yield data[:cut]
            rest = data[cut:]
        if rest:
            yield rest


# -- msgspec typed structs ----------------------------------------------------------------------


def msgspec_candidate(kind: str, attribute: str) -> Callable[[Path], tuple[pa.Table, pa.Table]]:
    meta_fields = [(m.replace("-", "_"), str | None, None) for m in META]
    meta_rename = {m.replace("-", "_"): m for m in META}
    if kind == "boxes":
        box = msgspec.defstruct(
            "Box", [("class_id", int), ("left", float), ("top", float), ("width", float),
                    ("height", float)]
        )  # fmt: skip
        size = msgspec.defstruct("Size", [("width", int), ("height", int), ("depth", int)])
        value = msgspec.defstruct("Value", [("image_size", list[size]), ("annotations", list[box])])
        obj = msgspec.defstruct("Obj", [("confidence", float | None, None)])
        meta = msgspec.defstruct(
            "Meta",
            [("objects", list[obj], []), ("class_map", dict[str, str], {}), *meta_fields],
            rename={"class_map": "class-map", **meta_rename},
        )
    else:
        value = list[int]
        meta = msgspec.defstruct(
            "Meta",
            [("class_map", dict[str, str], {}), ("confidence_map", dict[str, float], {}),
             *meta_fields],
            rename={"class_map": "class-map", "confidence_map": "confidence-map", **meta_rename},
        )  # fmt: skip
    line = msgspec.defstruct(
        "Line",
        [("source_ref", str | None, None), ("value", value), ("meta", meta)],
        rename={"source_ref": "source-ref", "value": attribute, "meta": f"{attribute}-metadata"},
        kw_only=True,
    )
    decode = msgspec.json.Decoder(line).decode_lines

    def run(path: Path) -> tuple[pa.Table, pa.Table]:
        labels, children = [], []
        start = 0
        for block in blocks(path):
            rows = decode(block)
            labels.append(_msgspec_labels(kind, rows, start))
            children.append(_msgspec_children(kind, rows, start))
            start += len(rows)
        return pa.concat_tables(labels), pa.concat_tables(children)

    return run


def _msgspec_labels(kind: str, rows: list, start: int) -> pa.Table:
    metas = [r.meta for r in rows]
    columns = {
        "line": pa.array(range(start, start + len(rows)), pa.int64()),
        "source_ref": pa.array([r.source_ref for r in rows], pa.string()),
    }
    if kind == "boxes":
        sizes = [r.value.image_size[0] for r in rows]
        columns["width"] = pa.array([s.width for s in sizes], pa.int64())
        columns["height"] = pa.array([s.height for s in sizes], pa.int64())
        columns["depth"] = pa.array([s.depth for s in sizes], pa.int64())
    columns["class_map"] = pa.array([list(m.class_map.items()) for m in metas], CLASS_MAP)
    if kind == "classes":
        columns["confidence_map"] = pa.array(
            [list(m.confidence_map.items()) for m in metas],
            LABELS[kind].field("confidence_map").type,
        )
    for m in META:
        name = m.replace("-", "_")
        columns[name] = pa.array([getattr(x, name) for x in metas], pa.string())
    return pa.table(columns, schema=LABELS[kind])


def _msgspec_children(kind: str, rows: list, start: int) -> pa.Table:
    if kind == "classes":
        return pa.table(
            {
                "line": pa.array([start + i for i, r in enumerate(rows) for _ in r.value]),
                "class_id": pa.array([c for r in rows for c in r.value], pa.int64()),
            },
            schema=CLASSES,
        )
    boxes = [(start + i, b) for i, r in enumerate(rows) for b in r.value.annotations]
    confidences = []
    for r in rows:
        objects = r.meta.objects
        n = len(r.value.annotations)
        confidences += [o.confidence for o in objects[:n]] + [None] * (n - len(objects))
    return pa.table(
        {
            "line": pa.array([i for i, _ in boxes], pa.int64()),
            "class_id": pa.array([b.class_id for _, b in boxes], pa.int64()),
            "left": pa.array([b.left for _, b in boxes], pa.float64()),
            "top": pa.array([b.top for _, b in boxes], pa.float64()),
            "width": pa.array([b.width for _, b in boxes], pa.float64()),
            "height": pa.array([b.height for _, b in boxes], pa.float64()),
            "confidence": pa.array(confidences, pa.float64()),
        },
        schema=BOXES,
    )


# -- DuckDB read_json ---------------------------------------------------------------------------


def duckdb_candidate(kind: str, attribute: str) -> Callable[[Path], tuple[pa.Table, pa.Table]]:
    meta_columns = ", ".join(f'"{m}" VARCHAR' for m in META)
    if kind == "boxes":
        value = (
            "STRUCT(image_size STRUCT(width BIGINT, height BIGINT, depth BIGINT)[], annotations "
            'STRUCT(class_id BIGINT, "left" DOUBLE, top DOUBLE, width DOUBLE, height DOUBLE)[])'
        )
        meta = (
            'STRUCT(objects STRUCT(confidence DOUBLE)[], "class-map" MAP(VARCHAR, VARCHAR), '
            f"{meta_columns})"
        )
        labels_sql = (
            "select line, source_ref, v.image_size[1].width as width, "
            "v.image_size[1].height as height, v.image_size[1].depth as depth, "
            'm."class-map" as class_map'
        )
        children_sql = (
            "select line, b.class_id, b.left, b.top, b.width, b.height, o.confidence from ("
            "select line, unnest(v.annotations) as b, unnest(m.objects) as o from lines)"
        )
    else:
        value = "BIGINT[]"
        meta = (
            'STRUCT("class-map" MAP(VARCHAR, VARCHAR), "confidence-map" MAP(VARCHAR, DOUBLE), '
            f"{meta_columns})"
        )
        labels_sql = (
            'select line, source_ref, m."class-map" as class_map, '
            'm."confidence-map" as confidence_map'
        )
        children_sql = "select line, unnest(v) as class_id from lines"
    labels_sql += "".join(f', m."{m}" as {m.replace("-", "_")}' for m in META) + " from lines"
    columns = {"source-ref": "VARCHAR", attribute: value, f"{attribute}-metadata": meta}

    def run(path: Path) -> tuple[pa.Table, pa.Table]:
        con = duckdb.connect()
        con.execute("set threads = 2")
        con.execute(
            "create temp table lines as select row_number() over () - 1 as line, "
            f'"source-ref" as source_ref, "{attribute}" as v, "{attribute}-metadata" as m '
            "from read_json(?, format = 'newline_delimited', columns = ?)",
            [str(path), columns],
        )
        labels = con.sql(labels_sql + " order by line").to_arrow_table()
        children = con.sql(children_sql + " order by line").to_arrow_table()
        con.close()
        return _table(labels).cast(LABELS[kind]), _table(children).cast(
            BOXES if kind == "boxes" else CLASSES
        )

    return run


def _table(result) -> pa.Table:
    return result.read_all() if isinstance(result, pa.RecordBatchReader) else result


# -- pyarrow JSON -------------------------------------------------------------------------------


def pyarrow_candidate(kind: str, attribute: str) -> Callable[[Path], tuple[pa.Table, pa.Table]]:
    meta_fields = [pa.field(m, pa.string()) for m in META]
    if kind == "boxes":
        box = pa.struct(
            [("class_id", pa.int64()), ("left", pa.float64()), ("top", pa.float64()),
             ("width", pa.float64()), ("height", pa.float64())]
        )  # fmt: skip
        size = pa.struct([("width", pa.int64()), ("height", pa.int64()), ("depth", pa.int64())])
        value = pa.struct([("image_size", pa.list_(size)), ("annotations", pa.list_(box))])
        meta = pa.struct(
            [("objects", pa.list_(pa.struct([("confidence", pa.float64())]))), *meta_fields]
        )
    else:
        value = pa.list_(pa.int64())
        meta = pa.struct(meta_fields)
    schema = pa.schema(
        [("source-ref", pa.string()), (attribute, value), (f"{attribute}-metadata", meta)]
    )
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")

    def run(path: Path) -> tuple[pa.Table, pa.Table]:
        table = pj.read_json(path, parse_options=options)
        v = table.column(attribute).combine_chunks()
        m = table.column(f"{attribute}-metadata").combine_chunks()
        line = pa.array(range(len(table)), pa.int64())
        columns = {"line": line, "source_ref": table.column("source-ref")}
        if kind == "boxes":
            first = pc.list_element(pc.struct_field(v, "image_size"), 0)
            for f in ("width", "height", "depth"):
                columns[f] = pc.struct_field(first, f)
        for name in META:
            columns[name.replace("-", "_")] = pc.struct_field(m, name)
        labels = pa.table(columns)
        if kind == "classes":
            parents = pc.list_parent_indices(v)
            children = pa.table({"line": pc.take(line, parents), "class_id": pc.list_flatten(v)})
            return labels, children.cast(CLASSES)
        annotations = pc.struct_field(v, "annotations")
        parents = pc.list_parent_indices(annotations)
        boxes = pc.list_flatten(annotations)
        confidences = pc.struct_field(pc.list_flatten(pc.struct_field(m, "objects")), "confidence")
        children = {"line": pc.take(line, parents)}
        for f in ("class_id", "left", "top", "width", "height"):
            children[f] = pc.struct_field(boxes, f)
        children["confidence"] = confidences  # one object per box in these files
        return labels, pa.table(children).cast(BOXES)

    return run


# -- the anchor ---------------------------------------------------------------------------------


def generic_decode(path: Path) -> int:
    decode = msgspec.json.Decoder().decode_lines
    return sum(len(decode(block)) for block in blocks(path))


# -- main ---------------------------------------------------------------------------------------


def check_equal(kind: str, name: str, got: tuple[pa.Table, pa.Table], want: tuple) -> None:
    labels, children = got
    if name == "pyarrow JSON":  # no class-map (nor confidence-map) from this reader
        want_labels = want[0].drop_columns(
            [c for c in ("class_map", "confidence_map") if c in want[0].column_names]
        )
    else:
        want_labels = want[0]
    if not labels.select(want_labels.column_names).equals(want_labels):
        raise SystemExit(f"{kind}: {name} labels differ from msgspec's")
    if not children.equals(want[1]):
        raise SystemExit(f"{kind}: {name} {kind} differ from msgspec's")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="scale 0.05, one round")
    parser.add_argument("--rounds", type=int, help="runs per candidate (default 5)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)
    lines = 1000 if args.quick else 20_000
    tree = cached_tree(f"tree-36x{lines}-seed0", jobs=36, lines=lines, seed=0)
    inputs = {
        "boxes": sorted(tree.glob("*-object-detection"))[0],
        "classes": sorted(tree.glob("*-image-classification-multilabel"))[0],
    }
    out = [
        "# Decoders: one job's manifest to typed Arrow columns",
        "",
        f"{machine()}; load average: {load()}. Median of {rounds} runs per candidate in one "
        "process, alternating; the ratio is to the generic decode (msgspec to Python objects, "
        "no columns) of the same file, measured alongside.",
        "",
        "| job | candidate | time | lines/s | × generic decode |",
        "|---|---|---:|---:|---:|",
    ]
    for kind, job in inputs.items():
        path = job / "manifests/output/output.manifest"
        attribute = attribute_of(path)
        candidates = {
            "msgspec structs": msgspec_candidate(kind, attribute),
            "DuckDB read_json": duckdb_candidate(kind, attribute),
            "pyarrow JSON": pyarrow_candidate(kind, attribute),
        }
        want = candidates["msgspec structs"](path)
        count = want[0].num_rows
        for name, run in candidates.items():
            check_equal(kind, name, run(path), want)
        times: dict[str, list[float]] = {"generic decode": []} | {n: [] for n in candidates}
        for _ in range(rounds):
            for name in times:
                run = generic_decode if name == "generic decode" else candidates[name]
                started = time.perf_counter()
                run(path)
                times[name].append(time.perf_counter() - started)
        anchor = statistics.median(times["generic decode"])
        size = path.stat().st_size / 1e6
        for name, took in times.items():
            t = statistics.median(took)
            out.append(
                f"| {job.name} ({count:,} lines, {size:.0f} MB) | {name} | {t:.3f} s "
                f"| {count / t:,.0f} | {t / anchor:.2f} |"
            )
        print(f"{job.name}: done", flush=True)
    out += [
        "",
        "Every candidate's tables equal the msgspec structs' (pyarrow's without the class-map, "
        "which its JSON reader cannot read as a map).",
    ]
    report = "\n".join(out) + "\n"
    (OUT / "decoders.md").write_text(report)
    print()
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
