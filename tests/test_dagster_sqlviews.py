"""The views as Dagster assets: one per view, grain, reads from DuckDB's parse tree, described
columns, and the automation that refreshes them after the tables change (unless a blocking check
of the tables failed). Everything runs for real: DuckDB parses the SQL, Dagster materializes and
evaluates the automation conditions in an ephemeral instance."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest

from dagster_project.assets import VIEWS_KEY, lake_tables, table_key
from dagster_project.checks import job_checks
from dagster_project.partitions import JOBS
from dagster_project.resources import GtlakeResource
from dagster_project.sqlviews import (
    VIEW_SPECS,
    VIEWS,
    column_description,
    duckdb_views,
    header_comment,
    lake_views,
    relations,
    view_key,
)
from gtlake.schemas import TABLES
from gtlake.schemas import column_description as table_column_description
from gtlake.views import SQL_DIR
from tests.conftest import write_job

BY_NAME = {view.name: view for view in VIEWS}


def test_every_view_of_the_views_file_is_an_asset():
    assert {p.stem for p in SQL_DIR.glob("*.sql")} | set(TABLES) == set(BY_NAME)
    assert {spec.key for spec in VIEW_SPECS} == {view_key(name) for name in BY_NAME}
    for spec in VIEW_SPECS:
        assert spec.automation_condition is not None, spec.key


def test_descriptions_are_the_grain_comments():
    for name, view in BY_NAME.items():
        assert view.description.startswith(f"{name}: one row per"), name
    assert header_comment("-- a: one row per x\n--   more\nselect 1 -- not this") == (
        "a: one row per x more"
    )


def test_relations_come_from_the_parse_tree_without_ctes():
    con = duckdb.connect()
    sql = (
        "with labels_seen as (select * from labels join parquet.boxes using (job))\n"
        "select * from labels_seen left join object_labels o on true, (select 1) as t"
    )
    assert relations(con, sql) == {("", "labels"), ("parquet", "boxes"), ("", "object_labels")}
    with pytest.raises(ValueError, match="cannot parse"):
        relations(con, "select from from")


def test_reads_and_dependencies():
    assert BY_NAME["boxes"].tables == ("boxes",) and BY_NAME["boxes"].views == ()
    assert BY_NAME["object_labels"].views == ("labels", "objects")
    assert BY_NAME["low_confidence"].views == ("confidence_ranked",)
    deps = {spec.key: {d.asset_key for d in spec.deps} for spec in VIEW_SPECS}
    assert deps[view_key("labels")] == {table_key("labels")}
    assert deps[view_key("object_labels")] == {view_key("labels"), view_key("objects")}
    # A view never comes before a view it reads (a multi-asset yields in that order).
    order = [view.name for view in VIEWS]
    for view in VIEWS:
        assert all(order.index(other) < order.index(view.name) for other in view.views)


def test_columns_described_where_they_are_table_columns():
    labels = BY_NAME["labels"]
    for name, kind in labels.columns:
        assert column_description(labels, name, kind) == table_column_description("labels", name)
    ranked = BY_NAME["confidence_ranked"]
    kinds = dict(ranked.columns)
    assert column_description(ranked, "percent_rank", kinds["percent_rank"]) is None
    assert column_description(ranked, "job", kinds["job"]) == table_column_description(
        "labels", "job"
    )
    spec = {spec.key: spec for spec in VIEW_SPECS}[view_key("boxes")]
    columns = spec.metadata["dagster/column_schema"].columns
    assert [c.description for c in columns] == [
        table_column_description("boxes", c.name) for c in columns
    ]


def _classified(job: str, confidence: float) -> str:
    meta = {
        "type": "groundtruth/image-classification",
        "job-name": f"labeling-job/{job}",
        "class-name": "cat",
        "confidence": confidence,
        "human-annotated": "yes",
        "creation-date": "2024-05-01T10:00:00",
    }
    return json.dumps({"source-ref": f"s3://b/{job}.jpg", "pet": 0, "pet-metadata": meta})


def test_views_refresh_after_the_tables_change_unless_a_blocking_check_failed(tmp_path):
    write_job(tmp_path / "source", "good", [_classified("good", 0.5)])
    write_job(tmp_path / "source", "bad", [_classified("bad", 1.5)])
    resource = GtlakeResource(
        source=str(tmp_path / "source"),
        lake=str(tmp_path / "lake"),
        views=str(tmp_path / "views.duckdb"),
    )
    assets = [lake_tables, lake_views, duckdb_views, job_checks]
    tables = dg.AssetSelection.assets(*[table_key(t) for t in TABLES])
    watched = dg.AssetSelection.assets(*[spec.key for spec in VIEW_SPECS], VIEWS_KEY)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(JOBS, ["good", "bad"])

        def ingest(job: str) -> dg.ExecuteInProcessResult:
            return dg.materialize(
                assets,
                instance=instance,
                partition_key=job,
                selection=tables,
                resources={"gtlake": resource},
                raise_on_error=False,
            )

        def tick(cursor=None):
            defs = dg.Definitions(assets=assets, resources={"gtlake": resource})
            return dg.evaluate_automation_conditions(
                defs=defs, instance=instance, asset_selection=watched, cursor=cursor
            )

        first = tick()
        assert first.total_requested == 0  # nothing changed yet
        assert ingest("good").success
        second = tick(first.cursor)
        assert second.get_num_requested(view_key("object_labels")) == 1
        assert second.get_num_requested(VIEWS_KEY) == 1
        handled = tick(second.cursor)
        assert handled.total_requested == 0
        failed = ingest("bad")
        assert not failed.success  # confidences_within_0_1 failed and blocks
        assert tick(handled.cursor).total_requested == 0
        # The same update without a failing check refreshes the views.
        write_job(tmp_path / "source", "bad", [_classified("bad", 0.9)])
        assert ingest("bad").success
        assert tick(handled.cursor).get_num_requested(view_key("object_labels")) == 1
