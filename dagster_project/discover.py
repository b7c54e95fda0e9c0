"""`discover_jobs`: a one-shot job adding a `jobs` partition per job directory under the source.

The sensor does the same on every tick; this job does it once, on demand, so that a fresh
deployment shows its partitions before any sensor tick (and so that a deployment whose daemon is
not running yet can still be backfilled). It also records an observation of every job's partition
of the Ground Truth output asset (fingerprint, status, file count). It runs nothing else.

    dg launch --job discover_jobs     # in this process, no daemon needed; or from the UI: Jobs
"""

import dagster as dg

from dagster_project.partitions import JOBS
from dagster_project.resources import GtlakeResource
from dagster_project.source import observation

DISCOVER_JOB = "discover_jobs"


@dg.op(description="List the source; add a partition per new job; observe every job.")
def add_job_partitions(context: dg.OpExecutionContext, gtlake: GtlakeResource) -> int:
    jobs = gtlake.list_jobs()
    existing = set(context.instance.get_dynamic_partitions(JOBS))
    new = [job.name for job in jobs if job.name not in existing]
    if new:
        context.instance.add_dynamic_partitions(JOBS, new)
    for job in jobs:
        context.log_event(observation(job))
    context.log.info(f"{len(jobs)} jobs under {gtlake.source}, {len(new)} new partitions")
    context.add_output_metadata({"jobs": len(jobs), "new_partitions": len(new)})
    return len(new)


@dg.job(
    name=DISCOVER_JOB,
    description="Add a `jobs` partition for every job directory under the source (one shot).",
)
def discover_jobs() -> None:
    add_job_partitions()
