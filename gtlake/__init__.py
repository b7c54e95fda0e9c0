"""gtlake: SageMaker Ground Truth output as a Hive-partitioned Parquet lake with DuckDB views.

`gtlake.scan(lake, table)` (a polars LazyFrame) and `gtlake.connect(lake)` (DuckDB with the views)
are loaded on first use, so `import gtlake` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["connect", "scan"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from gtlake import api

        return getattr(api, name)
    raise AttributeError(f"module 'gtlake' has no attribute {name!r}")
