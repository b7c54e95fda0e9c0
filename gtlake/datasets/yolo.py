"""YOLO: one `.txt` per image of normalised `class cx cy w h` lines, a `<split>.txt` image list
per split (the `source-ref` URIs; nothing is downloaded) and `data.yaml` naming the lists and the
classes.

An image's label file mirrors its URI under `labels/` (`s3://bucket/a/dog 1.jpg` ->
`labels/bucket/a/dog 1.txt`): download the images to `images/` with the same layout
(`aws s3 sync s3://bucket images/bucket`) and every YOLO tool finds each image's labels by
replacing `/images/` with `/labels/`. Coordinates are written with Python's shortest exact float
repr, so multiplying back by the image size gives the lake's pixels.
"""

from __future__ import annotations

import duckdb
import yaml

from gtlake.datasets.export import BOXES_QUERY, Export, box_class, box_class_names
from gtlake.datasets.selection import DatasetError

FITS = ("object-detection",)


def label_path(source_ref: str) -> str:
    """`s3://bucket/a/dog 1.jpg` -> `labels/bucket/a/dog 1.txt` (no segment can climb out)."""
    rest = source_ref.split("://", 1)[-1]
    parts = [p for p in rest.split("/") if p]
    parts = [p.replace(".", "%2E") if p in (".", "..") else p for p in parts]
    if not parts:
        raise DatasetError(f"source-ref {source_ref!r} names no file")
    stem, dot, _ = parts[-1].rpartition(".")
    parts[-1] = (stem if dot and stem else parts[-1]) + ".txt"
    return "/".join(["labels", *parts])


def _coordinate(value: float) -> str:
    return repr(float(value))


def _describe(info: dict) -> list[str]:
    split = ",".join(f"{name}={share:g}" for name, share in info["split"].items())
    lines = [info["description"], f"policy {info['policy']}, split {split}, seed {info['seed']}"]
    if info["where"]:
        lines.append(f"where {' '.join(info['where'].split())}")
    return lines


def build(con: duckdb.DuckDBPyConnection, splits: list[str], info: dict) -> Export:
    out = Export()
    rows = con.sql(BOXES_QUERY).to_arrow_table().to_pylist()
    classes = {name: i for i, name in enumerate(box_class_names(rows))}
    lists: dict[str, list[str]] = {split: [] for split in splits}
    texts: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for row in rows:
        uri, split = row["source_ref"], row["split"]
        path = label_path(uri)
        if owner.setdefault(path, uri) != uri:
            raise DatasetError(
                f"yolo: {owner[path]} and {uri} would share the label file {path}; "
                "narrow the selection with --where"
            )
        if path not in texts:
            texts[path] = []
            lists[split].append(uri)
            out.objects[split] += 1
        if row["box_index"] is None:
            continue
        width, height = row["image_width"], row["image_height"]
        if not width or not height:
            raise DatasetError(f"yolo: the image size of {uri} is unknown (no image_size)")
        name = box_class(row["class_name"], row["class_id"])
        cx = (row["left"] + row["width"] / 2) / width
        cy = (row["top"] + row["height"] / 2) / height
        w, h = row["width"] / width, row["height"] / height
        texts[path].append(f"{classes[name]} {' '.join(map(_coordinate, (cx, cy, w, h)))}")
        out.count(split, name)
    for path, lines in texts.items():
        out.files[path] = "".join(line + "\n" for line in lines).encode()
    for split, uris in lists.items():
        out.files[f"{split}.txt"] = "".join(uri + "\n" for uri in uris).encode()
    data = {
        "path": ".",
        **{split: f"{split}.txt" for split in splits},
        "nc": len(classes),
        "names": {i: name for name, i in classes.items()},
    }
    header = "".join(f"# {line}\n" for line in _describe(info))
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    out.files["data.yaml"] = (header + body).encode()
    return out
