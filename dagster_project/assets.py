"""The lake's assets: one asset per table, partitioned by job, and the DuckDB views file.

Materializing one job partition is one `gtlake.ingest.ingest_job` call, which replaces that job's
partition of every table at once; the tables are therefore one `multi_asset` that cannot be
subset. The asset specs are generated from `gtlake.schemas.TABLES` (column schemas with the
descriptions of `gtlake.schemas.COLUMN_DESCRIPTIONS`), so a table added to the library appears
here without a change. Every table depends on the Ground Truth output (`dagster_project.source`);
the views (`dagster_project.views`) depend on the tables, and the views file on the views.
"""

from typing import Any

import dagster as dg

from dagster_project.partitions import jobs_partitions
from dagster_project.resources import GtlakeResource
from dagster_project.source import SOURCE_KEY, observation
from gtlake.ingest import JobResult, ingest_job
from gtlake.schemas import FILE_SCHEMAS, TABLES, column_description, full_schema
from gtlake.storage import Location
from gtlake.writer import job_key

PREFIX = "gtlake"
GROUP = "gtlake"
VIEWS_KEY = dg.AssetKey([PREFIX, "duckdb_views"])
# Deployments may cap this pool at 1 (README, Dagster section): refreshes then queue. Not needed
# for safety: every refresh writes a private file and renames it into place (see viewsfile.py).
VIEWS_POOL = "gtlake_views"


def table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([PREFIX, table])


def column_schema(table: str) -> dg.TableSchema:
    """A table's columns (partition columns first), described, in Dagster's metadata format."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=f.name,
                type=str(f.type),
                description=column_description(table, f.name),
                constraints=dg.TableColumnConstraints(nullable=f.nullable),
            )
            for f in full_schema(table)
        ]
    )


def _describe(table: str) -> str:
    columns = ", ".join(FILE_SCHEMAS[table].names)
    return f"The lake's `{table}` table, one partition per labeling job. Columns: {columns}."


TABLE_SPECS = [
    dg.AssetSpec(
        table_key(table),
        description=_describe(table),
        deps=[SOURCE_KEY],
        partitions_def=jobs_partitions,
        group_name=GROUP,
        kinds={"delta"},
        metadata={"dagster/column_schema": column_schema(table)},
    )
    for table in TABLES
]


def parquet_location(lake: Location, table: str, job: str, task_type: str) -> dg.MetadataValue:
    """The folder of a job's files of a table (a path on local disk, an S3 URL otherwise); the
    table's Delta log says which of them are current."""
    where = f"{lake.root}/{table}/{job_key(job)}/"
    if lake.is_s3:
        return dg.MetadataValue.url(f"s3://{where}")
    return dg.MetadataValue.path(where)


def table_metadata(
    table: str, result: JobResult, lake: Location, fingerprint: str
) -> dict[str, Any]:
    """What every table materialization carries."""
    metadata: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(result.rows.get(table, 0)),
        "quarantined_lines": dg.MetadataValue.int(result.quarantined),
        "lines": dg.MetadataValue.int(result.lines),
        "labeled_lines": dg.MetadataValue.int(result.labeled_lines),
        "parquet": parquet_location(lake, table, result.job, result.type),
        "dagster/column_schema": column_schema(table),
        "job_type": result.type,
        "job_status": result.status,
        "manifest": result.manifest or "(none)",
        "fingerprint": fingerprint,
    }
    if result.message:
        metadata["note"] = result.message
    return metadata


@dg.multi_asset(
    name="lake_tables",
    specs=TABLE_SPECS,
    can_subset=False,
    description="Ingest one labeling job: replace its partition of every lake table.",
)
def lake_tables(context: dg.AssetExecutionContext, gtlake: GtlakeResource):
    job = gtlake.find_job(context.partition_key)
    lake = gtlake.lake_location()
    context.log_event(observation(job))  # the source as this run found it
    result = ingest_job(job, lake, gtlake.source_location())
    fingerprint = job.fingerprint()
    context.log.info(
        f"job {job.name}: {result.type}, {result.lines} lines, "
        f"{result.quarantined} quarantined, rows {result.rows}"
    )
    for table in TABLES:
        yield dg.MaterializeResult(
            asset_key=table_key(table),
            metadata=table_metadata(table, result, lake, fingerprint),
            data_version=dg.DataVersion(fingerprint),
        )
