"""Other engines read the lake through the Delta log, with the README's current-ingest filter."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable

import gtlake
from gtlake.ingest import ingest
from gtlake.lake import table_uri
from gtlake.storage import Location
from tests.conftest import write_job
from tests.test_lake import JOB, NEW, OLD, manifest, state

README = Path(__file__).resolve().parent.parent / "README.md"


def _filter_sql() -> str:
    """The SQL of the README's "Other engines" section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Other engines") :]
    return re.search(r"```sql\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def reingested(tmp_path) -> Location:
    """A lake whose job was ingested twice (OLD, then NEW) and never vacuumed: the Delta tables
    still hold the old ingest's files until the cleanup, and hold them on storage until vacuum."""
    src = tmp_path / "src"
    lake = Location(str(tmp_path / "lake"))
    write_job(src, JOB, manifest(*OLD))
    assert not ingest(Location(str(src)), lake, workers=1).failed
    write_job(src, JOB, manifest(*NEW))
    assert not ingest(Location(str(src)), lake, workers=1).failed
    return lake


def test_globbing_the_parquet_files_is_not_the_lake(reingested):
    files = duckdb.execute(
        f"select count(*) from read_parquet('{reingested.root}/boxes/**/*.parquet')"
    ).fetchone()[0]
    assert files == state(OLD)[1] + state(NEW)[1]  # both ingests' rows
    assert (
        gtlake.connect(reingested.url).execute("select count(*) from boxes").fetchone()[0]
        == (state(NEW)[1])
    )


def test_duckdb_over_arrow_with_the_readme_filter(reingested):
    con = duckdb.connect()
    con.register("jobs", DeltaTable(table_uri(reingested, "jobs")).to_pyarrow_dataset())
    con.register("boxes", DeltaTable(table_uri(reingested, "boxes")).to_pyarrow_dataset())
    count = con.execute(f"select count(*) from ({_filter_sql()})").fetchone()[0]
    assert count == state(NEW)[1]


def test_polars_scan_delta_with_the_filter(reingested):
    jobs = pl.scan_delta(table_uri(reingested, "jobs"))
    current = (
        jobs.sort(["ingested_at", "ingest_id"], descending=True)
        .group_by("job")
        .first()
        .select("job", "ingest_id")
    )
    boxes = pl.scan_delta(table_uri(reingested, "boxes")).join(
        current, on=["job", "ingest_id"], how="semi"
    )
    frame = boxes.collect()
    assert frame.height == state(NEW)[1]
    assert set(frame["type"]) == {"object-detection"} and set(frame["job"]) == {JOB}


def test_pyarrow_dataset_with_the_filter(reingested):
    jobs = DeltaTable(table_uri(reingested, "jobs")).to_pyarrow_table()
    (row,) = jobs.to_pylist()
    dataset = DeltaTable(table_uri(reingested, "boxes")).to_pyarrow_dataset()
    import pyarrow.compute as pc

    table = dataset.to_table(
        filter=(pc.field("job") == row["job"]) & (pc.field("ingest_id") == row["ingest_id"])
    )
    assert table.num_rows == state(NEW)[1]
    assert isinstance(table, pa.Table)
