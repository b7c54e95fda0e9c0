"""The Delta lake: snapshots, concurrent ingests, readers under rewrite, vacuum, time travel.

Windows between an ingest's steps are opened with the commit hooks of `gtlake.lake` (called at
"staged", "appended", "switching", "switched", "cleaned"), never with sleeps.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

import gtlake
from gtlake import lake as delta
from gtlake import snapshot, views, writer
from gtlake.cli import main as gtlake_main
from gtlake.errors import LakeError
from gtlake.ingest import ingest
from gtlake.state import read_fingerprints
from gtlake.storage import Location
from tests.conftest import write_job

JOB = "dogs"
META = {
    "type": "groundtruth/object-detection",
    "job-name": "labeling-job/dogs",
    "class-map": {"0": "dog"},
    "human-annotated": "yes",
    "creation-date": "2024-01-01T00:00:00",
}


def manifest(lines: int, boxes: int) -> list[str]:
    """An object-detection manifest: `lines` lines of `boxes` boxes each."""
    out = []
    for i in range(lines):
        annotations = [
            {"class_id": 0, "left": b, "top": b, "width": 5, "height": 5} for b in range(boxes)
        ]
        line = {
            "source-ref": f"s3://bucket/{i}.jpg",
            "dogs": {
                "annotations": annotations,
                "image_size": [{"width": 100, "height": 100, "depth": 3}],
            },
            "dogs-metadata": {**META, "objects": [{"confidence": 0.9}] * boxes},
        }
        out.append(json.dumps(line))
    return out


OLD, NEW = (20, 2), (7, 3)  # (lines, boxes per line): objects 20 / 40 boxes, 7 / 21 boxes


def state(counts: tuple[int, int]) -> tuple[int, int]:
    lines, boxes = counts
    return lines, lines * boxes


def read_state(con: duckdb.DuckDBPyConnection, job: str = JOB) -> tuple[int, int]:
    objects = con.execute("select count(*) from objects where job = ?", [job]).fetchone()[0]
    joined = con.execute(
        "select count(*) from objects o join boxes b using (job, line) where o.job = ?", [job]
    ).fetchone()[0]
    return objects, joined


@pytest.fixture
def hooks():
    added: list = []

    def register(hook) -> None:
        added.append(hook)
        delta.HOOKS.append(hook)

    yield register
    for hook in added:
        delta.HOOKS.remove(hook)


def _ingest(source: Path | str, lake: Location, **kwargs):
    report = ingest(Location(str(source)), lake, workers=1, **kwargs)
    return report


# -- the layout ------------------------------------------------------------------------------


def test_every_table_is_a_delta_table_partitioned_by_job_type_and_ingest(tmp_path):
    from deltalake import DeltaTable

    write_job(tmp_path / "src", JOB, manifest(*OLD))
    lake = Location(str(tmp_path / "lake"))
    assert not _ingest(tmp_path / "src", lake).failed
    for table in delta.TABLES:
        dt = DeltaTable(delta.table_uri(lake, table))
        assert dt.metadata().partition_columns == ["job", "type", "ingest_id"]
    boxes = pl.scan_delta(delta.table_uri(lake, "boxes")).collect()
    assert boxes.height == 40 and set(boxes["job"]) == {JOB}
    assert set(boxes["type"]) == {"object-detection"}


def test_a_batch_of_jobs_is_one_commit_per_table(tmp_path, hooks):
    """Group commit: the jobs staged while a batch commits make the next batch. The first
    commit is held (by a hook) until the other 29 jobs are staged: two batches in all."""
    from deltalake import DeltaTable

    for i in range(30):
        write_job(tmp_path / "src", f"job-{i}", manifest(2, 1))
    lake = Location(str(tmp_path / "lake"))
    staged: list[str] = []
    all_staged = threading.Event()

    def hold(point: str, jobs: list[str]) -> None:
        if point == "staged":
            staged.extend(jobs)
            if len(staged) == 30:
                all_staged.set()
        elif point == "appended" and len(jobs) == 1:
            assert all_staged.wait(120)

    hooks(hold)
    assert not _ingest(tmp_path / "src", lake).failed
    # version 0 creates the table; then one append per batch, and `jobs` one switch per batch
    assert DeltaTable(delta.table_uri(lake, "objects")).version() == 2
    assert DeltaTable(delta.table_uri(lake, "jobs")).version() == 2
    con = gtlake.connect(lake.url)
    assert con.execute("select count(*) from objects").fetchone()[0] == 60


ODD_NAMES = [
    "ünïcødé-ジョブ",
    'it\'s "quoted"',
    "100% done",
    "a=b",
    "with space",
    "résumé/../x".replace("/", "-"),
]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_job_names_round_trip_exactly(tmp_path, name):
    write_job(tmp_path / "src", name, manifest(3, 1))
    lake = Location(str(tmp_path / "lake"))
    assert not _ingest(tmp_path / "src", lake).failed
    con = gtlake.connect(lake.url)
    assert con.execute("select distinct job from boxes").fetchall() == [(name,)]
    assert read_state(con, name) == (3, 3)
    assert gtlake.scan(lake.url, "objects").collect()["job"].unique().to_list() == [name]
    assert pl.scan_delta(delta.table_uri(lake, "jobs")).collect()["job"].to_list() == [name]
    assert read_fingerprints(lake).keys() == {name}


def test_long_job_names_fit_a_local_lake(tmp_path):
    """Defect 12: 85 non-ASCII characters, or 252 ASCII bytes, exceed a 255-byte path part."""
    names = ["é" * 85 + "-ジ", "a" * 252]
    for name in names:
        write_job(tmp_path / "src", name, manifest(2, 1))
    lake = Location(str(tmp_path / "lake"))
    report = _ingest(tmp_path / "src", lake)
    assert not report.failed, report.failed
    con = gtlake.connect(lake.url)
    assert sorted(r[0] for r in con.execute("select distinct job from objects").fetchall()) == (
        sorted(names)
    )
    for folder in (Path(lake.root) / "objects").iterdir():
        assert len(folder.name.encode()) <= 100


def test_the_folder_key_is_bounded_and_tells_names_apart():
    assert writer.job_key("a/b") != writer.job_key("a_b")
    assert writer.job_key("x" * 1000).startswith("x" * 60 + "-")
    assert "/" not in writer.job_key("../..") and not writer.job_key("../..").startswith(".")
    assert "=" not in writer.job_key("a=b")


def test_an_old_hive_parquet_lake_is_refused_with_how_to_rebuild(tmp_path, capsys):
    old = tmp_path / "lake" / "jobs" / "job=a" / "type=x"
    old.mkdir(parents=True)
    pq.write_table(pq.read_table(_any_parquet(tmp_path)), old / "part-0.parquet")
    for argv in (["sql", str(tmp_path / "lake"), "select 1"],
                 ["ingest", str(tmp_path / "src"), "--lake", str(tmp_path / "lake")]):  # fmt: skip
        assert gtlake_main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "older gtlake" in err[0] and "--full" in err[0]


def _any_parquet(tmp_path: Path) -> Path:
    import pyarrow as pa

    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"fingerprint": ["f"]}), path)
    write_job(tmp_path / "src", JOB, manifest(1, 1))
    return path


# -- rows and state agree ----------------------------------------------------------------------


def test_two_ingests_of_one_job_with_the_manifest_changing_between_their_reads(tmp_path, hooks):
    """Ingest A reads the old manifest; in its window (staged, not committed) the manifest
    changes and ingest B runs whole. A's switch then either conflicts or wins; whichever it is,
    the rows and the fingerprint in the lake are of one run, and the next ingest repairs."""
    src = tmp_path / "src"
    lake = Location(str(tmp_path / "lake"))
    write_job(src, JOB, manifest(*NEW))
    assert not _ingest(src, lake).failed  # the job exists: A and B both replace a jobs row
    write_job(src, JOB, manifest(*OLD))
    inner: list = []

    def window(point: str, jobs: list[str]) -> None:
        if point == "staged" and not inner:
            inner.append("running")
            write_job(src, JOB, manifest(*NEW[:1], 1))  # B reads a third version
            inner.append(_ingest(src, lake, full=True))

    hooks(window)
    first = _ingest(src, lake, full=True)
    second = inner[1]
    assert not second.failed
    con = gtlake.connect(lake.url)
    rows = read_state(con)
    fingerprint = read_fingerprints(lake)[JOB]
    _, jobs = snapshot.current_jobs(lake)
    # the state and the rows come from one run: B's (A lost the switch) or A's
    if first.failed:
        assert "another ingest" in first.failed[0].error
        assert rows == (NEW[0], NEW[0]) and jobs[JOB]["lines"] == NEW[0]
    else:
        assert rows == state(OLD) and jobs[JOB]["lines"] == OLD[0]
    # the source now holds B's version: the next ingest re-ingests exactly when it differs
    from gtlake.source import list_jobs

    (listed,) = list_jobs(Location(str(src)))
    again = _ingest(src, lake)
    assert (listed.fingerprint() != fingerprint) == (not again.jobs[0].skipped)
    con = gtlake.connect(lake.url)
    assert read_state(con) == (NEW[0], NEW[0])
    assert _ingest(src, lake).jobs[0].skipped


def test_a_new_job_switched_twice_at_once_reads_one_run(tmp_path, hooks):
    """Two first ingests of a job both add a jobs row (nothing to conflict on): readers take the
    later one for rows and fingerprint alike, and the next ingest replaces both."""
    src = tmp_path / "src"
    lake = Location(str(tmp_path / "lake"))
    write_job(src, JOB, manifest(*OLD))
    done: list = []

    def window(point: str, jobs: list[str]) -> None:
        if point == "switching" and not done:
            done.append("running")
            done.append(_ingest(src, lake, full=True))

    hooks(window)
    assert not _ingest(src, lake).failed and not done[1].failed
    assert read_state(gtlake.connect(lake.url)) == state(OLD)
    from deltalake import DeltaTable

    assert DeltaTable(delta.table_uri(lake, "jobs")).to_pyarrow_table().num_rows == 2
    write_job(src, JOB, manifest(*NEW))
    assert not _ingest(src, lake).failed
    assert DeltaTable(delta.table_uri(lake, "jobs")).to_pyarrow_table().num_rows == 1
    assert read_state(gtlake.connect(lake.url)) == state(NEW)


# -- readers under rewrite -------------------------------------------------------------------


def _rewrite_under_readers(src: Path, lake: Location, hooks) -> None:
    write_job(src, JOB, manifest(*OLD))
    assert not _ingest(src, lake).failed
    early = gtlake.connect(lake.url)  # opened before the re-ingests
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            con = gtlake.connect(lake.url)
            seen.append(read_state(con))
            con.close()
            seen.append(read_state(early.cursor()))
        except BaseException as exc:  # noqa: BLE001 - counted, then asserted on
            errors.append(exc)

    def at_every_step(point: str, jobs: list[str]) -> None:
        read()

    hooks(at_every_step)
    stop = threading.Event()

    def loop() -> None:
        for _ in range(10_000):
            if stop.is_set():
                return
            read()

    reader = threading.Thread(target=loop)
    reader.start()
    try:
        for i in range(20):
            write_job(src, JOB, manifest(*(NEW if i % 2 == 0 else OLD)))
            assert not _ingest(src, lake).failed
    finally:
        stop.set()
        reader.join(60)
    assert errors == []
    assert set(seen) <= {state(OLD), state(NEW)}
    assert {state(OLD), state(NEW)} <= set(seen)
    assert read_state(early) == state(OLD)  # still its own snapshot


def test_readers_during_20_reingests_see_old_or_new_never_a_mix(tmp_path, hooks):
    _rewrite_under_readers(tmp_path / "src", Location(str(tmp_path / "lake")), hooks)


@pytest.mark.slow
def test_readers_during_20_reingests_on_s3(tmp_path, hooks, s3_bucket):
    _rewrite_under_readers(tmp_path / "src", Location(f"s3://{s3_bucket}/lake"), hooks)


# -- defects ---------------------------------------------------------------------------------


def test_disk_full_fails_the_job_cleanly_and_later_jobs_commit(tmp_path, monkeypatch):
    """Defect 5: ENOSPC while a job's file is written: that job fails with one line, nothing
    is left stuck, and the other jobs of the run (and the next run) commit."""
    src = tmp_path / "src"
    for name in ("a-full", "b-fine", "c-fine"):
        write_job(src, name, manifest(3, 1))
    lake = Location(str(tmp_path / "lake"))
    real_write = writer.JobWriter.write

    def full(self, table, data):
        if self.job == "a-full" and table == "boxes":
            raise LakeError(f"cannot write {self._path(table)}: {os.strerror(errno.ENOSPC)}")
        return real_write(self, table, data)

    monkeypatch.setattr(writer.JobWriter, "write", full)
    report = _ingest(src, lake)
    assert [j.job for j in report.failed] == ["a-full"]
    assert "No space left on device" in report.failed[0].error
    monkeypatch.setattr(writer.JobWriter, "write", real_write)
    assert [j.job for j in _ingest(src, lake).jobs if not j.skipped] == ["a-full"]
    con = gtlake.connect(lake.url)
    assert con.execute("select count(*) from objects").fetchone()[0] == 9
    assert not [p for p in (Path(lake.root) / "objects").rglob("*") if p.suffix == ".fixed"]


def test_files_of_a_killed_run_are_vacuumed(tmp_path, hooks):
    """Defect 10: a run that dies after writing its files leaves only unreferenced files,
    which `vacuum` removes (here with no retention), and the lake reads the same."""
    src = tmp_path / "src"
    write_job(src, JOB, manifest(*OLD))
    lake = Location(str(tmp_path / "lake"))
    assert not _ingest(src, lake).failed

    class Killed(BaseException):
        pass

    killed: list[str] = []

    def die(point: str, jobs: list[str]) -> None:
        if point == "staged" and not killed:  # files written, nothing committed
            killed.append(point)
            raise Killed

    hooks(die)
    write_job(src, JOB, manifest(*NEW))
    with pytest.raises(Killed):
        _ingest(src, lake)
    assert read_state(gtlake.connect(lake.url)) == state(OLD)
    before = sorted(p for p in Path(lake.root).rglob("*.parquet") if "_delta_log" not in str(p))
    removed = delta.vacuum(lake, retain_hours=0)
    after = sorted(p for p in Path(lake.root).rglob("*.parquet") if "_delta_log" not in str(p))
    assert sum(removed.values()) == len(before) - len(after) > 0
    assert read_state(gtlake.connect(lake.url)) == state(OLD)
    assert not _ingest(src, lake).failed
    assert read_state(gtlake.connect(lake.url)) == state(NEW)


# -- vacuum and time travel -----------------------------------------------------------------


def test_replaced_files_stay_until_vacuum_and_as_of_reads_the_past(tmp_path, capsys):
    src = tmp_path / "src"
    lake = Location(str(tmp_path / "lake"))
    write_job(src, JOB, manifest(*OLD))
    assert not _ingest(src, lake).failed
    first = snapshot.take(lake).jobs_version
    write_job(src, JOB, manifest(*NEW))
    assert not _ingest(src, lake).failed
    assert read_state(views.connect(lake, as_of=first)) == state(OLD)
    assert read_state(views.connect(lake)) == state(NEW)
    assert gtlake_main(["sql", lake.url, "--as-of", str(first), "select count(*) from boxes"]) == 0
    assert "40" in capsys.readouterr().out
    # the default retention keeps the old files: the past stays readable
    assert gtlake_main(["vacuum", lake.url]) == 0
    assert read_state(views.connect(lake, as_of=first)) == state(OLD)
    assert gtlake_main(["vacuum", lake.url, "--retain", "0"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert read_state(views.connect(lake)) == state(NEW)
    # (the jobs rows of that version are in the log; the data files they name are gone)
    with pytest.raises(LakeError, match="No files found|not found"):
        views.connect(lake, as_of=first)


def test_as_of_a_time(tmp_path):
    from datetime import UTC, datetime

    src = tmp_path / "src"
    lake = Location(str(tmp_path / "lake"))
    write_job(src, JOB, manifest(*OLD))
    assert not _ingest(src, lake).failed
    between = datetime.now(UTC)
    write_job(src, JOB, manifest(*NEW))
    assert not _ingest(src, lake).failed
    moment = snapshot.parse_as_of(between.isoformat())
    assert read_state(views.connect(lake, as_of=moment)) == state(OLD)
    with pytest.raises(LakeError, match="neither a version"):
        snapshot.parse_as_of("yesterday")


def test_the_views_file_pins_the_snapshot_and_opens_as_storage_v1(tmp_path):
    src = tmp_path / "src"
    lake = Location(str(tmp_path / "lake"))
    write_job(src, JOB, manifest(*OLD))
    assert not _ingest(src, lake).failed
    path = str(tmp_path / "views.duckdb")
    views.write_database(lake, path)
    write_job(src, JOB, manifest(*NEW))
    assert not _ingest(src, lake).failed
    with duckdb.connect(path, read_only=True) as con:
        assert read_state(con) == state(OLD)  # its snapshot, with no extension loaded
        (tags,) = con.execute(
            "select tags from duckdb_databases() where database_name = 'views'"
        ).fetchone()
        assert tags["storage_version"].startswith(views.STORAGE_VERSION)
    views.write_database(lake, path)
    with duckdb.connect(path, read_only=True) as con:
        assert read_state(con) == state(NEW)


def test_the_views_file_of_an_s3_lake_is_queried_with_the_lake_registered(tmp_path, s3_bucket):
    """Defect 11: the views file names `s3://` files; `viewsfile.query` with the lake reads them
    through the lake's own filesystem (no httpfs download)."""
    from dagster_project import viewsfile

    write_job(tmp_path / "src", JOB, manifest(*OLD))
    lake = Location(f"s3://{s3_bucket}/lake")
    assert not _ingest(tmp_path / "src", lake).failed
    path = str(tmp_path / "views.duckdb")
    assert "boxes" in viewsfile.refresh(lake, path)
    _, rows = viewsfile.query(path, "select count(*) from boxes", lake)
    assert rows == [(state(OLD)[1],)]


