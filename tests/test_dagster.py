"""The Dagster project in process: definitions, materializations, asset checks, sensor, schedule.

Everything runs for real: Dagster executes the assets and checks in an ephemeral instance, the
library writes a real lake under a temporary directory, and the sensor lists a tree on the moto
S3 server on 127.0.0.1. Materializations are shared per module (Dagster runs are slow to start).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import orjson
import pyarrow.parquet as pq
import pytest

from dagster_project import quality
from dagster_project.assets import TABLE_SPECS, VIEWS_KEY, lake_tables, table_key
from dagster_project.checks import job_checks
from dagster_project.definitions import defs
from dagster_project.lakeread import partition_files, read_partition
from dagster_project.partitions import JOBS
from dagster_project.resources import ConfigurationError, GtlakeResource
from dagster_project.sensors import daily_reconcile, new_or_changed_jobs, plan
from dagster_project.source import SOURCE_KEY
from dagster_project.sqlviews import VIEW_SPECS, duckdb_views, lake_views
from dagster_project.training_sets import load_config as load_training_sets
from dagster_project.training_sets import training_set_key
from gtlake.cli import main as gtlake_main
from gtlake.schemas import TABLES, full_schema
from gtlake.source import list_jobs
from gtlake.storage import Location
from gtlake.writer import job_key
from tests.conftest import REAL, write_job

CHECK_NAMES = {
    "every_line_accounted_for",
    "confidences_within_0_1",
    "label_attribute_names",
    "boxes_match_confidences",
    "referenced_files_accounted_for",
    "quarantine_empty",
}


def _meta(kind: str, job: str, **fields) -> dict:
    return {
        "type": f"groundtruth/{kind}",
        "job-name": f"labeling-job/{job}",
        "human-annotated": "yes",
        "creation-date": "2024-05-01T10:00:00.000000",
        **fields,
    }


def _line(obj: dict) -> str:
    return json.dumps(obj)


def _classified(job: str, confidence: float, i: int) -> str:
    return _line(
        {
            "source-ref": f"s3://bucket/{job}/{i}.jpg",
            "animal": 1,
            "animal-metadata": _meta(
                "image-classification", job, confidence=confidence, **{"class-name": "cat"}
            ),
        }
    )


def _boxes(job: str, attribute: str, boxes: int, confidences: int, i: int = 0) -> str:
    value = {
        "image_size": [{"width": 100, "height": 80, "depth": 3}],
        "annotations": [
            {"class_id": 0, "left": 1 + b, "top": 2, "width": 10, "height": 12}
            for b in range(boxes)
        ],
    }
    meta = _meta(
        "object-detection",
        job,
        objects=[{"confidence": 0.9} for _ in range(confidences)],
        **{"class-map": {"0": "dog"}},
    )
    return _line(
        {
            "source-ref": f"s3://bucket/{job}/{i}.jpg",
            attribute: value,
            f"{attribute}-metadata": meta,
        }
    )


def build_tree(root: Path) -> dict[str, set[str]]:
    """Write the test jobs under `root`; return each job's checks that must fail."""
    real = (
        REAL / "sagemaker-examples" / "pytorch_yolov5_training_and_hpo" / "sample_output.manifest"
    )
    write_job(root, "boxes-good", real.read_bytes())
    # BOM, CRLF line ends and blank lines: four objects, blank lines are not lines.
    good = "\r\n".join(_classified("classes-good", 0.25 * i, i) for i in range(4))
    write_job(root, "classes-good", ("\ufeff" + good + "\r\n\r\n  \r\n").encode())
    write_job(root, "lines-bad", [_classified("lines-bad", 0.5, i) for i in range(3)])
    write_job(
        root,
        "confidence-bad",
        [_classified("confidence-bad", 0.7, 0), _classified("confidence-bad", 1.5, 1)],
    )
    segmentation = {
        "source-ref": "s3://bucket/names-bad/1.jpg",
        "streets": "s3://bucket/names-bad/mask.png",
        "streets-metadata": _meta(
            "semantic-segmentation",
            "names-bad",
            **{"internal-color-map": {"0": {"class-name": "BACKGROUND", "confidence": 0.8}}},
        ),
    }
    refused = {
        "source-ref": "s3://bucket/names-bad/2.jpg",
        "pet-metadata": 0,
        "pet-metadata-metadata": _meta(
            "image-classification", "names-bad", confidence=0.5, **{"class-name": "cat"}
        ),
    }
    write_job(
        root,
        "names-bad",
        [_boxes("names-bad", "dogs-ref", 2, 2), _line(segmentation), _line(refused)],
    )
    write_job(
        root,
        "boxes-bad",
        [_boxes("boxes-bad", "dogs", 2, 2, 0), _boxes("boxes-bad", "dogs", 3, 2, 1)],
    )
    write_job(
        root,
        "quarantine-bad",
        [_classified("quarantine-bad", 0.5, 0), '{"source-ref": "s3://bucket/broken.jpg", '],
    )
    seq = "annotations/consolidated-annotation/output/0/SeqLabel.json"
    video = {
        "source-ref": "s3://bucket/frames-good/video.json",
        "tracks-ref": f"s3://bucket/output/frames-good/{seq}",
        "tracks-ref-metadata": _meta(
            "video-object-tracking", "frames-good", **{"class-map": {"1": "Pedestrian"}}
        ),
    }
    write_job(root, "frames-good", [_line(video)])
    real_seq = REAL / "sagemaker-examples/video_quality_metrics/SeqLabel.2021-02-26_659c90c.json"
    (root / "frames-good" / seq).parent.mkdir(parents=True)
    shutil.copy(real_seq, root / "frames-good" / seq)
    return {
        "frames-good": set(),
        "boxes-good": set(),
        "classes-good": set(),
        "lines-bad": set(),  # until a line goes missing from the lake (see below)
        "confidence-bad": {"confidences_within_0_1"},
        "names-bad": {"label_attribute_names"},
        "boxes-bad": {"boxes_match_confidences"},
        "quarantine-bad": {"quarantine_empty"},
    }


