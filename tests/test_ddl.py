"""`gtlake ddl`: the DuckDB statements run and read what `gtlake.connect` reads; the Athena, Trino
and Spark statements name every table where it is, and their views keep each job's current
ingest (run here in DuckDB over the raw Delta tables, which hold a run that never switched)."""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest
from deltalake import DeltaTable

import gtlake
from gtlake import lake as delta
from gtlake.ddl import CURRENT, RAW_SUFFIX, DdlError, ddl
from gtlake.demo import write_samples
from gtlake.ingest import ingest
from gtlake.schemas import DELTA_PARTITIONS, TABLES
from gtlake.storage import Location, register_duckdb
from tests.conftest import gtlake as run_gtlake
from tests.conftest import write_job
from tests.test_lake import JOB, OLD, manifest

KILLED_JOB = "identify-dogs-and-toys"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Location:
    """The bundled samples ingested, then one job ingested again by a run that failed between its
    append and its switch: the Delta tables hold that run's rows, which no reader may see."""
    base = tmp_path_factory.mktemp("ddl")
    write_samples(base / "src")
    src, where = Location(str(base / "src")), Location(str(base / "lake"))
    assert not ingest(src, where, workers=1).failed

    def die(point: str, jobs: list[str]) -> None:
        if point == "appended":
            raise RuntimeError("the run dies before its switch")

    delta.HOOKS.append(die)
    try:
        report = ingest(src, where, names=[KILLED_JOB], full=True, workers=1)
    finally:
        delta.HOOKS.remove(die)
    assert [r.job for r in report.failed] == [KILLED_JOB]
    return where


def _expected(lake: Location) -> dict[str, list[tuple]]:
    with gtlake.connect(lake.url) as con:
        return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr) for t in TABLES}


def _rows(con: duckdb.DuckDBPyConnection, name: str, exclude: str = "") -> list[tuple]:
    columns = f"* exclude ({exclude})" if exclude else "*"
    return sorted(con.execute(f"select {columns} from {name}").fetchall(), key=repr)


# -- DuckDB ------------------------------------------------------------------------------------


def test_the_duckdb_statements_read_what_gtlake_connect_reads(lake):
    expected = _expected(lake)
    assert sum(map(len, expected.values())) > 1000
    con = duckdb.connect()
    con.execute(ddl(lake, "duckdb"))
    for table in TABLES:
        assert _rows(con, f"gtlake.{table}") == expected[table], table
    columns = [d[0] for d in con.execute("select * from gtlake.boxes limit 0").description]
    assert columns[:2] == ["job", "type"] and "ingest_id" not in columns  # as the views give


def test_the_duckdb_statements_name_the_snapshot_files_only(lake):
    text = ddl(lake, "duckdb", database="main")
    logged = [a["path"] for a in delta._actions(delta.open_table(lake, "objects"))]
    killed = [p for p in logged if p.startswith(f"{KILLED_JOB}-")]
    assert len(killed) == 2  # the current ingest's file and the killed run's
    assert sum(p in text for p in killed) == 1
    assert "create or replace view main.objects as" in text


