"""JobWriter: small writes are gathered into row groups, so a file's footer stays small."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from gtlake import writer as writing
from gtlake.schemas import FILE_SCHEMAS
from gtlake.storage import Location
from gtlake.writer import JobWriter


def _feedback(start: int, rows: int) -> pa.Table:
    columns = {
        "line": pa.array(range(start, start + rows), pa.int64()),
        "object_id": pa.array(["o"] * rows),
        "attribute": pa.array(["a"] * rows),
        "comment_index": pa.array([0] * rows, pa.int32()),
        "comment": pa.array([f"comment {i}" for i in range(start, start + rows)]),
    }
    schema = FILE_SCHEMAS["feedback"]
    return pa.Table.from_arrays([columns[n].cast(schema.field(n).type) for n in schema.names],
                                schema=schema)  # fmt: skip


def test_many_small_writes_make_few_row_groups(tmp_path, monkeypatch):
    """A write per sequence file made a row group each: 36,000 of them, an 84 MB footer."""
    monkeypatch.setattr(writing, "ROW_GROUP_ROWS", 1000)
    job = JobWriter(Location(str(tmp_path / "lake")), "job", "ingest-1")
    for line in range(2500):
        job.write("feedback", _feedback(line, 1))
    files = job.finish("label-verification")
    path = tmp_path / "lake" / "feedback" / files["feedback"][0].path
    meta = pq.ParquetFile(path).metadata
    assert (meta.num_rows, meta.num_row_groups) == (2500, 3)  # 1000, 1000, the last 500
    table = pq.read_table(path)
    assert table["line"].to_pylist() == list(range(2500))  # in order, none lost
    assert set(table["job"].to_pylist()) == {"job"} and files["feedback"][0].rows == 2500


def test_a_large_write_is_its_own_row_group_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(writing, "ROW_GROUP_BYTES", 1000)
    job = JobWriter(Location(str(tmp_path / "lake")), "job", "ingest-1")
    job.write("feedback", _feedback(0, 200))  # over 1000 bytes: written now, not held
    assert "feedback" not in job._pending
    job.write("feedback", _feedback(200, 1))
    files = job.finish("label-verification")
    meta = pq.ParquetFile(tmp_path / "lake" / "feedback" / files["feedback"][0].path).metadata
    assert (meta.num_rows, meta.num_row_groups) == (201, 2)


def test_an_aborted_job_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(writing, "ROW_GROUP_ROWS", 2)
    job = JobWriter(Location(str(tmp_path / "lake")), "job", "ingest-1")
    job.write("feedback", _feedback(0, 3))  # a row group written
    job.write("feedback", _feedback(3, 1))  # a row held
    assert list((tmp_path / "lake").rglob("*.parquet"))
    job.abort()
    assert not list((tmp_path / "lake").rglob("*.parquet"))