ASSETS = [lake_tables, lake_views, duckdb_views, job_checks]
VIEW_KEYS = {spec.key for spec in VIEW_SPECS}
ERROR_FAILS = {"confidence-bad", "names-bad", "boxes-bad"}  # jobs failing an error check


def materialize(resource: GtlakeResource, instance, job: str, selection=None):
    """One partition in process; `selection` may pick checks alone (then only they run)."""
    return dg.materialize(
        ASSETS,
        instance=instance,
        partition_key=None if selection else job,
        tags={"dagster/partition": job} if selection else None,
        resources={"gtlake": resource},
        selection=selection,
        raise_on_error=False,
    )


def failed_checks(result) -> dict[str, str]:
    return {
        e.check_name: e.severity.value for e in result.get_asset_check_evaluations() if not e.passed
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The tree, a resource over it, and one in-process materialization per job."""
    root = tmp_path_factory.mktemp("dagster")
    source = root / "source"
    expected = build_tree(source)
    resource = GtlakeResource(
        source=str(source), lake=str(root / "lake"), views=str(root / "lake" / "gtlake.duckdb")
    )
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(JOBS, sorted(expected))
    results = {job: materialize(resource, instance, job) for job in sorted(expected)}
    yield {
        "root": root,
        "source": source,
        "resource": resource,
        "instance": instance,
        "expected": expected,
        "results": results,
    }
    instance.dispose()


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    training_sets = {training_set_key(s.name) for s in load_training_sets()}
    assert {table_key(t) for t in TABLES} | {
        VIEWS_KEY,
        SOURCE_KEY,
    } | VIEW_KEYS | training_sets == keys
    assert {k.name for k in graph.asset_check_keys} == CHECK_NAMES
    for table in TABLES:
        node = graph.get(table_key(table))
        assert node.partitions_def.name == JOBS
        assert node.parent_keys == {SOURCE_KEY}
    assert graph.get(SOURCE_KEY).partitions_def.name == JOBS
    assert not graph.get(SOURCE_KEY).is_materializable
    assert graph.get(VIEWS_KEY).partitions_def is None
    assert graph.get(VIEWS_KEY).parent_keys == VIEW_KEYS
    assert defs.resolve_job_def("ingest").partitions_def.name == JOBS
    sensor = defs.resolve_sensor_def("new_or_changed_jobs")
    assert sensor.job_name == "ingest"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_job_def("discover_jobs").partitions_def is None
    assert defs.resolve_schedule_def("daily_reconcile").cron_schedule == "0 3 * * *"
    assert isinstance(defs.resources["gtlake"], GtlakeResource)


def test_resource_from_env(tmp_path):
    resource = GtlakeResource.from_env(
        {
            "GTLAKE_SOURCE": "s3://bucket/gt/",
            "GTLAKE_LAKE": str(tmp_path / "lake"),
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        }  # fmt: skip
    )
    assert resource.source == "s3://bucket/gt"
    assert resource.views == str(tmp_path / "lake" / "gtlake.duckdb")
    assert resource.endpoint_url == "http://127.0.0.1:9"
    assert not resource.demo
    demo = GtlakeResource.from_env({"GTLAKE_DEMO": "1"})
    assert demo.demo and demo.source.endswith("build/sample")
    assert demo.lake.endswith("/lake")


def test_resource_without_a_source_refuses_to_load():
    for environ in ({}, {"GTLAKE_LAKE": "/srv/lake"}, {"GTLAKE_DEMO": "0"}):
        with pytest.raises(ConfigurationError, match="GTLAKE_SOURCE is not set.*GTLAKE_DEMO=1"):
            GtlakeResource.from_env(environ)


def test_resource_binds_absolute_values_as_env_vars(tmp_path):
    environ = {"GTLAKE_SOURCE": "s3://bucket/gt", "GTLAKE_LAKE": str(tmp_path), "GTLAKE_VIEWS": "v"}
    bound = GtlakeResource.from_env(environ, bind=True)
    assert isinstance(bound.source, dg.EnvVar) and bound.source.env_var_name == "GTLAKE_SOURCE"
    assert isinstance(bound.lake, dg.EnvVar)
    assert not isinstance(bound.views, dg.EnvVar)  # relative: resolved when loaded
    assert bound.views == str(Path.cwd() / "v")
    assert GtlakeResource.from_env(environ).source == "s3://bucket/gt"


def test_every_run_checks_every_partition_and_error_checks_block(env):
    for job, result in env["results"].items():
        assert result.success == (job not in ERROR_FAILS), job
        evaluations = result.get_asset_check_evaluations()
        assert {e.check_name for e in evaluations} == CHECK_NAMES
        assert {e.partition for e in evaluations} == {job}
        assert {e.metadata["job"].value for e in evaluations} == {job}
        materialized = {e.asset_key for e in result.get_asset_materialization_events()}
        # A failed error check stops the run before the views and the views file.
        refreshed = VIEW_KEYS | {VIEWS_KEY}
        assert (refreshed <= materialized) == (job not in ERROR_FAILS), job
        assert {table_key(t) for t in TABLES} <= materialized, job


def test_a_failed_error_check_does_not_refresh_the_views_file(env):
    views = Path(env["resource"].views)
    before = views.stat()  # every refresh moves a new file into place (a new inode)
    failed = materialize(env["resource"], env["instance"], "confidence-bad")
    assert not failed.success
    assert failed_checks(failed) == {"confidences_within_0_1": "ERROR"}
    assert views.stat().st_ino == before.st_ino and views.stat().st_mtime_ns == before.st_mtime_ns
    warned = materialize(env["resource"], env["instance"], "quarantine-bad")
    assert warned.success and failed_checks(warned) == {"quarantine_empty": "WARN"}
    assert views.stat().st_ino != before.st_ino  # a warning does not block


def test_error_checks_block_and_warnings_do_not():
    specs = {spec.name: spec for spec in job_checks.check_specs}
    assert {name for name, spec in specs.items() if spec.blocking} == CHECK_NAMES - {
        "quarantine_empty"
    }
    assert not specs["quarantine_empty"].blocking


def test_each_check_passes_on_good_jobs_and_fails_on_its_bad_job(env):
    for job, result in env["results"].items():
        assert set(failed_checks(result)) == env["expected"][job], job
    assert failed_checks(env["results"]["quarantine-bad"]) == {"quarantine_empty": "WARN"}
    assert failed_checks(env["results"]["confidence-bad"]) == {"confidences_within_0_1": "ERROR"}


def test_names_check_reports_each_broken_name(env):
    (evaluation,) = [
        e
        for e in env["results"]["names-bad"].get_asset_check_evaluations()
        if e.check_name == "label_attribute_names"
    ]
    problems = evaluation.metadata["problems"].value
    assert {p["attribute"] for p in problems} == {"dogs-ref", "streets", "pet-metadata"}


def test_line_check_fails_when_the_lake_lost_a_line(env):
    lake = env["resource"].lake_location()
    (path,) = partition_files(lake, "objects", "lines-bad")
    table = pq.read_table(path)
    assert table.num_rows == 3
    check = dg.AssetSelection.checks(
        dg.AssetCheckKey(table_key("objects"), "every_line_accounted_for")
    )
    before = materialize(env["resource"], env["instance"], "lines-bad", selection=check)
    assert before.success and failed_checks(before) == {}
    pq.write_table(table.slice(0, 2), path)
    after = materialize(env["resource"], env["instance"], "lines-bad", selection=check)
    assert not after.success  # a blocking check failed
    assert failed_checks(after) == {"every_line_accounted_for": "ERROR"}
    (evaluation,) = after.get_asset_check_evaluations()
    assert evaluation.metadata["manifest_lines"].value == 3
    assert evaluation.metadata["object_rows"].value == 2


def test_frames_check_fails_when_the_lake_lost_a_referenced_file(env):
    lake = env["resource"].lake_location()
    (path,) = partition_files(lake, "frames", "frames-good")
    table = pq.read_table(path)
    assert table.num_rows == 32
    check = dg.AssetSelection.checks(
        dg.AssetCheckKey(table_key("frames"), "referenced_files_accounted_for")
    )
    before = materialize(env["resource"], env["instance"], "frames-good", selection=check)
    assert before.success and failed_checks(before) == {}
    pq.write_table(table.slice(0, 0), path)
    after = materialize(env["resource"], env["instance"], "frames-good", selection=check)
    assert failed_checks(after) == {"referenced_files_accounted_for": "ERROR"}
    (evaluation,) = after.get_asset_check_evaluations()
    assert evaluation.metadata["unaccounted"].value == 1
    assert evaluation.metadata["examples"].value == [
        {"file": "annotations/consolidated-annotation/output/0/SeqLabel.json",
         "referred_to_by": "line 1 (tracks-ref)"}
    ]  # fmt: skip


def test_partition_writes_the_same_rows_as_gtlake_ingest(env, tmp_path):
    lake = env["resource"].lake_location()
    plain = Location(str(tmp_path / "plain"))
    for job in ("boxes-good", "classes-good", "quarantine-bad"):
        assert gtlake_main(["ingest", str(env["source"]), "--lake", plain.url, "--job", job]) == 0
        for table in TABLES:
            ours, theirs = read_partition(lake, table, job), read_partition(plain, table, job)
            if table == "jobs":
                varying = ["ingested_at", "table_versions"]
                ours, theirs = ours.drop_columns(varying), theirs.drop_columns(varying)
            assert ours.to_pylist() == theirs.to_pylist(), (job, table)
            # the same folder (the file names carry each run's ingest id)
            relative = [
                Path(p).relative_to(lake.root).parent for p in partition_files(lake, table, job)
            ]
            assert relative == [
                Path(p).relative_to(plain.root).parent for p in partition_files(plain, table, job)
            ]
    assert read_partition(lake, "objects", "boxes-good").num_rows == 100


def test_materializations_carry_rows_quarantine_location_and_schema(env):
    lake = env["resource"].lake_location()
    result = env["results"]["quarantine-bad"]
    materializations = [
        e.step_materialization_data.materialization
        for e in result.get_asset_materialization_events()
    ]
    events = {m.asset_key: m for m in materializations}
    assert set(events) == {spec.key for spec in TABLE_SPECS} | {VIEWS_KEY} | VIEW_KEYS
    for table in TABLES:
        materialization = events[table_key(table)]
        metadata = materialization.metadata
        assert materialization.partition == "quarantine-bad"
        rows = read_partition(lake, table, "quarantine-bad").num_rows
        assert metadata["dagster/row_count"].value == rows, table
        assert metadata["quarantined_lines"].value == 1
        location = metadata["parquet"].value
        assert location == f"{lake.root}/{table}/{job_key('quarantine-bad')}/", location
        if rows:
            assert Path(location).is_dir()
        columns = metadata["dagster/column_schema"].value.columns
        assert [c.name for c in columns] == full_schema(table).names
    assert events[table_key("objects")].metadata["dagster/row_count"].value == 1
    views = events[VIEWS_KEY].metadata
    assert Path(views["path"].value) == Path(env["resource"].views)
    assert "object_labels" in views["view_names"].value


def test_views_file_queries_the_lake(env):
    from dagster_project import viewsfile

    columns, rows = viewsfile.query(
        env["resource"].views, "select job, count(*) from objects group by job order by job"
    )
    counted = dict(rows)
    assert counted["boxes-good"] == 100
    assert counted["classes-good"] == 4
    assert set(counted) == set(env["expected"])


def test_count_nonblank_lines_matches_the_reader():
    from io import BytesIO

    data = b"\xef\xbb\xbf{}\r\n\r\n  \n{}\n\n{}"
    for size in (1, 2, 3, 5, 64):
        assert quality.count_nonblank_lines(BytesIO(data), block_size=size) == 3
    assert quality.count_nonblank_lines(BytesIO(b"")) == 0
    assert quality.count_nonblank_lines(BytesIO(b"\xef\xbb\xbf")) == 0


@pytest.mark.parametrize(
    ("attribute", "label_type", "broken"),
    [
        ("animal", "image-classification", False),
        ("animal-ref", "image-classification", True),
        ("streets-ref", "semantic-segmentation", False),
        ("streets", "semantic-segmentation", True),
        ("tracks-ref", "video-object-tracking", False),
        ("cloud-ref", "point-cloud-object-detection", False),
        ("a-metadata-b", "custom", True),
    ],
)
def test_attribute_name_rules(attribute, label_type, broken):
    assert (quality.attribute_name_problem(attribute, label_type) is not None) == broken


def test_plan_adds_new_jobs_and_reruns_changed_ones():
    todo = plan({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "0"}, {"a", "b"})
    assert todo.new_partitions == ["c"]
    assert todo.runs == ["b", "c"]


def _upload(fs, local: Path, remote: str) -> None:
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.put_file(str(path), f"{remote}/{path.relative_to(local).as_posix()}")


def _sensor(resource: GtlakeResource, instance, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"gtlake": resource}
    ) as context:
        result = new_or_changed_jobs(context)
    for request in result.dynamic_partitions_requests:  # what the daemon does with them
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return result


def test_sensor_on_s3_adds_new_jobs_and_rerequests_changed_ones(s3_server, s3_bucket, tmp_path):
    local = tmp_path / "tree"
    write_job(local, "job-a", [_classified("job-a", 0.5, 0)])
    write_job(local, "job-b", [_classified("job-b", 0.5, 0)])
    write_job(local, "job-b", [_classified("job-b", 0.5, 0)], manifest="1")
    resource = GtlakeResource(
        source=f"s3://{s3_bucket}/gt",
        lake=str(tmp_path / "lake"),
        views=str(tmp_path / "views.duckdb"),
        endpoint_url=s3_server.endpoint_url,
    )
    fs = resource.source_location().fs()
    _upload(fs, local, f"{s3_bucket}/gt")
    instance = dg.DagsterInstance.ephemeral()

    first = _sensor(resource, instance, None)
    (added,) = first.dynamic_partitions_requests
    assert added.partition_keys == ["job-a", "job-b"]
    assert sorted(r.partition_key for r in first.run_requests) == ["job-a", "job-b"]
    assert set(json.loads(first.cursor)) == {"job-a", "job-b"}
    # Each new or changed job is observed: its partition of the Ground Truth output asset.
    observed = {o.partition: o for o in first.asset_events}
    assert sorted(observed) == ["job-a", "job-b"]
    assert {o.asset_key for o in first.asset_events} == {SOURCE_KEY}
    assert observed["job-b"].metadata["files"].value == 2  # output and intermediate manifests
    assert observed["job-b"].metadata["status"].value == "complete"
    assert observed["job-a"].metadata["fingerprint"].value == json.loads(first.cursor)["job-a"]

    # A new job appears, job-a's manifest grows; job-b is untouched.
    write_job(local, "job-c", [_classified("job-c", 0.5, 0)])
    write_job(local, "job-a", [_classified("job-a", 0.5, i) for i in range(2)])
    fs.put_file(str(local / "job-c/manifests/output/output.manifest"),
                f"{s3_bucket}/gt/job-c/manifests/output/output.manifest")  # fmt: skip
    fs.put_file(str(local / "job-a/manifests/output/output.manifest"),
                f"{s3_bucket}/gt/job-a/manifests/output/output.manifest")  # fmt: skip
    second = _sensor(resource, instance, first.cursor)
    (added,) = second.dynamic_partitions_requests
    assert added.partition_keys == ["job-c"]
    assert sorted(r.partition_key for r in second.run_requests) == ["job-a", "job-c"]
    assert sorted(instance.get_dynamic_partitions(JOBS)) == ["job-a", "job-b", "job-c"]
    changed = {r.partition_key: r.run_key for r in second.run_requests}
    assert changed["job-a"] != {r.partition_key: r.run_key for r in first.run_requests}["job-a"]

    assert [o.partition for o in second.asset_events] == ["job-a", "job-c"]
    third = _sensor(resource, instance, second.cursor)
    assert third.run_requests == [] and third.dynamic_partitions_requests == []
    assert third.asset_events == []
    assert third.cursor == second.cursor


TICK = datetime(2026, 1, 1, 3, tzinfo=UTC)


def test_schedule_reconciles_the_lake_with_the_source(tmp_path):
    source = tmp_path / "source"
    write_job(source, "job-a", [_classified("job-a", 0.5, 0)])
    write_job(source, "job-b", [_classified("job-b", 0.5, 0)])
    resource = GtlakeResource(
        source=str(source), lake=str(tmp_path / "lake"), views=str(tmp_path / "v.duckdb")
    )
    instance = dg.DagsterInstance.local_temp(str(tmp_path))

    def evaluate():
        with dg.build_schedule_context(
            instance=instance, resources={"gtlake": resource}, scheduled_execution_time=TICK
        ) as ctx:
            return daily_reconcile(ctx)

    assert sorted(r.partition_key for r in evaluate()) == ["job-a", "job-b"]
    assert sorted(instance.get_dynamic_partitions(JOBS)) == ["job-a", "job-b"]
    assert gtlake_main(["ingest", str(source), "--lake", resource.lake]) == 0
    assert isinstance(evaluate(), dg.SkipReason)
    # job-b changes; job-a's partition of the `jobs` table is lost (a failed or wiped ingest).
    write_job(source, "job-b", [_classified("job-b", 0.5, i) for i in range(3)])
    requests = evaluate()
    assert [r.partition_key for r in requests] == ["job-b"]
    # A job the lake never recorded (its ingest failed, or a lake started afresh) is requested.
    resource = GtlakeResource(
        source=str(source), lake=str(tmp_path / "fresh"), views=str(tmp_path / "v.duckdb")
    )
    assert gtlake_main(["ingest", str(source), "--lake", resource.lake, "--job", "job-b"]) == 0
    write_job(source, "job-b", [_classified("job-b", 0.5, i) for i in range(4)])
    requests = evaluate()
    assert [r.partition_key for r in requests] == ["job-a", "job-b"]
    (job_b,) = list_jobs(resource.source_location(), ["job-b"])
    assert requests[1].tags["gtlake/fingerprint"] == job_b.fingerprint()


def test_refused_label_names_only_flags_groundtruth_metadata():
    import pyarrow as pa

    attributes = pa.array(
        [
            orjson.dumps({"annotator-metadata": {"type": "person"}}).decode(),
            orjson.dumps({"x-metadata-metadata": {"type": "groundtruth/custom"}}).decode(),
            None,
        ]
    )
    assert quality.refused_label_names(attributes) == ["x-metadata"]


def test_demo_source_is_the_bundled_sample_tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    resource = GtlakeResource.from_env({"GTLAKE_DEMO": "1"})
    assert not (tmp_path / "build" / "sample").exists()
    jobs = resource.list_jobs()
    assert (tmp_path / "build" / "sample").is_dir()
    assert len(jobs) > 10
    assert resource.find_job(jobs[0].name).fingerprint() == jobs[0].fingerprint()
    assert [p.name for p in (tmp_path / "build").iterdir()] == ["sample"]


def test_partition_with_source_and_lake_on_s3(s3_server, s3_bucket, tmp_path):
    local = tmp_path / "tree"
    write_job(local, "s3-job", [_classified("s3-job", 0.5, i) for i in range(3)] + ["{broken"])
    resource = GtlakeResource(
        source=f"s3://{s3_bucket}/gt",
        lake=f"s3://{s3_bucket}/lake",
        views=str(tmp_path / "views.duckdb"),
        endpoint_url=s3_server.endpoint_url,
    )
    _upload(resource.source_location().fs(), local, f"{s3_bucket}/gt")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(JOBS, ["s3-job"])
    result = materialize(resource, instance, "s3-job")
    assert result.success
    assert failed_checks(result) == {"quarantine_empty": "WARN"}
    lake = resource.lake_location()
    assert read_partition(lake, "objects", "s3-job").num_rows == 3
    (objects,) = [
        e.step_materialization_data.materialization
        for e in result.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key == table_key("objects")
    ]
    assert (
        objects.metadata["parquet"].value == f"s3://{s3_bucket}/lake/objects/{job_key('s3-job')}/"
    )


def test_discover_jobs_adds_partitions_and_observes_every_job(tmp_path):
    source = tmp_path / "source"
    write_job(source, "job-a", [_classified("job-a", 0.5, 0)])
    write_job(source, "job-b", [_classified("job-b", 0.5, 0)], manifest="1")
    resource = GtlakeResource(
        source=str(source), lake=str(tmp_path / "lake"), views=str(tmp_path / "v.duckdb")
    )
    discover = defs.resolve_job_def("discover_jobs")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(JOBS, ["job-a"])
        result = discover.execute_in_process(
            instance=instance, resources={"gtlake": resource}, raise_on_error=False
        )
        assert result.success
        assert result.output_for_node("add_job_partitions") == 1
        assert sorted(instance.get_dynamic_partitions(JOBS)) == ["job-a", "job-b"]
        observations = [
            e.asset_observation_data.asset_observation
            for e in result.all_events
            if e.event_type == dg.DagsterEventType.ASSET_OBSERVATION
        ]
        by_job = {o.partition: o.metadata for o in observations}
        assert sorted(by_job) == ["job-a", "job-b"]
        assert by_job["job-b"]["status"].value == "in-progress"
        assert by_job["job-a"]["status"].value == "complete"
        again = discover.execute_in_process(instance=instance, resources={"gtlake": resource})
        assert again.output_for_node("add_job_partitions") == 0