def _files_rows(lake: Location) -> list[dict]:
    """The `jobs` table's rows read from its data files."""
    rows = snapshot._jobs_rows(lake, delta.open_table(lake, delta.JOBS))
    return sorted(rows, key=lambda r: (r["job"], r["ingest_id"]))


def _log_rows(lake: Location) -> list[dict] | None:
    """The `jobs` table's rows read from its log (None: not every file has them there)."""
    table = delta.jobs_from_log(delta.open_table(lake, delta.JOBS))
    if table is None:
        return None
    return sorted(snapshot._pylist(table), key=lambda r: (r["job"], r["ingest_id"]))


def test_the_jobs_rows_are_read_from_the_log_alone(tmp_path):
    """Each `jobs` file holds one row, and its add action carries that row as its statistics:
    the state and the snapshot read `jobs` from the Delta log, no data file (nulls, odd names,
    long values and the timestamp to the microsecond included)."""
    long_name = "ünïcødé-" + "x" * 200
    write_job(tmp_path / "src", JOB, manifest(*OLD))
    write_job(tmp_path / "src", long_name, manifest(2, 1))
    write_job(tmp_path / "src", "unlabeled", ['{"source-ref": "s3://b/1.jpg"}'])
    (tmp_path / "src" / "no-manifest-yet" / "manifests").mkdir(parents=True)
    lake = Location(str(tmp_path / "lake"))
    assert not _ingest(tmp_path / "src", lake).failed
    from_log = _log_rows(lake)
    assert from_log == _files_rows(lake)
    assert len(from_log) == 4
    assert {r["job"]: r["manifest"] for r in from_log}["no-manifest-yet"] is None
    assert {r["job"]: r["label_attribute"] for r in from_log}["unlabeled"] is None
    # a checkpoint (every 20 commits) keeps the statistics
    for _ in range(12):
        assert not _ingest(tmp_path / "src", lake, full=True).failed
    log = os.listdir(os.path.join(delta.table_uri(lake, delta.JOBS), "_delta_log"))
    assert any(name.endswith(".checkpoint.parquet") for name in log)
    from_log = _log_rows(lake)
    assert from_log == _files_rows(lake)


