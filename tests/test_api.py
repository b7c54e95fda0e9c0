"""The Python API: `gtlake.scan` (polars) and `gtlake.connect` (DuckDB) over local and S3 lakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import gtlake
from gtlake.errors import LakeError
from gtlake.ingest import ingest
from gtlake.storage import Location
from gtlake.views import table_schemas
from tests.conftest import ROOT, write_job
from tests.test_views import ADJUST, DOGS, SPECIES, build_chained_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_chained_lake(tmp_path_factory.mktemp("api"))


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=repr)


@pytest.mark.parametrize("table", ["boxes", "labels", "objects", "worker_responses"])
def test_scan_filtered_on_job_returns_the_views_rows(lake: Path, table: str) -> None:
    job = SPECIES if table == "worker_responses" else ADJUST
    frame = gtlake.scan(str(lake), table).filter(pl.col("job") == job).collect()
    with gtlake.connect(lake) as con:
        expected = con.execute(f"select * from {table} where job = ?", [job]).fetchall()
        columns = [d[0] for d in con.execute(f"select * from {table} limit 0").description]
    assert frame.columns == columns
    assert len(frame) == len(expected) > 0
    assert _sorted(frame.rows()) == _sorted(expected)


def test_scan_reads_the_snapshot_files_only(lake: Path, tmp_path: Path) -> None:
    # an unreferenced file in a job's folder (a killed run's leftover): never read
    for folder in (lake / "boxes").glob("*/type=*"):
        (folder / "part-leftover.parquet").write_bytes(b"not parquet")
    frame = gtlake.scan(lake, "boxes").filter(pl.col("job") == DOGS).collect()
    assert len(frame) == 6
    assert gtlake.scan(lake, "boxes").collect().height == len(
        gtlake.connect(lake).execute("select * from boxes").fetchall()
    )


def test_scan_of_a_table_without_files_is_empty_with_its_columns(lake: Path) -> None:
    frame = gtlake.scan(lake, "entities").collect()
    assert frame.is_empty()
    schema = table_schemas()["entities"]
    assert frame.columns == schema.names
    assert frame.to_arrow().schema.types == [
        pl.from_arrow(schema.empty_table()).to_arrow().schema.field(n).type for n in schema.names
    ]


def test_scan_rejects_unknown_tables(lake: Path) -> None:
    with pytest.raises(LakeError, match="no table 'nope'"):
        gtlake.scan(lake, "nope")


def test_scan_filter_on_job_names_that_look_like_sql(tmp_path: Path) -> None:
    names = ["it's; drop table x; --", "a..b"]
    for name in names:
        write_job(tmp_path / "src", name, [json.dumps(
            {"source": "t", "c": 0, "c-metadata": {"class-name": "x", "confidence": 0.1,
             "type": "groundtruth/text-classification", "job-name": name}}
        )])  # fmt: skip
    ingest(Location(str(tmp_path / "src")), Location(str(tmp_path / "lake")), workers=1)
    for name in names:
        frame = gtlake.scan(tmp_path / "lake", "labels").filter(pl.col("job") == name).collect()
        assert frame["label_job"].to_list() == [name]


def test_connect_gives_every_view(lake: Path) -> None:
    with gtlake.connect(Location(str(lake))) as con:
        names = {r[0] for r in con.execute("select view_name from duckdb_views()").fetchall()}
        assert {"object_labels", "job_lineage", "low_confidence", "boxes", "files"} <= names
        frame = con.sql("select * from object_labels").pl()
        assert len(frame) == 21


def test_scan_and_connect_read_an_s3_lake(lake: Path, s3_server, s3_bucket: str) -> None:
    Location(f"s3://{s3_bucket}/x/lake").fs().put(str(lake) + "/", f"{s3_bucket}/x/lake/",
                                                  recursive=True)  # fmt: skip
    url = f"s3://{s3_bucket}/x/lake"
    remote = gtlake.scan(url, "boxes", endpoint_url=s3_server.endpoint_url)
    local = gtlake.scan(lake, "boxes")
    for job in (DOGS, ADJUST):
        got = remote.filter(pl.col("job") == job).collect()
        assert _sorted(got.rows()) == _sorted(local.filter(pl.col("job") == job).collect().rows())
    with gtlake.connect(url, endpoint_url=s3_server.endpoint_url) as con:
        assert con.execute("select count(*) from boxes where job = ?", [DOGS]).fetchall() == [(6,)]


def test_import_gtlake_loads_neither_duckdb_nor_polars() -> None:
    code = (
        "import sys, gtlake; "
        "print(sorted(m for m in ('duckdb', 'polars', 'pyarrow') if m in sys.modules)); "
        "gtlake.scan; print('polars' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "False"]


def test_pandas_from_duckdb_and_from_polars(lake: Path) -> None:
    """The `pandas` extra (numpy, pandas): `.df()` on a DuckDB result, `.to_pandas()` on a scan."""
    import pandas as pd

    with gtlake.connect(lake) as con:
        frame = con.sql("select job, count(*) as boxes from boxes group by job order by job").df()
        expected = con.execute(
            "select job, count(*) from boxes group by job order by job"
        ).fetchall()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["job", "boxes"]
    assert list(frame.itertuples(index=False, name=None)) == expected
    assert DOGS in set(frame["job"])

    boxes = gtlake.scan(lake, "boxes").filter(pl.col("job") == DOGS).collect().to_pandas()
    assert isinstance(boxes, pd.DataFrame) and len(boxes) == 6
    assert list(boxes.columns) == list(table_schemas()["boxes"].names)
    assert set(boxes["job"]) == {DOGS}
