"""Worker responses, consolidation files, iteration counts and the `files` table."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import orjson
import pytest

from gtlake.consolidation import consolidation_rows
from gtlake.ingest import ingest
from gtlake.iterations import count_lines
from gtlake.responses import worker_response_rows, workforce
from gtlake.storage import Location
from tests.conftest import write_job
from tests.lakeread import lake_table

IC = "sagemaker-examples/annotation_consolidation_ic_data/worker-response"
NEW_SHAPE = {
    "answers": [
        {
            "acceptanceTime": "2021-03-04T05:06:07.123Z",
            "answerContent": {"annotatedResult": {"boundingBoxes": [{"left": 1, "top": 2}]}},
            "submissionTime": "2021-03-04T05:06:19.623Z",
            "timeSpentInSeconds": 12.5,
            "workerId": "private.us-west-2.0a1b2c",
            "workerMetadata": {"identityData": {"identityProviderType": "Cognito", "sub": "s"}},
        },
        {"answerContent": {}, "workerId": "vendor.us-west-2.V9", "timeSpentInSeconds": 3},
    ]
}


def test_real_2019_response_file(real):
    path = real / IC / "iteration-1/95/2019-04-18_16:13:05.json"
    rel = "annotations/worker-response/iteration-1/95/2019-04-18_16:13:05.json"
    rows = worker_response_rows(rel, path.read_bytes())
    assert len(rows) == 5
    first = rows[0]
    assert first[:6] == (1, 95, rel, 0, "public.us-east-1.PHMFOWIIICWDF3ZS5HORERJV6Y", "public")
    assert first[6] is None  # no acceptanceTime in 2019
    assert first[7] == datetime(2019, 4, 18, 16, 11, 15, tzinfo=UTC)
    assert first[8] is None
    assert orjson.loads(first[9]) == {"crowd-image-classifier": {"label": "Falcon"}}
    assert first[10] is None
    assert [r[3] for r in rows] == [0, 1, 2, 3, 4]


def test_every_real_response_file_parses(real):
    files = sorted((real / IC).rglob("*.json"))
    assert len(files) == 22
    for path in files:
        rel = "annotations/worker-response/" + path.relative_to(real / IC).as_posix()
        assert worker_response_rows(rel, path.read_bytes())


def test_newer_response_shape():
    rel = "annotations/worker-response/iteration-3/17/2021-03-04_05:06:20.json"
    rows = worker_response_rows(rel, b"\xef\xbb\xbf" + orjson.dumps(NEW_SHAPE))
    first, second = rows
    assert first[:2] == (3, 17) and first[5] == "private"
    assert first[6] == datetime(2021, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
    assert (first[7] - first[6]).total_seconds() == 12.5 == first[8]
    assert orjson.loads(first[10])["identityData"]["sub"] == "s"
    assert second[5] == "vendor" and second[7] is None and second[8] == 3.0


@pytest.mark.parametrize(
    ("worker", "force"),
    [("public.us-east-1.X", "public"), ("private.eu-west-1.Y", "private"),
     ("vendor.us-east-1.Z", "vendor"), ("Private.x.Y", "private"), ("someone", None), (None, None)],
)  # fmt: skip
def test_workforce(worker, force):
    assert workforce(worker) == force


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"answers": [', "invalid JSON"),
        (b"\xff\xfe", "invalid UTF-8"),
        (b"[]", "answers"),
        (b'{"answers": [1]}', "answer 0 is not an object"),
        (b'{"answers": [{"submissionTime": "yesterday"}]}', "not an ISO time"),
        (b'{"answers": [{"submissionTime": 5}]}', "expected an ISO time string"),
        (b'{"answers": [{"timeSpentInSeconds": true}]}', "expected a number"),
        (b'{"answers": [{"workerId": 7}]}', "workerId"),
    ],
)
def test_bad_response_files_say_why(data, reason):
    with pytest.raises(ValueError, match=reason):
        worker_response_rows("annotations/worker-response/iteration-1/0/t.json", data)


def test_real_consolidation_request_content_is_parsed(real):
    data = (real / "gt-recipe/sample_annotation_consolidation_payload.json").read_bytes()
    rel = "annotations/consolidated-annotation/consolidation-request/iteration-2/t.json"
    rows = consolidation_rows(rel, data, "request")
    assert [(r[0], r[2], r[3], r[4], r[6]) for r in rows] == [
        (2, "request", 0, "0", 0),
        (2, "request", 1, "2", 0),
    ]
    content = orjson.loads(rows[0][9])
    assert isinstance(content, dict)  # parsed, not a string holding JSON
    assert content["annotatedResult"]["boundingBoxes"][0]["label"] == "Red"
    assert orjson.loads(rows[0][5]) == {"s3Uri": "s3://test-bucket/test-image1.jpg"}
    assert rows[0][7:9] == ("private.us-east-1.CYUQXZT3LFXJIUFCZMZ6HC2KFM", "private")


def test_consolidation_response_and_bad_content():
    doc = [
        {"datasetObjectId": 4, "consolidatedAnnotation": {"content": {"a": {"label": 1}}}},
        {"datasetObjectId": "5", "consolidatedAnnotation": {"content": '{"a": {"label": 2}}'}},
    ]
    rel = "annotations/consolidated-annotation/consolidation-response/iteration-1/t.json"
    rows = consolidation_rows(rel, orjson.dumps(doc), "response")
    assert [(r[4], orjson.loads(r[9])) for r in rows] == [
        ("4", {"a": {"label": 1}}),
        ("5", {"a": {"label": 2}}),
    ]
    assert all(r[6] is None and r[7] is None for r in rows)
    bad = [{"datasetObjectId": "0", "annotations": [{"annotationData": {"content": "{no"}}]}]
    with pytest.raises(ValueError, match="entry 0, annotation 0: content is a string but not"):
        consolidation_rows(rel, orjson.dumps(bad), "request")
    with pytest.raises(ValueError, match="expected a list"):
        consolidation_rows(rel, b'{"x": 1}', "request")


def test_count_lines_of_an_intermediate_manifest():
    labeled = {"source-ref": "s3://b/1", "kind": 0,
               "kind-metadata": {"type": "groundtruth/image-classification"}}  # fmt: skip
    other = {"source-ref": "s3://b/2", "old": 1,
             "old-metadata": {"type": "groundtruth/image-classification"}}  # fmt: skip
    plain = {"source-ref": "s3://b/3", "note": "kind"}
    data = b"\n".join(orjson.dumps(x) for x in (labeled, other, plain)) + b'\n\n{"trunc'
    assert tuple(count_lines(io.BytesIO(data), "kind")) == (3, 1, 1)
    assert tuple(count_lines(io.BytesIO(data), None)) == (3, 0, 1)


def test_ingest_fills_the_new_tables_and_quarantines_bad_files(tmp_path, real):
    src = tmp_path / "src"
    meta = {"type": "groundtruth/image-classification", "job-name": "job"}
    line = {"source-ref": "s3://b/1.jpg", "kind": 0, "kind-metadata": meta}
    write_job(src, "job", [orjson.dumps(line).decode()])
    write_job(src, "job", [orjson.dumps({"source-ref": "s3://b/1.jpg"}).decode()], manifest="1")
    base = src / "job/annotations"
    good = base / "worker-response/iteration-1/0/2021-03-04_05:06:20.json"
    good.parent.mkdir(parents=True)
    good.write_bytes(orjson.dumps(NEW_SHAPE))
    broken = base / "worker-response/iteration-1/1/2021-03-04_05:06:21.json"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b'{"answers": [{"workerId": "public.x.Y"')
    request = base / "consolidated-annotation/consolidation-request/iteration-1/t.json"
    request.parent.mkdir(parents=True)
    request.write_bytes((real / "gt-recipe/sample_annotation_consolidation_payload.json")
                        .read_bytes())  # fmt: skip
    lake = tmp_path / "lake"
    report = ingest(Location(str(src)), Location(str(lake)), workers=1)
    assert not report.failed and report.jobs[0].quarantined == 0

    def table(name):
        return lake_table(lake, name).to_pylist()

    responses = table("worker_responses")
    assert [(r["job"], r["type"], r["workforce"]) for r in responses] == [
        ("job", "image-classification", "private"),
        ("job", "image-classification", "vendor"),
    ]
    (bad,) = table("quarantine")
    assert bad["file"] == broken.relative_to(src / "job").as_posix()
    assert bad["line"] is None and "worker-response file: invalid JSON" in bad["error"]
    assert bad["raw"] == broken.read_text()
    assert len(table("consolidation")) == 2
    assert [(r["iteration"], r["lines"], r["labeled_lines"]) for r in table("iterations")] == [
        (1, 1, 0)
    ]
    files = {r["path"]: r["kind"] for r in table("files")}
    assert files[good.relative_to(src / "job").as_posix()] == "worker-response"
    assert files["manifests/output/output.manifest"] == "output-manifest"
    assert len(files) == 5
