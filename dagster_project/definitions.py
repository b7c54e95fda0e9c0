"""The Dagster code location: assets, checks, jobs, sensor, schedule and the gtlake resource.

`workspace.yaml` loads this module (`dagster dev -w workspace.yaml`). The resource is configured
from the environment when the module loads (see :mod:`dagster_project.resources`).

Jobs:
- `ingest` (partitioned by job): ingest the job into every table, run the job's checks, refresh
  the views file. The sensor and the schedule request it, one run per job.
- `refresh_views`: rewrite the DuckDB views file alone.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.assets import TABLE_SPECS, VIEWS_KEY, duckdb_views, lake_tables
from dagster_project.checks import job_checks
from dagster_project.resources import GtlakeResource
from dagster_project.sensors import INGEST_JOB, daily_reconcile, new_or_changed_jobs
from dagster_project.training_sets import training_set_assets

REFRESH_VIEWS_JOB = "refresh_views"

ingest = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.assets(*[spec.key for spec in TABLE_SPECS], VIEWS_KEY),
    description="Ingest one labeling job (one partition), check it, refresh the views file.",
)

refresh_views = dg.define_asset_job(
    REFRESH_VIEWS_JOB,
    selection=dg.AssetSelection.assets(VIEWS_KEY),
    description="Rewrite the DuckDB views file over the lake.",
)

defs = dg.Definitions(
    assets=[lake_tables, duckdb_views, *training_set_assets()],
    asset_checks=[job_checks],
    jobs=[ingest, refresh_views],
    sensors=[new_or_changed_jobs],
    schedules=[daily_reconcile],
    resources={"gtlake": GtlakeResource.from_env()},
)


def ingest_job_def() -> dg.JobDefinition:
    """The `ingest` job, for `dagster.reconstructable` (runs in other processes)."""
    return defs.resolve_job_def(INGEST_JOB)


def refresh_views_job_def() -> dg.JobDefinition:
    """The `refresh_views` job, for `dagster.reconstructable`."""
    return defs.resolve_job_def(REFRESH_VIEWS_JOB)