def test_duckdb_location_points_the_views_at_a_copy(lake, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(lake.root, copy)
    text = ddl(lake, "duckdb", location=str(copy))
    assert lake.root not in text.split("\n", 5)[-1]
    con = duckdb.connect()
    con.execute(text)
    assert _rows(con, "gtlake.boxes") == _expected(lake)["boxes"]


@pytest.mark.slow
def test_the_duckdb_statements_of_an_s3_lake_run_with_the_lake_registered(tmp_path, s3_bucket):
    write_job(tmp_path / "src", JOB, manifest(*OLD))
    lake = Location(f"s3://{s3_bucket}/lake")
    assert not ingest(Location(str(tmp_path / "src")), lake, workers=1).failed
    text = ddl(lake, "duckdb")
    assert f"'s3://{s3_bucket}/lake/boxes/" in text
    con = duckdb.connect()
    register_duckdb(con, lake)
    con.execute(text)
    expected = _expected(lake)
    for table in ("objects", "boxes", "labels", "jobs"):
        assert _rows(con, f"gtlake.{table}") == expected[table] != []


# -- Athena, Trino, Spark ----------------------------------------------------------------------

S3 = "s3://bucket/gt/lake"


def _statements(text: str) -> list[str]:
    """The statements of `text`, comments dropped."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


@pytest.mark.parametrize("engine", ["athena", "trino", "spark"])
def test_every_table_is_registered_where_it_is_and_gets_a_view(lake, engine):
    location = S3 if engine != "spark" else None
    text = ddl(lake, engine, location=location)
    statements = _statements(text)
    prefix = "delta.gtlake" if engine == "trino" else "gtlake"
    base = S3 if location else f"file://{lake.root}"
    kind = "schema" if engine == "trino" else "database"
    assert statements[0] == f"create {kind} if not exists {prefix}"
    for table in TABLES:
        where = f"{base}/{table}" + ("/" if engine == "athena" else "")
        raw = f"{table}{RAW_SUFFIX}"
        register = {
            "athena": f"create external table gtlake.{raw}\nlocation '{where}'\n"
            "tblproperties ('table_type' = 'DELTA')",
            "trino": f"call delta.system.register_table(schema_name => 'gtlake', "
            f"table_name => '{raw}', table_location => '{where}')",
            "spark": f"create table if not exists gtlake.{raw}\nusing delta\nlocation '{where}'",
        }[engine]
        assert register in statements, table
        view = [s for s in statements if s.startswith(f"create or replace view {prefix}.{table} ")]
        assert len(view) == 1 and f"from {prefix}.{raw} as t" in view[0], table
        assert "on t.job = c.job and t.ingest_id = c.ingest_id" in view[0]
    assert f"partitioned by {', '.join(DELTA_PARTITIONS)}" in text
    assert len(statements) == 1 + 2 * len(TABLES) + 1


@pytest.mark.parametrize("engine", ["athena", "trino", "spark"])
def test_the_views_keep_each_jobs_current_ingest(lake, engine):
    """The engines' view statements, run in DuckDB over the Delta tables as their logs hold them
    (the killed run's rows included), give exactly what gtlake reads."""
    text = ddl(lake, engine, location=S3 if engine != "spark" else None)
    con = duckdb.connect()
    prefix = "gtlake"
    if engine == "trino":
        con.execute("attach ':memory:' as delta")
        prefix = "delta.gtlake"
    con.execute(f"create schema {prefix}")
    for table in TABLES:
        data = DeltaTable(delta.table_uri(lake, table)).to_pyarrow_table()  # noqa: F841
        con.execute(f"create table {prefix}.{table}{RAW_SUFFIX} as select * from data")
    for statement in _statements(text):
        if statement.startswith("create or replace view"):
            con.execute(statement)
    expected = _expected(lake)
    raw = con.execute(f"select count(*) from {prefix}.objects{RAW_SUFFIX}").fetchone()[0]
    assert raw > len(expected["objects"])  # the killed run's rows are in the Delta table
    for table in TABLES:
        assert _rows(con, f"{prefix}.{table}", "ingest_id") == expected[table], table
    current = con.execute(f"select count(*), count(distinct job) from {prefix}.{CURRENT}")
    assert current.fetchone() == (len(expected["jobs"]),) * 2


def test_database_and_catalog_names(lake):
    text = ddl(lake, "trino", database="labeling", catalog="lakehouse", location=S3)
    assert "create schema if not exists lakehouse.labeling;" in text
    assert "call lakehouse.system.register_table(schema_name => 'labeling'" in text
    assert "create or replace view lakehouse.labeling.boxes as" in text
    spark = ddl(lake, "spark", database="labeling", location="s3a://bucket/gt/lake/")
    assert "location 's3a://bucket/gt/lake/boxes';" in spark


@pytest.mark.parametrize(
    ("engine", "options", "message"),
    [
        ("athena", {}, "athena reads tables from S3 only"),
        ("trino", {}, "is a local path"),
        ("athena", {"location": "s3a://b/lake"}, "not an s3:// URL"),
        ("hive", {}, "unknown engine 'hive'"),
        ("spark", {"database": "My-DB"}, "--database 'My-DB' is not a plain name"),
        ("trino", {"catalog": "x;drop", "location": S3}, "--catalog 'x;drop' is not a plain name"),
    ],
)
def test_mistakes_are_named(lake, engine, options, message):
    with pytest.raises(DdlError, match=re.escape(message)):
        ddl(lake, engine, **options)


def test_the_command_prints_the_statements(lake):
    ran = run_gtlake("ddl", lake.root, "--engine", "spark", "--schema", "gt")
    assert ran.returncode == 0, ran.stderr
    assert "create table if not exists gt.boxes_delta\nusing delta\n" in ran.stdout
    assert ran.stdout.endswith(";\n")


def test_help_teaches_each_engine():
    ran = run_gtlake("ddl", "--help")
    assert ran.returncode == 0
    for engine in ("athena", "trino", "spark", "duckdb"):
        assert f"--engine {engine}" in ran.stdout


def test_an_empty_table_gets_its_typed_empty_view(tmp_path):
    write_job(tmp_path / "src", JOB, manifest(*OLD))
    lake = Location(str(tmp_path / "lake"))
    assert not ingest(Location(str(tmp_path / "src")), lake, workers=1).failed
    con = duckdb.connect()
    con.execute(ddl(lake, "duckdb"))
    assert con.execute("select count(*) from gtlake.cuboids").fetchone() == (0,)
    types = dict(con.execute("describe gtlake.cuboids").fetchall()[i][:2] for i in range(3))
    assert types == {"job": "VARCHAR", "type": "VARCHAR", "line": "BIGINT"}
