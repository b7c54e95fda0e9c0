"""Source listing: job directories, file kinds, fingerprints, locally and on S3."""

from __future__ import annotations

import os
import time

import pytest

from gtlake.errors import SourceError
from gtlake.source import file_kind, list_jobs
from gtlake.storage import Location
from tests.conftest import write_job
from tests.s3proxy import put_object
from tests.s3server import free_port


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("manifests/output/output.manifest", "output-manifest"),
        ("manifests/intermediate/12/output.manifest", "intermediate-manifest"),
        ("manifests/intermediate/1/other.manifest", "other"),
        ("annotations/worker-response/iteration-1/7/2019-04-18_16:12:00.json", "worker-response"),
        ("annotations/consolidated-annotation/consolidation-request/iteration-1/t.json",
         "consolidation-request"),
        ("annotations/consolidated-annotation/consolidation-response/iteration-1/t.json",
         "consolidation-response"),
        ("annotations/consolidated-annotation/output/0/SeqLabel.json", "consolidated-output"),
        ("annotations/intermediate/1/annotations.json", "annotation-intermediate"),
        ("activelearning/x", "activelearning"),
        ("inference/x", "inference"),
        ("training/x", "training"),
        ("annotation-tool/data.json", "annotation-tool"),
        ("temp/x", "temp"),
        ("README.txt", "other"),
    ],
)  # fmt: skip
def test_file_kind(path, kind):
    assert file_kind(path) == kind


def test_local_listing_groups_by_job_and_skips_hidden(tmp_path):
    write_job(tmp_path, "b-job", ['{"source-ref":"s3://x/1"}'])
    write_job(tmp_path, "a-job", ['{"source-ref":"s3://x/1"}'], manifest="2")
    write_job(tmp_path, "a-job", ['{"source-ref":"s3://x/1"}'], manifest="10")
    write_job(tmp_path, "_staging", ["{}"])
    write_job(tmp_path, ".hidden", ["{}"])
    (tmp_path / "empty-job").mkdir()
    jobs = list_jobs(Location(str(tmp_path)))
    assert [j.name for j in jobs] == ["a-job", "b-job", "empty-job"]
    a, b, empty = jobs
    assert [n for n, _ in a.intermediate()] == [2, 10]
    assert a.manifest()[0].path == "manifests/intermediate/10/output.manifest"
    assert a.manifest()[1] == "in-progress"
    assert b.manifest()[1] == "complete"
    assert empty.files == [] and empty.manifest() == (None, "in-progress")
    assert [j.name for j in list_jobs(Location(str(tmp_path / "b-job")))] == ["b-job"]
    with pytest.raises(SourceError, match="no job directory named nope"):
        list_jobs(Location(str(tmp_path)), ["nope"])


def test_local_fingerprint_follows_size_and_mtime(tmp_path):
    path = write_job(tmp_path, "job", ['{"a":1}'])
    before = list_jobs(Location(str(tmp_path)))[0].fingerprint()
    assert list_jobs(Location(str(tmp_path)))[0].fingerprint() == before
    os.utime(path, (1_000_000, 1_000_000))
    touched = list_jobs(Location(str(tmp_path)))[0].fingerprint()
    assert touched != before
    (tmp_path / "job" / "annotations").mkdir()
    (tmp_path / "job" / "annotations" / "x.json").write_text("{}")
    assert list_jobs(Location(str(tmp_path)))[0].fingerprint() != touched


def test_local_fingerprint_sees_a_same_size_edit_with_the_mtime_restored(tmp_path):
    """Defect 14: an edit that keeps the size and puts the modification time back (`utime`)
    still changes the fingerprint, through the change time; so does a replacement by a new
    file (another inode) with the same size and modification time."""
    path = write_job(tmp_path, "job", ['{"a":1}'])
    stat = path.stat()
    before = list_jobs(Location(str(tmp_path)))[0].fingerprint()
    for _ in range(200):  # until the change time moves (the filesystem's clock tick)
        path.write_bytes(b'{"a":2}\n')
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        if path.stat().st_ctime_ns != stat.st_ctime_ns:
            break
        time.sleep(0.005)
    edited = path.stat()
    assert (edited.st_size, edited.st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert edited.st_ctime_ns != stat.st_ctime_ns
    after = list_jobs(Location(str(tmp_path)))[0].fingerprint()
    assert after != before
    assert list_jobs(Location(str(tmp_path)))[0].fingerprint() == after

    replacement = path.with_name("new")
    replacement.write_bytes(b'{"a":3}\n')
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)
    assert list_jobs(Location(str(tmp_path)))[0].fingerprint() not in (before, after)


