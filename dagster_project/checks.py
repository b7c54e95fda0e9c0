"""Asset checks per job partition: read the job's rows back from the lake and apply the rules.

Dagster 1.13 supports partitioned asset checks (`partitions_def` on `AssetCheckSpec`, a preview
feature): each check is evaluated for one job partition, the partition of the run, and its result
is recorded against that partition. The checks run in one op (`job_checks`), so a run of a
partition has four steps (tables, checks, views, views file), not eight: with the multiprocess,
Kubernetes or Celery executors every step is a process, a pod or a task. The op can be subset, so
one check can be re-run alone. The rules themselves live in :mod:`dagster_project.quality`.

Error-severity checks are blocking: when one fails, the check step fails and nothing downstream of
the tables in that run (the views, the views file) is refreshed, and the views' automation waits
until every blocking check passes. Warnings do not block. Every result carries the job it judged
(`job` metadata), beside the partition it is recorded against.
"""

import warnings
from collections.abc import Callable

import dagster as dg
import pyarrow.compute as pc

from dagster_project import quality
from dagster_project.assets import table_key
from dagster_project.lakeread import read_partition
from dagster_project.partitions import jobs_partitions
from dagster_project.resources import GtlakeResource
from gtlake.frames import references, resolve
from gtlake.schemas import FILE_SCHEMAS

# Checks on partitioned assets are a preview feature in Dagster 1.13; it is what we want.
warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec.*")

Rule = Callable[[GtlakeResource, str], quality.Verdict]
RULES: list[tuple[str, Rule, dg.AssetCheckSeverity]] = []  # (table, rule, severity if failed)


def _job_check(table: str, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR):
    """Register `rule(gtlake, job) -> Verdict` as a check on `table`, named after the rule."""

    def register(rule: Rule) -> Rule:
        RULES.append((table, rule, severity))
        return rule

    return register


@_job_check("objects")
def every_line_accounted_for(gtlake: GtlakeResource, job: str) -> quality.Verdict:
    """Every non-blank line of the job's manifest (recounted from the source file) is in
    `objects` or in `quarantine`, exactly once."""
    lake = gtlake.lake_location()
    jobs = read_partition(lake, "jobs", job, ["manifest"])
    manifest = jobs["manifest"][0].as_py() if jobs.num_rows else None
    expected = 0
    if manifest:
        source = gtlake.find_job(job)
        with gtlake.source_location().fs().open(f"{source.path}/{manifest}", "rb") as stream:
            expected = quality.count_nonblank_lines(stream)
    objects = read_partition(lake, "objects", job, ["line"])["line"]
    quarantine = read_partition(lake, "quarantine", job, ["file", "line"])
    of_manifest = quarantine.filter(
        pc.and_(pc.equal(quarantine["file"], manifest or ""), pc.is_valid(quarantine["line"]))
    )
    return quality.lines_accounted(objects, of_manifest["line"], expected)


@_job_check("labels")
def confidences_within_0_1(gtlake: GtlakeResource, job: str) -> quality.Verdict:
    """Every confidence (labels, boxes, classes, segments, entities: every table with a
    `confidence` column) lies in [0, 1]."""
    lake = gtlake.lake_location()
    tables = {
        table: read_partition(lake, table, job, ["line", "attribute", "confidence"])
        for table, schema in FILE_SCHEMAS.items()
        if {"line", "attribute", "confidence"} <= set(schema.names)
    }
    return quality.confidences_in_range(tables)


@_job_check("labels")
def label_attribute_names(gtlake: GtlakeResource, job: str) -> quality.Verdict:
    """Label attribute names follow Ground Truth's rules: never `-metadata` in the name; `-ref` at
    the end for semantic segmentation (and video or point-cloud sequences), never for other
    types."""
    lake = gtlake.lake_location()
    labels = read_partition(lake, "labels", job, ["attribute", "label_type"])
    passthrough = read_partition(lake, "objects", job, ["attributes"])["attributes"]
    return quality.attribute_names(labels, passthrough)


@_job_check("boxes")
def boxes_match_confidences(gtlake: GtlakeResource, job: str) -> quality.Verdict:
    """Each bounding-box label has as many `objects[].confidence` entries as boxes (the library
    leaves confidences null and writes a `labels.warning` when they differ)."""
    lake = gtlake.lake_location()
    labels = read_partition(
        lake, "labels", job, ["line", "attribute", "label_type", "metadata", "warning"]
    )
    boxes = read_partition(lake, "boxes", job, ["line", "attribute"])
    return quality.box_confidence_counts(labels, boxes)


@_job_check("frames")
def referenced_files_accounted_for(gtlake: GtlakeResource, job: str) -> quality.Verdict:
    """Every sequence file that a video or point-cloud label of the job refers to (resolved in
    the job directory as the ingest resolves it) is in `frames` or in `quarantine`."""
    lake = gtlake.lake_location()
    jobs = read_partition(lake, "jobs", job, ["label_attribute"])
    own = jobs["label_attribute"][0].as_py() if jobs.num_rows else None
    columns = ["line", "object_id", "attribute", "label_type", "value", "metadata"]
    referenced = {}
    for ref in references(read_partition(lake, "labels", job, columns)):
        path = resolve(ref.uri, job, ref.attribute == own)
        if path is not None:
            referenced.setdefault(path, f"line {ref.line + 1} ({ref.attribute})")
    loaded = set(read_partition(lake, "frames", job, ["file"])["file"].to_pylist())
    quarantined = set(read_partition(lake, "quarantine", job, ["file"])["file"].to_pylist())
    return quality.referenced_files_accounted(referenced, loaded, quarantined)


@_job_check("quarantine", severity=dg.AssetCheckSeverity.WARN)
def quarantine_empty(gtlake: GtlakeResource, job: str) -> quality.Verdict:
    """Nothing of the job went to quarantine (a warning, not an error: bad lines are kept, and
    the run that read them succeeds)."""
    rows = read_partition(gtlake.lake_location(), "quarantine", job, ["file", "line", "error"])
    return quality.quarantine_empty(rows)


def _spec(table: str, rule: Rule, severity: dg.AssetCheckSeverity) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        rule.__name__,
        asset=table_key(table),
        description=" ".join((rule.__doc__ or "").split()),
        partitions_def=jobs_partitions,
        blocking=severity == dg.AssetCheckSeverity.ERROR,
        metadata={"severity": severity.value},
    )


CHECK_SPECS = [_spec(table, rule, severity) for table, rule, severity in RULES]


@dg.multi_asset_check(
    name="job_checks",
    specs=CHECK_SPECS,
    can_subset=True,
    description="The data-quality checks of one job partition, read back from the lake.",
)
def job_checks(context: dg.AssetCheckExecutionContext, gtlake: GtlakeResource):
    selected = context.selected_asset_check_keys
    for (table, rule, severity), spec in zip(RULES, CHECK_SPECS, strict=True):
        if spec.key not in selected:
            continue
        verdict = rule(gtlake, context.partition_key)
        yield dg.AssetCheckResult(
            asset_key=table_key(table),
            check_name=spec.name,
            passed=verdict.passed,
            severity=severity,
            description=verdict.description,
            metadata={"job": context.partition_key, **verdict.metadata},
        )
