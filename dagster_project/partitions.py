"""The `jobs` dynamic partitions: one partition per labeling job directory, keyed by its name."""

from __future__ import annotations

import dagster as dg

JOBS = "jobs"

jobs_partitions = dg.DynamicPartitionsDefinition(name=JOBS)