def test_jobs_files_without_their_row_in_the_log_are_read(tmp_path, monkeypatch):
    """A lake whose `jobs` files carry no row statistics (written by the first Delta version of
    gtlake, or rewritten by another engine) is read from its files: same state, same skips."""
    write_job(tmp_path / "src", JOB, manifest(*OLD))
    write_job(tmp_path / "src", "cats", manifest(3, 1))
    lake = Location(str(tmp_path / "lake"))
    plain = delta._add
    monkeypatch.setattr(delta, "_add", lambda *args, row=None: plain(*args))
    assert not _ingest(tmp_path / "src", lake).failed
    monkeypatch.undo()
    assert _log_rows(lake) is None
    fingerprints = read_fingerprints(lake)
    assert fingerprints.keys() == {JOB, "cats"}
    assert all(j.skipped for j in _ingest(tmp_path / "src", lake).jobs)
    write_job(tmp_path / "src", "cats", manifest(4, 1))
    again = _ingest(tmp_path / "src", lake)
    assert [j.job for j in again.jobs if not j.skipped] == ["cats"]
    # one file with its row in the log and one without: still read from the files
    assert _log_rows(lake) is None
    assert read_fingerprints(lake)[JOB] == fingerprints[JOB]
    assert read_fingerprints(lake)["cats"] != fingerprints["cats"]
    con = gtlake.connect(lake.url)
    assert con.execute("select lines from jobs where job = 'cats'").fetchone() == (4,)
