"""Training sets as assets: one per entry of `training_sets.yaml` (or the file named by
`GTLAKE_TRAINING_SETS`), each `gtlake.datasets.build_dataset` over the lake.

Each asset depends on the views it reads: those of the selection (`selection.sql`, read from
DuckDB's parse tree by `dagster_project.sqlviews.read_keys`) and the table views the formats read;
it is re-materialized after they change (the views' automation condition: a dependency updated,
none in progress, no failed blocking check in the lake; a job never ingested does not hold the
set back). Its metadata: objects and items
per split, items per split and class, the output location and what the set was built with. A set
that cannot be built (an empty selection, a format that does not fit the labels) fails its run
with the library's one-line message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import yaml

from dagster_project.assets import PREFIX
from dagster_project.resources import GtlakeResource
from dagster_project.sqlviews import VIEWS_CONDITION, read_keys, view_key
from gtlake.datasets import FORMATS, POLICIES, DatasetError, build_dataset, parse_splits
from gtlake.datasets.selection import SELECTION_SQL
from gtlake.storage import Location

GROUP = "training_sets"
CONFIG_FILE = Path(__file__).with_name("training_sets.yaml")
# the tables the selection and the formats read (through their views)
TABLES = ("objects", "labels", "boxes", "classes", "segments", "feedback")
DEPS = sorted(
    {*read_keys(SELECTION_SQL.read_text(encoding="utf-8")), *(view_key(t) for t in TABLES)},
    key=lambda key: key.to_user_string(),
)
_KEYS = {"name", "format", "policy", "where", "split", "seed", "out", "description"}

# the views' condition: a dependency updated, none in progress, the tables' blocking checks passed
CONDITION = VIEWS_CONDITION


@dataclass(frozen=True)
class TrainingSet:
    name: str
    format: str
    out: str
    policy: str = "latest"
    where: str | None = None
    split: str = "train=1"
    seed: int = 0
    description: str = ""


def _absolute(url: str) -> str:
    if url.startswith(("s3://", "s3a://")):
        return url.rstrip("/")
    return os.path.abspath(os.path.expanduser(url))


def load_config(path: str | os.PathLike | None = None) -> list[TrainingSet]:
    """The training sets of the YAML file, checked: a mistake fails when the definitions load."""
    path = Path(path or os.environ.get("GTLAKE_TRAINING_SETS") or CONFIG_FILE)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read the training sets: {exc}") from exc
    entries = document.get("training_sets") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise DatasetError(f"{path}: expected a list under `training_sets`")
    sets, names = [], set()
    for i, entry in enumerate(entries):
        where = f"{path}: training_sets[{i}]"
        if not isinstance(entry, dict):
            raise DatasetError(f"{where}: expected a mapping")
        unknown = set(entry) - _KEYS
        missing = {"name", "format", "out"} - set(entry)
        if unknown or missing:
            problem = f"unknown keys {sorted(unknown)}" if unknown else f"missing {sorted(missing)}"
            raise DatasetError(f"{where}: {problem}")
        spec = TrainingSet(
            name=str(entry["name"]),
            format=str(entry["format"]),
            out=_absolute(str(entry["out"])),
            policy=str(entry.get("policy", "latest")),
            where=entry.get("where"),
            split=str(entry.get("split", "train=1")),
            seed=int(entry.get("seed", 0)),
            description=str(entry.get("description", "")),
        )
        if not spec.name.replace("_", "").isalnum() or spec.name in names:
            raise DatasetError(f"{where}: name {spec.name!r} is not a unique identifier")
        if spec.format not in FORMATS or spec.policy not in POLICIES:
            raise DatasetError(f"{where}: format {spec.format!r} / policy {spec.policy!r}")
        parse_splits(spec.split)
        names.add(spec.name)
        sets.append(spec)
    return sets


def training_set_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([PREFIX, GROUP, name])


def _asset(spec: TrainingSet) -> dg.AssetsDefinition:
    text = spec.description or (
        f"{spec.format} training set, policy {spec.policy}"
        + (f", where {spec.where}" if spec.where else "")
        + f", split {spec.split}, written to {spec.out}"
    )

    @dg.asset(
        key=training_set_key(spec.name),
        deps=DEPS,
        automation_condition=CONDITION,
        group_name=GROUP,
        kinds={"json" if spec.format == "coco" else spec.format},
        description=text,
    )
    def training_set(gtlake: GtlakeResource) -> dg.MaterializeResult:
        out = Location(spec.out, gtlake.endpoint_url)
        try:
            report = build_dataset(
                gtlake.lake_location(),
                out,
                spec.format,
                policy=spec.policy,
                where=spec.where,
                splits=parse_splits(spec.split),
                seed=spec.seed,
            )
        except DatasetError as exc:
            raise dg.Failure(description=f"training set {spec.name}: {exc}") from None
        metadata = {
            "location": dg.MetadataValue.url(out.url)
            if out.is_s3
            else dg.MetadataValue.path(out.url),
            "format": spec.format,
            "policy": spec.policy,
            "where": spec.where or "",
            "split": spec.split,
            "seed": spec.seed,
            "objects": report.objects,
            "items": report.items,
            "counts": dg.MetadataValue.json(report.splits),
            "files": len(report.files),
        }
        for split, counts in report.splits.items():
            metadata[f"objects/{split}"] = counts["objects"]
            metadata[f"items/{split}"] = counts["items"]
        if report.skipped:
            metadata["skipped_label_types"] = dg.MetadataValue.json(report.skipped)
        if report.attribute_names:
            metadata["attribute_names"] = dg.MetadataValue.json(report.attribute_names)
        return dg.MaterializeResult(metadata=metadata)

    return training_set


def training_set_assets(path: str | os.PathLike | None = None) -> list[dg.AssetsDefinition]:
    """One asset per configured training set."""
    return [_asset(spec) for spec in load_config(path)]
