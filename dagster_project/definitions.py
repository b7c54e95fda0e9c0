"""The Dagster code location: assets, checks, jobs, sensor, schedule and the gtlake resource.

`workspace.yaml` loads this module (`dg dev`, `dagster-webserver -w workspace.yaml`); `dg check
defs` validates it. The resource is configured from the environment when the module loads (see
:mod:`dagster_project.resources`): without `GTLAKE_SOURCE` (or `GTLAKE_DEMO=1`) it refuses to
load, and the UI shows the code location's error saying so.

Assets: the Ground Truth output (external, observed), one asset per lake table (partitioned by
job), one per DuckDB view, the views file, and one per training set of `training_sets.yaml`.

Jobs:
- `ingest` (partitioned by job): ingest the job into every table, run the job's checks, refresh
  the views and the views file (skipped when an error check fails). The sensor and the schedule
  request it, one run per job.
- `refresh_views`: rebind the views and rewrite the views file alone.
- `discover_jobs`: add a partition per job directory, once.

Sensors (both running by default): `new_or_changed_jobs` (new and changed job directories) and
`views_automation` (the automation conditions of the views, the views file and training sets).
"""

from __future__ import annotations

import dagster as dg

from dagster_project.assets import TABLE_SPECS, VIEWS_KEY, lake_tables
from dagster_project.checks import job_checks
from dagster_project.discover import discover_jobs
from dagster_project.resources import GtlakeResource
from dagster_project.sensors import INGEST_JOB, daily_reconcile, new_or_changed_jobs
from dagster_project.source import source_spec
from dagster_project.sqlviews import VIEW_SPECS, duckdb_views, lake_views
from dagster_project.training_sets import training_set_assets

REFRESH_VIEWS_JOB = "refresh_views"
VIEW_KEYS = [spec.key for spec in VIEW_SPECS]

ingest = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.assets(*[spec.key for spec in TABLE_SPECS], *VIEW_KEYS, VIEWS_KEY),
    description=(
        "Ingest one labeling job (one partition), check it, refresh the views and the views file "
        "(not when an error check fails)."
    ),
)

refresh_views = dg.define_asset_job(
    REFRESH_VIEWS_JOB,
    selection=dg.AssetSelection.assets(*VIEW_KEYS, VIEWS_KEY),
    description="Rebind the DuckDB views and rewrite the views file over the lake.",
)

# Evaluates every automation condition (the views, the views file and the training sets refresh
# after the tables change); running by default like the sensor, so a fresh deployment keeps them
# current without a manual start. Assets without a condition are left alone.
views_automation = dg.AutomationConditionSensorDefinition(
    "views_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Refreshes the views, the views file and the training sets after tables change.",
)

gtlake = GtlakeResource.from_env(bind=True)  # ConfigurationError without a source

defs = dg.Definitions(
    assets=[
        source_spec(GtlakeResource.from_env().source),
        lake_tables,
        lake_views,
        duckdb_views,
        *training_set_assets(),
    ],
    asset_checks=[job_checks],
    jobs=[ingest, refresh_views, discover_jobs],
    sensors=[new_or_changed_jobs, views_automation],
    schedules=[daily_reconcile],
    resources={"gtlake": gtlake},
)


def ingest_job_def() -> dg.JobDefinition:
    """The `ingest` job, for `dagster.reconstructable` (runs in other processes)."""
    return defs.resolve_job_def(INGEST_JOB)


def refresh_views_job_def() -> dg.JobDefinition:
    """The `refresh_views` job, for `dagster.reconstructable`."""
    return defs.resolve_job_def(REFRESH_VIEWS_JOB)
