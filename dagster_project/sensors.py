"""Finding work: a sensor for new and changed jobs, and a daily schedule that reconciles.

The sensor lists the source (one recursive listing, local or S3), adds a partition for each job
it has not seen, and requests a run for each job whose fingerprint (digest of its files' paths,
sizes and ETags) differs from the one in its cursor, a JSON map job -> fingerprint; each such job
is also recorded as an observation of its partition of the Ground Truth output asset. The sensor
runs by default (a fresh deployment finds its jobs without a manual start); the `discover_jobs`
job does the partition discovery once, on demand.

The schedule compares the source with the lake itself (the fingerprint each job had when it was
last ingested, kept in the lake's `jobs` table), so it also catches what the sensor cannot: a run
that failed, a partition wiped from the lake, a tick missed while the daemon was down.
"""

import json
from dataclasses import dataclass

import dagster as dg

from dagster_project.partitions import JOBS, jobs_partitions
from dagster_project.resources import GtlakeResource
from dagster_project.source import observation
from gtlake.state import read_fingerprints

INGEST_JOB = "ingest"


@dataclass(frozen=True)
class Plan:
    new_partitions: list[str]  # jobs without a partition yet
    runs: list[str]  # jobs to (re-)ingest
    fingerprints: dict[str, str]  # the source as listed: job -> fingerprint


def plan(
    fingerprints: dict[str, str], known: dict[str, str], partitions: set[str] | frozenset[str]
) -> Plan:
    """What to do, given the source's fingerprints, the ones last seen, and existing partitions."""
    jobs = sorted(fingerprints)
    return Plan(
        new_partitions=[j for j in jobs if j not in partitions],
        runs=[j for j in jobs if known.get(j) != fingerprints[j]],
        fingerprints=dict(fingerprints),
    )


def read_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    data = json.loads(cursor)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def source_fingerprints(gtlake: GtlakeResource) -> dict[str, str]:
    return {job.name: job.fingerprint() for job in gtlake.list_jobs()}


@dg.sensor(
    name="new_or_changed_jobs",
    job_name=INGEST_JOB,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition per new job directory and ingests new and changed jobs.",
)
def new_or_changed_jobs(
    context: dg.SensorEvaluationContext, gtlake: GtlakeResource
) -> dg.SensorResult:
    jobs = {job.name: job for job in gtlake.list_jobs()}
    fingerprints = {name: job.fingerprint() for name, job in jobs.items()}
    existing = set(context.instance.get_dynamic_partitions(JOBS))
    todo = plan(fingerprints, read_cursor(context.cursor), existing)
    requests = [
        dg.RunRequest(
            run_key=f"{job}:{fingerprints[job]}",
            partition_key=job,
            tags={"gtlake/fingerprint": fingerprints[job]},
        )
        for job in todo.runs
    ]
    added = [jobs_partitions.build_add_request(todo.new_partitions)] if todo.new_partitions else []
    if todo.runs:
        context.log.info(f"{len(todo.runs)} new or changed jobs: {', '.join(todo.runs[:20])}")
    return dg.SensorResult(
        run_requests=requests,
        asset_events=[observation(jobs[job]) for job in todo.runs],
        dynamic_partitions_requests=added,
        cursor=json.dumps(todo.fingerprints, sort_keys=True, separators=(",", ":")),
    )


@dg.schedule(
    name="daily_reconcile",
    job_name=INGEST_JOB,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    description="Every day: ingest every job whose files differ from what the lake last ingested.",
)
def daily_reconcile(context: dg.ScheduleEvaluationContext, gtlake: GtlakeResource):
    fingerprints = source_fingerprints(gtlake)
    in_lake = read_fingerprints(gtlake.lake_location())
    existing = set(context.instance.get_dynamic_partitions(JOBS))
    todo = plan(fingerprints, in_lake, existing)
    if todo.new_partitions:
        context.instance.add_dynamic_partitions(JOBS, todo.new_partitions)
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    if not todo.runs:
        return dg.SkipReason(f"all {len(fingerprints)} jobs are current in the lake")
    return [
        dg.RunRequest(
            run_key=f"reconcile:{day}:{job}:{fingerprints[job]}",
            partition_key=job,
            tags={"gtlake/fingerprint": fingerprints[job]},
        )
        for job in todo.runs
    ]
