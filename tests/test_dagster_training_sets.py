"""Training sets as Dagster assets: the YAML file, a real materialization into a real lake, the
metadata, and the automation condition requesting the set again after a table changed."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.assets import table_key
from dagster_project.definitions import defs
from dagster_project.partitions import JOBS
from dagster_project.resources import GtlakeResource
from dagster_project.sqlviews import view_key
from dagster_project.training_sets import (
    CONFIG_FILE,
    DEPS,
    load_config,
    training_set_assets,
    training_set_key,
)
from gtlake.datasets import DatasetError
from gtlake.schemas import TABLES as LAKE_TABLES
from tests.test_views import build_chained_lake

CONFIG = """
training_sets:
  - name: boxes
    format: coco
    where: "label_type = 'object-detection'"
    split: train=0.5,val=0.5
    out: {out}/boxes
  - name: nothing
    format: csv
    where: "confidence > 2"
    out: {out}/nothing
"""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_chained_lake(tmp_path_factory.mktemp("chained"))


def _resource(lake: Path, tmp_path: Path) -> GtlakeResource:
    return GtlakeResource(
        source=str(tmp_path / "src"), lake=str(lake), views=str(tmp_path / "v.duckdb")
    )


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "sets.yaml"
    path.write_text(CONFIG.format(out=tmp_path / "out"))
    return path


def test_the_project_file_declares_valid_sets_and_every_one_is_an_asset() -> None:
    sets = load_config(CONFIG_FILE)
    assert {s.format for s in sets} == {"coco", "yolo", "manifest", "csv"}
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    assert {training_set_key(s.name) for s in sets} <= keys
    spec = defs.resolve_assets_def(training_set_key(sets[0].name))
    deps = spec.asset_deps[training_set_key(sets[0].name)]
    views = {view_key(v) for v in ("objects", "labels", "boxes", "object_labels")}
    assert views <= deps  # the views it reads (lineage: tables -> views -> training sets)
    assert all(key.path[:2] == ["gtlake", "views"] for key in deps)


@pytest.mark.parametrize(
    "text, message",
    [
        ("training_sets:\n  - {name: a, format: tiff, out: x}", "format 'tiff'"),
        ("training_sets:\n  - {name: a, format: csv}", "missing ['out']"),
        ("training_sets:\n  - {name: a, format: csv, out: x, wher: y}", "unknown keys ['wher']"),
        ("training_sets:\n  - {name: a, format: csv, out: x, split: train=2}", "add up to 2"),
        ("training_sets: {}", "expected a list under `training_sets`"),
    ],
)
def test_a_mistake_in_the_file_fails_when_the_definitions_load(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "sets.yaml"
    path.write_text(text)
    with pytest.raises(DatasetError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_config(path)


def test_materializing_a_set_writes_it_and_records_counts(lake: Path, tmp_path: Path) -> None:
    boxes, _nothing = training_set_assets(_config(tmp_path))
    result = dg.materialize([boxes], resources={"gtlake": _resource(lake, tmp_path)})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    written = json.loads((tmp_path / "out/boxes/dataset.json").read_text())
    assert metadata["counts"].value == written["counts"]
    assert metadata["objects"].value == 3 and metadata["items"].value == 5
    assert sum(c["classes"].get("dog", 0) for c in written["counts"].values()) == 2
    assert metadata["location"].value == str(tmp_path / "out/boxes")
    assert "skipped_label_types" not in metadata  # the where clause kept boxes only
    assert sorted(p.name for p in (tmp_path / "out/boxes").iterdir()) == [
        "dataset.json", "instances_train.json", "instances_val.json",
    ]  # fmt: skip


def test_an_empty_selection_fails_the_run_with_one_line(lake: Path, tmp_path: Path) -> None:
    _boxes, nothing = training_set_assets(_config(tmp_path))
    result = dg.materialize(
        [nothing], resources={"gtlake": _resource(lake, tmp_path)}, raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith("training set nothing: the selection is empty: ")


def test_a_table_change_requests_the_set_again(lake: Path, tmp_path: Path) -> None:
    boxes, _nothing = training_set_assets(_config(tmp_path))
    key = training_set_key("boxes")
    views = [dg.AssetSpec(key) for key in DEPS]
    jobs = dg.DynamicPartitionsDefinition(name=JOBS)
    tables = [dg.AssetSpec(table_key(t), partitions_def=jobs) for t in LAKE_TABLES]
    definitions = dg.Definitions(
        assets=[*tables, *views, boxes], resources={"gtlake": _resource(lake, tmp_path)}
    )
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=definitions, instance=instance)
        dg.materialize([boxes], instance=instance, resources={"gtlake": _resource(lake, tmp_path)})
        quiet = dg.evaluate_automation_conditions(
            defs=definitions, instance=instance, cursor=first.cursor
        )
        assert quiet.get_num_requested(key) == 0
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=view_key("labels")))
        changed = dg.evaluate_automation_conditions(
            defs=definitions, instance=instance, cursor=quiet.cursor
        )
        assert changed.get_num_requested(key) == 1
