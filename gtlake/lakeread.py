"""Reading one job's rows of a table back from the lake (what an earlier ingest wrote).

Used by an ingest to keep the rows of referenced files that have not changed since (see
:mod:`gtlake.frames`): the job's current rows, read through the lake's snapshot.
"""

from __future__ import annotations

from gtlake.snapshot import read_job as read_partition

__all__ = ["read_partition"]
