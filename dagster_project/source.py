"""The Ground Truth output as an external asset: one partition per job directory under the source.

Nothing in Dagster materializes it (SageMaker writes it); the sensor, the `discover_jobs` job and
every ingest record *observations* of it, one per job partition, with the job's fingerprint,
status and file count. Every lake table depends on it, so lineage reads: Ground Truth output ->
tables -> views -> views file.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.partitions import jobs_partitions
from gtlake.source import JobDir

SOURCE_KEY = dg.AssetKey(["gtlake", "groundtruth_output"])


def source_spec(location: str) -> dg.AssetSpec:
    """The external asset, naming the source it stands for (`GTLAKE_SOURCE`)."""
    where = (
        dg.MetadataValue.url(location)
        if location.startswith("s3")
        else dg.MetadataValue.path(location)
    )
    return dg.AssetSpec(
        SOURCE_KEY,
        description=(
            "The SageMaker Ground Truth output: one directory per labeling job under the source "
            "(`GTLAKE_SOURCE`), written by Ground Truth, observed here. A job's observation "
            "records its fingerprint (digest of its files' paths, sizes and ETags), status "
            "(complete / in-progress) and file count."
        ),
        partitions_def=jobs_partitions,
        group_name="gtlake",
        kinds={"s3"} if location.startswith("s3") else {"file"},
        metadata={"source": where},
    )


def observation(job: JobDir) -> dg.AssetObservation:
    """What one job directory looks like now, as an observation of its partition."""
    _, status = job.manifest()
    fingerprint = job.fingerprint()
    return dg.AssetObservation(
        asset_key=SOURCE_KEY,
        partition=job.name,
        metadata={
            "fingerprint": fingerprint,
            "status": status,
            "files": dg.MetadataValue.int(len(job.files)),
            "bytes": dg.MetadataValue.int(sum(f.size for f in job.files)),
            "path": job.path,
        },
        tags={"dagster/data_version": fingerprint},
    )