def test_s3_listing_skips_directory_markers_and_fingerprints_by_etag(s3_bucket):
    put_object(s3_bucket, "gt/", b"")
    put_object(s3_bucket, "gt/job-a/", b"")
    put_object(s3_bucket, "gt/job-a/annotations/", b"")
    put_object(s3_bucket, "gt/job-a/manifests/output/output.manifest", b'{"a":1}\n')
    put_object(s3_bucket, "gt/_private/manifests/output/output.manifest", b"{}\n")
    jobs = list_jobs(Location(f"s3://{s3_bucket}/gt"))
    assert [j.name for j in jobs] == ["job-a"]
    assert [f.path for f in jobs[0].files] == ["manifests/output/output.manifest"]
    etag = jobs[0].files[0].etag
    assert etag and '"' not in etag
    before = jobs[0].fingerprint()
    # Same bytes again: a new LastModified but the same ETag, so the same fingerprint.
    put_object(s3_bucket, "gt/job-a/manifests/output/output.manifest", b'{"a":1}\n')
    assert list_jobs(Location(f"s3://{s3_bucket}/gt"))[0].fingerprint() == before
    put_object(s3_bucket, "gt/job-a/manifests/output/output.manifest", b'{"a":2}\n')
    assert list_jobs(Location(f"s3://{s3_bucket}/gt"))[0].fingerprint() != before


def test_s3_source_errors_are_one_line(s3_bucket, monkeypatch):
    with pytest.raises(SourceError, match="does not exist"):
        list_jobs(Location(f"s3://{s3_bucket}/nothing-here"))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceError) as info:
        list_jobs(Location(f"s3://{s3_bucket}/gt", dead))
    message = str(info.value)
    assert "\n" not in message and "cannot be listed" in message and dead in message
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in message


def test_local_find_gives_what_fsspec_gives(tmp_path):
    """The local walk (os.scandir) lists the same entries with the same details (those a listing
    needs) as fsspec's `find(detail=True, withdirs=True)`: files, nested, empty and hidden
    directories, symbolic links to a file, to a directory and to nothing (not followed)."""
    from fsspec.implementations.local import LocalFileSystem

    from gtlake.storage import find

    root = tmp_path / "tree"
    write_job(root, "job-a", ['{"source-ref": "s3://b/a.jpg"}'])
    write_job(root, "job-b", ['{"source-ref": "s3://b/b.jpg"}'], manifest=1)
    (root / "job-a" / "annotations" / "worker-response" / "iteration-1" / "0").mkdir(parents=True)
    (
        root / "job-a" / "annotations" / "worker-response" / "iteration-1" / "0" / "x.json"
    ).write_text("{}")
    (root / "empty").mkdir()
    (root / ".hidden").mkdir()
    (root / ".hidden" / "f").write_bytes(b"12345")
    os.symlink(root / "job-a" / "manifests", root / "job-b" / "linked-dir")
    os.symlink(root / ".hidden" / "f", root / "job-b" / "linked-file")
    os.symlink(root / "nowhere", root / "job-b" / "dangling")
    ours = find(Location(str(root)))
    theirs = LocalFileSystem().find(str(root), detail=True, withdirs=True)
    assert list(ours) == list(theirs)
    kept = ("name", "size", "type", "created", "mtime", "ino")  # what a listing needs
    assert ours == {name: {k: info[k] for k in kept} for name, info in theirs.items()}
    assert {v["type"] for v in ours.values()} == {"directory", "file", "other"}
