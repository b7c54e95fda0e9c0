"""`make run`: the whole pipeline through Dagster, in this process and its workers, no web server.

    python -m dagster_project.run --source build/sample --lake lake [--workers 2]

Discovers the jobs under SOURCE, adds one `jobs` partition per job, runs the `ingest` job for every
partition (WORKERS partitions at a time, each run in its own worker process: ingest, the job's
asset checks, the views file), refreshes the views file once more, and prints a summary: jobs, rows
per table, quarantined lines, check results and one query on the views file.

Without `$DAGSTER_HOME` (a fresh clone) every run uses an ephemeral in-memory instance: nothing to
set up, nothing left behind. With `$DAGSTER_HOME` set, partitions and runs are recorded in that
instance, so `dagster dev -w workspace.yaml` with the same `$DAGSTER_HOME` shows them (slower:
SQLite commits every event).
Exit status: 0 when every run succeeded and no error-severity check failed; 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from gtlake.processes import worker_pool
from gtlake.storage import Location

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
EXAMPLE_QUERY = """\
select type, count(distinct job) as jobs, count(*) as labels,
    round(avg(confidence), 3) as mean_confidence
from labels
group by type
order by labels desc, type"""


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    severity: str  # ERROR or WARN
    description: str | None


@dataclass
class PartitionRun:
    """What one `ingest` run did, as plain values (it crosses a process boundary)."""

    job: str
    run_id: str
    success: bool
    task_type: str = ""
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    checks: list[CheckOutcome] = field(default_factory=list)
    error: str | None = None


def run_config(executor: str, max_concurrent: int = 2) -> dict:
    """Run config choosing the executor: `in_process` or `multiprocess` (steps in subprocesses)."""
    if executor == "multiprocess":
        execution = {"multiprocess": {"max_concurrent": max_concurrent}}
    else:
        execution = {"in_process": {}}
    return {"execution": {"config": execution}, **QUIET_LOGS}


def materialize_partition(
    job: str, instance_ref=None, executor: str = "in_process"
) -> PartitionRun:
    """Run `ingest` for one job partition.

    Without `instance_ref` the run happens in this process in an ephemeral instance (nothing is
    recorded); with it, the run is recorded in that persistent instance and executes with
    `executor` (`in_process`, or `multiprocess`: every step in its own subprocess).
    """
    import dagster as dg

    from dagster_project.definitions import ingest_job_def
    from dagster_project.partitions import JOBS

    if instance_ref is None:
        with dg.DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions(JOBS, [job])
            result = ingest_job_def().execute_in_process(
                instance=instance, partition_key=job, run_config=QUIET_LOGS, raise_on_error=False
            )
            return summarize(job, result)
    with dg.DagsterInstance.from_ref(instance_ref) as instance:
        result = dg.execute_job(
            dg.reconstructable(ingest_job_def),
            instance=instance,
            run_config=run_config(executor),
            tags={"dagster/partition": job},
            raise_on_error=False,
        )
        return summarize(job, result)


def summarize(job: str, result) -> PartitionRun:
    """The materializations and check evaluations of a run, as a PartitionRun."""
    run = PartitionRun(job, result.run_id, result.success)
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        table = materialization.asset_key.path[-1]
        metadata = materialization.metadata
        if "dagster/row_count" in metadata:
            run.rows[table] = metadata["dagster/row_count"].value
            run.quarantined = metadata["quarantined_lines"].value
            run.task_type = metadata["job_type"].value
    for evaluation in result.get_asset_check_evaluations():
        run.checks.append(
            CheckOutcome(
                evaluation.check_name,
                evaluation.passed,
                evaluation.severity.value,
                evaluation.description,
            )
        )
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        run.error = (
            failures[0].event_specific_data.error.message.strip().splitlines()[-1]
            if failures
            else "run failed"
        )
    run.checks.sort(key=lambda c: c.name)
    return run


def materialize_all(
    jobs: Sequence[str], workers: int = 2, instance=None, executor: str = "in_process"
) -> list[PartitionRun]:
    """One `ingest` run per job partition, `workers` runs at a time (in worker processes)."""
    ref = instance.get_ref() if instance is not None else None
    if workers <= 1:
        return [materialize_partition(job, ref, executor) for job in jobs]
    # workers that die with this process (a killed `make run` leaves no run going on)
    with worker_pool(workers) as pool:
        futures = [pool.submit(materialize_partition, job, ref, executor) for job in jobs]
        return [future.result() for future in futures]


def refresh_views(instance) -> bool:
    """Run `refresh_views` once (after every partition, so the file sees every table)."""
    from dagster_project.definitions import refresh_views_job_def

    result = refresh_views_job_def().execute_in_process(
        instance=instance, run_config=QUIET_LOGS, raise_on_error=False
    )
    return result.success


def add_partitions(instance, jobs: Sequence[str]) -> list[str]:
    """Add the `jobs` partitions that are missing; return the ones added."""
    from dagster_project.partitions import JOBS

    existing = set(instance.get_dynamic_partitions(JOBS))
    new = [job for job in jobs if job not in existing]
    if new:
        instance.add_dynamic_partitions(JOBS, new)
    return new


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in row] for row in (header, *rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in cells)  # fmt: skip


def print_summary(
    runs: Sequence[PartitionRun], views_path: str, views_ok: bool, lake: Location | None = None
) -> None:
    from gtlake.schemas import TABLES

    rows = []
    for run in runs:
        passed = sum(c.passed for c in run.checks)
        status = "ok" if run.success else f"FAILED: {run.error}"
        rows.append(
            (
                run.job,
                run.task_type,
                run.rows.get("objects", 0),
                run.quarantined,
                f"{passed}/{len(run.checks)}",
                status,
            )
        )
    print(_table(("job", "type", "lines", "quarantined", "checks", "run"), rows))
    totals = {t: sum(r.rows.get(t, 0) for r in runs) for t in TABLES}
    print("\nrows per table: " + ", ".join(f"{t} {n}" for t, n in totals.items()))
    print(f"quarantined lines: {sum(r.quarantined for r in runs)}")
    outcomes = [(r.job, c) for r in runs for c in r.checks]
    failed = [(j, c) for j, c in outcomes if not c.passed]
    print(
        f"checks: {len(outcomes)} evaluated, {len(outcomes) - len(failed)} passed, "
        f"{sum(c.severity == 'WARN' for _, c in failed)} warnings, "
        f"{sum(c.severity == 'ERROR' for _, c in failed)} failed"
    )
    for job, check in failed:
        print(f"  {check.severity.lower()}: {check.name} on {job}: {check.description}")
    if not views_ok:
        print(f"views file: refresh FAILED ({views_path})")
        return
    from dagster_project import viewsfile

    names = viewsfile.view_names(views_path)
    print(f"views file: {views_path} ({len(names)} views)")
    columns, result = viewsfile.query(views_path, EXAMPLE_QUERY, lake)
    print(f"\nexample query:\n{EXAMPLE_QUERY}\n")
    print(_table(columns, [["" if v is None else v for v in row] for row in result]))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dagster_project.run",
        description="Ingest every job under SOURCE into LAKE through Dagster (no web server).",
    )
    parser.add_argument("--source", required=True, help="job directories (path or s3:// URL)")
    parser.add_argument("--lake", required=True, help="where the lake is written")
    parser.add_argument("--views", help="the DuckDB views file (default: LAKE/gtlake.duckdb)")
    parser.add_argument("--endpoint-url", help="S3-compatible endpoint for s3:// paths")
    parser.add_argument("--workers", type=int, default=2, help="partitions run at once (2)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The definitions read their configuration from the environment (in every process).
    os.environ["GTLAKE_SOURCE"] = args.source
    os.environ["GTLAKE_LAKE"] = args.lake
    if args.views:
        os.environ["GTLAKE_VIEWS"] = args.views
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    recorded = bool(os.environ.get("DAGSTER_HOME"))

    import dagster as dg

    from dagster_project.resources import GtlakeResource
    from gtlake.errors import GtlakeError

    gtlake = GtlakeResource.from_env()  # what the definitions bind, as plain values
    try:
        jobs = [job.name for job in gtlake.list_jobs()]
    except GtlakeError as exc:
        print(f"gtlake: error: {exc}", file=sys.stderr)
        return 1
    instance = dg.DagsterInstance.get() if recorded else dg.DagsterInstance.ephemeral()
    with instance:
        added = add_partitions(instance, jobs)
        where = f"instance {os.environ['DAGSTER_HOME']}" if recorded else "ephemeral instances"
        print(
            f"{len(jobs)} jobs under {args.source} ({len(added)} new partitions); "
            f"{args.workers} workers; Dagster {where}"
        )
        runs = materialize_all(jobs, args.workers, instance if recorded else None)
        views_ok = refresh_views(instance)
    print_summary(runs, gtlake.views, views_ok, gtlake.lake_location())
    failed_runs = [r for r in runs if not r.success]
    failed_checks = [c for r in runs for c in r.checks if not c.passed and c.severity == "ERROR"]
    return 1 if failed_runs or failed_checks or not views_ok else 0


if __name__ == "__main__":
    sys.exit(main())
