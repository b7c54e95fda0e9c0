"""Training sets from the lake: the labels you trust, as COCO, YOLO, a SageMaker augmented
manifest or csv, chosen by SQL and split deterministically.

    from gtlake.datasets import build_dataset
    report = build_dataset(
        Location("lake"), Location("out/coco"), "coco", policy="verified",
        where="origin_job like 'birds-%'", splits=parse_splits("train=0.8,val=0.2"),
    )

One module per step: `selection` (policy, `--where`, split: SQL over the views), one module per
format (`coco`, `yolo`, `manifest`, `table` for csv), `output` (writing to a directory or S3).
The lake is read only through `gtlake.views.connect`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa

from gtlake import views
from gtlake.datasets import coco, manifest, output, table, yolo
from gtlake.datasets.selection import (
    DEFAULT_SPLITS,
    POLICIES,
    DatasetError,
    Split,
    parse_splits,
    select_labels,
)
from gtlake.storage import Location

__all__ = [
    "FORMATS",
    "POLICIES",
    "DatasetError",
    "DatasetReport",
    "Split",
    "build_dataset",
    "parse_splits",
]

FORMATS = {"coco": coco, "yolo": yolo, "manifest": manifest, "csv": table}


@dataclass
class DatasetReport:
    """What an export wrote: per split its objects, items and items per class."""

    format: str
    out: str
    policy: str
    splits: dict[str, dict] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    attribute_names: list[str] | None = None

    @property
    def objects(self) -> int:
        return sum(s["objects"] for s in self.splits.values())

    @property
    def items(self) -> int:
        return sum(s["items"] for s in self.splits.values())


def _fitting(selected: pa.Table, fmt: str) -> tuple[pa.Table, dict[str, int]]:
    """The rows the format can hold, and the label types (with counts) it cannot."""
    fits = FORMATS[fmt].FITS
    types = Counter(selected.column("label_type").to_pylist())
    if fits is None:
        return selected, {}
    skipped = {t: n for t, n in sorted(types.items()) if t not in fits}
    if len(skipped) == len(types):
        held = ", ".join(f"{t} ({n})" for t, n in skipped.items())
        raise DatasetError(f"{fmt} holds {' or '.join(fits)} labels; the selection has only {held}")
    mask = pa.array([t in fits for t in selected.column("label_type").to_pylist()])
    return selected.filter(mask), skipped


def build_dataset(
    lake: Location,
    out: Location,
    fmt: str,
    *,
    policy: str = "latest",
    where: str | None = None,
    splits: tuple[Split, ...] = DEFAULT_SPLITS,
    seed: int = 0,
    good_verdicts: tuple[str, ...] = ("good",),
    attribute: str = manifest.DEFAULT_ATTRIBUTE,
) -> DatasetReport:
    """Select labels from the lake and write them to `out` in format `fmt`."""
    if fmt not in FORMATS:
        raise DatasetError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    names = [s.name for s in splits]
    with views.connect(lake) as con:
        con.execute("set enable_progress_bar = false")  # the command prints its own report
        selected = select_labels(con, policy, where, splits, seed, good_verdicts)
        if selected.num_rows == 0:
            condition = f" and --where {where!r}" if where else ""
            raise DatasetError(
                f"the selection is empty: no label of {lake.url} passes policy {policy}{condition}"
            )
        fitting, skipped = _fitting(selected, fmt)
        con.register("selected_labels", fitting)
        info = {
            "description": f"gtlake training set from {lake.url}",
            "policy": policy,
            "where": where,
            "split": {s.name: s.fraction for s in splits},
            "seed": seed,
        }
        if fmt == "manifest":
            export = manifest.build(con, names, info, attribute=attribute)
        else:
            export = FORMATS[fmt].build(con, names, info)
    report = DatasetReport(
        format=fmt,
        out=out.url,
        policy=policy,
        splits=export.summary(names),
        files=sorted(export.files),
        skipped=skipped,
        attribute_names=export.attribute_names,
    )
    description = {
        "format": fmt,
        **info,
        "counts": report.splits,
        "skipped_label_types": skipped,
        "attribute_names": export.attribute_names,
        "files": report.files,
    }
    output.write(out, export.files, description)
    return report
