"""Training sets (`gtlake.datasets`): policies on the crafted chained tree of `test_views`, every
format checked against the lake by independent SQL, pycocotools and a YAML/JSON/csv reader."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from pycocotools.coco import COCO

from gtlake import demo, views
from gtlake.datasets import DatasetError, build_dataset, parse_splits
from gtlake.datasets.selection import select_labels
from gtlake.datasets.yolo import label_path
from gtlake.ingest import ingest
from gtlake.storage import Location
from tests.conftest import gtlake, write_job
from tests.test_cli import assert_one_line_error
from tests.test_views import (
    ADJUST,
    ADJUSTED,
    CLASS_MAP,
    SETTING,
    SPECIES,
    STREETS,
    build_chained_lake,
    chained_tree,
)

SPLITS = parse_splits("train=0.6,val=0.2,test=0.2")


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> Location:
    return Location(str(build_chained_lake(tmp_path_factory.mktemp("chained"))))


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Location:
    """The lake `make run` builds: the bundled sample tree, ingested."""
    base = tmp_path_factory.mktemp("sample")
    demo.write_samples(base / "src")
    report = ingest(Location(str(base / "src")), Location(str(base / "lake")), workers=1)
    assert not report.failed, report.failed
    return Location(str(base / "lake"))


def rows(lake: Location, query: str, *params) -> list[tuple]:
    with views.connect(lake) as con:
        return con.execute(query, list(params)).fetchall()


# Independent of the selection's SQL: under `latest` the boxes of an object-detection label stay
# unless `box_adjustments` says an adjustment started from that label.
LATEST_LABELS = """
with detection_labels as (
    select * from object_labels where label_type = 'object-detection'
),
adjusted_originals as (
    select distinct object_id, original_job, original_attribute from box_adjustments
)
select detection_labels.*
from detection_labels
where not exists (
    select 1 from adjusted_originals as o
    where o.object_id = detection_labels.object_id
        and o.original_job is not distinct from detection_labels.label_job
        and o.original_attribute = detection_labels.attribute
)
"""
LATEST_BOXES = f"""
select kept_labels.source_ref, boxes.class_name, boxes."left", boxes.top, boxes.width,
    boxes.height, boxes.image_width, boxes.image_height
from ({LATEST_LABELS}) as kept_labels
join boxes
    on boxes.job = kept_labels.job
    and boxes.line = kept_labels.line
    and boxes.attribute = kept_labels.attribute
"""

# Independent of the selection's SQL: under `verified`, the boxes of the latest labels that a
# verification judged good (as the latest label on its line) and none judged bad; a verdict on
# the original of an `unadjusted` adjustment holds for the adjustment.
VERIFIED_BOXES = f"""
with kept_labels as ({LATEST_LABELS}),
judged_labels as (
    select object_id, judged_job as label_job, judged_attribute as attribute, verdict
    from verification_results
    where judged_is_latest
),
carried_verdicts as (
    select distinct pairs.object_id, pairs.adjust_job, pairs.adjusted_attribute, judged.verdict
    from box_adjustments as pairs
    join judged_labels as judged
        on judged.object_id = pairs.object_id
        and judged.label_job = pairs.original_job
        and judged.attribute = pairs.original_attribute
    where pairs.adjustment_status = 'unadjusted'
),
verdicts as (
    select * from judged_labels union all select * from carried_verdicts
),
judged as (
    select object_id, label_job, attribute,
        count(*) filter (where verdict = 'good') as good,
        count(*) filter (where verdict <> 'good') as bad
    from verdicts
    group by all
)
select kept_labels.source_ref, boxes.class_name
from kept_labels
join judged
    on judged.object_id = kept_labels.object_id
    and judged.label_job = kept_labels.label_job
    and judged.attribute = kept_labels.attribute
join boxes
    on boxes.job = kept_labels.job
    and boxes.line = kept_labels.line
    and boxes.attribute = kept_labels.attribute
where judged.good > 0 and judged.bad = 0
"""


def coco_counts(out: Path) -> tuple[Counter, dict[str, COCO]]:
    """Annotations per category name over every split file, each loaded by pycocotools."""
    counts: Counter = Counter()
    loaded = {}
    for path in sorted(out.glob("instances_*.json")):
        coco = COCO(str(path))
        loaded[path.stem.removeprefix("instances_")] = coco
        for category in coco.loadCats(coco.getCatIds()):
            counts[category["name"]] += len(coco.getAnnIds(catIds=[category["id"]]))
    return +counts, loaded


# -- policies on the crafted chained tree ---------------------------------------------------------


def _selected(lake: Location, policy: str, where: str | None = None) -> list[tuple]:
    with views.connect(lake) as con:
        table = select_labels(con, policy, where)
    return sorted(
        (r["source_ref"].split("/")[-1], r["origin_job"], r["attribute"]) for r in table.to_pylist()
    )


def test_latest_takes_the_adjusted_boxes_and_keeps_both_questions(chained: Location) -> None:
    assert _selected(chained, "latest") == [
        ("img1.jpg", ADJUST, "adjusted-bounding-box"),
        ("img2.jpg", ADJUST, "adjusted-bounding-box"),
        ("img3.jpg", ADJUST, "adjusted-bounding-box"),
        # a second question on the same images is another family: both stay
        *[(f"pet{i}.jpg", job, attribute) for i in range(1, 5)
          for job, attribute in ((SPECIES, "species"), (SETTING, "setting"))],
        # label-city-streets is not in the lake: its labels export from the downstream copy
        ("street1.png", STREETS, "city-streets-ref"),
        ("street2.png", STREETS, "city-streets-ref"),
    ]  # fmt: skip


def test_adjusted_boxes_replace_their_originals_in_coco(chained: Location, tmp_path: Path) -> None:
    report = build_dataset(
        chained, Location(str(tmp_path)), "coco", where="label_type = 'object-detection'"
    )
    coco = COCO(str(tmp_path / "instances_train.json"))
    got = {}
    for image in coco.dataset["images"]:
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        got[image["file_name"].split("/")[-1].removesuffix(".jpg")] = sorted(
            (coco.cats[a["category_id"]]["name"], *a["bbox"]) for a in anns
        )
    expected = {
        image: sorted((CLASS_MAP[str(c)], x, y, w, h) for c, x, y, w, h in boxes)
        for image, (boxes, _status) in ADJUSTED.items()
    }
    assert got == expected  # img3's removed box is gone, img1's moved boxes moved
    assert report.splits["train"] == {"objects": 3, "items": 5, "classes": {"bone": 3, "dog": 2}}
    assert all(a["score"] == 0.9 for a in coco.dataset["annotations"])
    assert [(i["width"], i["height"]) for i in coco.dataset["images"]] == [(500, 400)] * 3


def test_a_bad_verdict_excludes_the_object_under_verified(chained: Location) -> None:
    assert _selected(chained, "verified") == [
        ("img2.jpg", ADJUST, "adjusted-bounding-box"),  # img1 and img3 were judged bad
        ("street1.png", STREETS, "city-streets-ref"),  # street2 was judged bad
    ]  # the pets were never verified


def test_a_job_whose_upstream_is_missing_still_exports(chained: Location, tmp_path: Path) -> None:
    # verify-city-streets carries the masks of label-city-streets, a job not in the lake
    masks = "label_type = 'semantic-segmentation'"
    build_dataset(chained, Location(str(tmp_path / "latest")), "coco", where=masks)
    written = json.loads((tmp_path / "latest" / "masks_train.json").read_text())
    assert [(m["file_name"], m["mask"], m["job"]) for m in written] == [
        (f"s3://bucket/streets/{s}.png", f"s3://bucket/masks/{s}.png", STREETS)
        for s in ("street1", "street2")
    ]
    assert [c["class_name"] for c in written[0]["color_map"]] == ["BACKGROUND", "buildings", "road"]
    manifest = build_dataset(
        chained, Location(str(tmp_path / "m")), "manifest", where=masks, policy="verified"
    )
    (line,) = [json.loads(x) for x in (tmp_path / "m" / "train.manifest").read_text().splitlines()]
    assert manifest.attribute_names == ["source-ref", "label-ref"]
    assert line["source-ref"] == "s3://bucket/streets/street1.png"  # street2 was judged bad
    assert line["label-ref"] == "s3://bucket/masks/street1.png"
    assert line["label-ref-metadata"]["job-name"] == STREETS


def test_a_verdict_on_the_original_holds_only_where_the_adjustment_changed_nothing(
    tmp_path: Path,
) -> None:
    # verification judged the original boxes good; an adjustment job (in parallel) moved the
    # boxes of img1 and img3 and left img2 `unadjusted`
    root = tmp_path / "src"
    chained_tree(root)
    lines = [
        json.loads(x)
        for x in (root / "verify-bounding-boxes/manifests/output/output.manifest")
        .read_text()
        .splitlines()
    ]
    for line in lines:
        del line["adjusted-bounding-box"], line["adjusted-bounding-box-metadata"]
        line["verify-bounding-box-metadata"]["class-name"] = "good"
    write_job(root, "verify-bounding-boxes", [json.dumps(x) for x in lines])
    lake = Location(str(tmp_path / "lake"))
    assert not ingest(Location(str(root)), lake, workers=1).failed
    selected = [r for r in _selected(lake, "verified") if r[0].startswith("img")]
    # img1 and img3's adjusted boxes (the latest) were never judged; img2's are the judged ones
    assert selected == [("img2.jpg", ADJUST, "adjusted-bounding-box")]
    assert len(_selected(lake, "latest", "label_type = 'object-detection'")) == 3


def test_good_verdict_names_are_an_option(chained: Location) -> None:
    with views.connect(chained) as con:
        table = select_labels(con, "verified", good_verdicts=("bad",))
    assert sorted(r["source_ref"].split("/")[-1] for r in table.to_pylist()) == [
        "img1.jpg", "img3.jpg", "street2.png",
    ]  # fmt: skip


def test_where_filters_after_the_policy(chained: Location) -> None:
    # the originals of img1 had confidences 0.8 / 0.9: a filter never brings a replaced label back
    assert _selected(chained, "latest", f"origin_job = '{SPECIES}' and confidence >= 0.7") == [
        ("pet1.jpg", SPECIES, "species"),
        ("pet2.jpg", SPECIES, "species"),
        ("pet4.jpg", SPECIES, "species"),
    ]
    assert _selected(chained, "latest", "origin_job = 'identify-dogs-and-toys'") == []


# -- COCO -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, independent", [("latest", LATEST_BOXES), ("verified", VERIFIED_BOXES)]
)
def test_coco_loads_and_counts_match_independent_sql(
    sample_lake: Location, tmp_path: Path, policy: str, independent: str
) -> None:
    report = build_dataset(
        sample_lake, Location(str(tmp_path)), "coco", policy=policy, splits=SPLITS, seed=3
    )
    counts, loaded = coco_counts(tmp_path)
    assert set(loaded) == {"train", "val", "test"}
    expected = Counter(
        dict(rows(sample_lake, f"select class_name, count(*) from ({independent}) group by all"))
    )
    assert counts == expected and sum(counts.values()) > 0
    assert sum(s["items"] for s in report.splits.values()) - sum(
        s["classes"].get("(mask)", 0) for s in report.splits.values()
    ) == sum(expected.values())
    # categories: the same ids in every split, by name
    categories = [
        tuple(sorted((c["id"], c["name"]) for c in coco.dataset["categories"]))
        for coco in loaded.values()
    ]
    assert len(set(categories)) == 1
    names = [name for _id, name in categories[0]]
    assert names == sorted(names)
    # every image is in one split only, with its size
    images = [i["file_name"] for coco in loaded.values() for i in coco.dataset["images"]]
    assert len(images) == len(set(images))
    assert all(
        i["width"] and i["height"] for coco in loaded.values() for i in coco.dataset["images"]
    )


def test_coco_masks_side_file_lists_mask_references(sample_lake: Location, tmp_path: Path) -> None:
    build_dataset(
        sample_lake, Location(str(tmp_path)), "coco", where="label_type = 'semantic-segmentation'"
    )
    assert not list(tmp_path.glob("instances_*.json"))
    masks = json.loads((tmp_path / "masks_train.json").read_text())
    expected = rows(
        sample_lake,
        "select source_ref, value->>'$' from object_labels "
        "where label_type = 'semantic-segmentation' and attribute <> 'city-streets-ref' order by 1",
    )  # the adjustment replaced label-city-streets' masks
    assert sorted((m["file_name"], m["mask"]) for m in masks) == expected
    street = next(m for m in masks if m["file_name"].endswith("street-0000.png"))
    assert street["job"] == "adjust-label-city-streets"
    assert [(c["class_name"], c["hex_color"]) for c in street["color_map"]] == [
        ("BACKGROUND", "#ffffff"), ("buildings", "#2acf59"), ("road", "#f28333"),
    ]  # fmt: skip


# -- YOLO -----------------------------------------------------------------------------------------


def test_yolo_coordinates_give_back_the_lakes_boxes(sample_lake: Location, tmp_path: Path) -> None:
    report = build_dataset(sample_lake, Location(str(tmp_path)), "yolo", splits=SPLITS, seed=1)
    data = yaml.safe_load((tmp_path / "data.yaml").read_text())
    names = data["names"]
    assert data["nc"] == len(names) and [data[s] for s in ("train", "val", "test")] == [
        "train.txt", "val.txt", "test.txt",
    ]  # fmt: skip
    lake_boxes: dict[str, list] = {}
    for uri, name, x, y, w, h, width, height in rows(sample_lake, LATEST_BOXES):
        lake_boxes.setdefault(uri, []).append((name, x, y, w, h, width, height))
    listed = []
    for split in ("train", "val", "test"):
        listed += (tmp_path / f"{split}.txt").read_text().splitlines()
    images = rows(sample_lake, f"select distinct source_ref from ({LATEST_LABELS}) order by 1")
    assert sorted(listed) == [uri for (uri,) in images]
    compared = 0
    for uri, boxes in lake_boxes.items():
        lines = (tmp_path / label_path(uri)).read_text().splitlines()
        assert len(lines) == len(boxes)
        width, height = boxes[0][5], boxes[0][6]
        got = []
        for line in lines:
            cls, cx, cy, w, h = line.split()
            cx, cy, w, h = (
                float(cx) * width,
                float(cy) * height,
                float(w) * width,
                float(h) * height,
            )
            got.append((names[int(cls)], cx - w / 2, cy - h / 2, w, h))
        for (name, *pixels), (lake_name, *lake_pixels) in zip(
            sorted(got, key=_rounded), sorted((b[:5] for b in boxes), key=_rounded), strict=True
        ):
            assert name == lake_name
            assert pixels == pytest.approx(lake_pixels, abs=1e-6, rel=0)
            compared += 1
    assert compared == report.items > 100


def _rounded(box: tuple) -> tuple:
    return (box[0], *(round(v, 3) for v in box[1:]))


def test_yolo_from_text_classification_is_a_one_line_error(
    sample_lake: Location, tmp_path: Path
) -> None:
    with pytest.raises(DatasetError) as caught:
        build_dataset(
            sample_lake, Location(str(tmp_path)), "yolo", where="label_type = 'text-classification'"
        )
    assert (
        str(caught.value)
        == "yolo holds object-detection labels; the selection has only text-classification (5)"
    )
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_label_paths_mirror_the_uri_and_never_climb_out() -> None:
    assert label_path("s3://bucket/a/dog 1.jpg") == "labels/bucket/a/dog 1.txt"
    assert label_path("s3://bucket/../../x.png") == "labels/bucket/%2E%2E/%2E%2E/x.txt"
    assert label_path("s3://bucket//noext") == "labels/bucket/noext.txt"


# -- augmented manifest ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where, source_key",
    [
        ("origin_job = 'birds-open-images-clone'", "source-ref"),  # classification
        ("label_type = 'image-classification-multilabel'", "source-ref"),  # multi-label
        ("origin_job = 'entityrecognizerpoc-1'", "source"),  # named entities
        ("label_type = 'object-detection'", "source-ref"),  # boxes, adjustments applied
    ],
)
def test_manifest_lines_parse_and_match_the_lake(
    sample_lake: Location, tmp_path: Path, where: str, source_key: str
) -> None:
    report = build_dataset(
        sample_lake, Location(str(tmp_path)), "manifest", where=where, splits=SPLITS
    )
    names = json.loads((tmp_path / "attribute_names.json").read_text())
    assert names == report.attribute_names == [source_key, "label"]
    lines = []
    for split in ("train", "val", "test"):
        lines += [json.loads(x) for x in (tmp_path / f"{split}.manifest").read_text().splitlines()]
    assert len(lines) == report.objects > 0
    expected: dict[str, list] = {}
    for source, value, metadata in rows(
        sample_lake,
        f"select coalesce(source_ref, source), value, metadata from object_labels where {where}",
    ):
        expected.setdefault(source, []).append((json.loads(value), json.loads(metadata)))
    for line in lines:
        assert set(line) == {source_key, "label", "label-metadata"}
        assert (line["label"], line["label-metadata"]) in expected[line[source_key]]
        if len(expected[line[source_key]]) > 1:  # an adjusted image: the adjustment's label
            assert line["label-metadata"]["adjustment-status"] in ("adjusted", "unadjusted")


# -- csv ------------------------------------------------------------------------------------------


def test_csv_has_one_row_per_label_and_per_class_of_a_multilabel_answer(
    sample_lake: Location, tmp_path: Path
) -> None:
    report = build_dataset(sample_lake, Location(str(tmp_path)), "csv", splits=SPLITS, seed=5)
    table = []
    for split in ("train", "val", "test"):
        with open(tmp_path / f"{split}.csv", newline="") as stream:
            reader = csv.DictReader(stream)
            assert reader.fieldnames == [
                "source_ref",
                "text",
                "label",
                "confidence",
                "job",
                "split",
            ]
            table += [row for row in reader if row["split"] == split]
    single = rows(
        sample_lake,
        "select count(*) from object_labels where label_type in "
        "('image-classification', 'text-classification')",
    )[0][0]
    multi = rows(
        sample_lake,
        "select count(*) from object_labels join classes using (job, line, attribute) "
        "where label_type like '%-multilabel'",
    )[0][0]
    assert len(table) == single + multi == report.items
    assert report.skipped["object-detection"] > 0  # the rest of the lake is reported, not written
    multilabel = sorted(
        (r["label"], r["confidence"]) for r in table if r["job"] == "image-label-attribute-name"
    )
    expected = rows(
        sample_lake,
        "select class_name, confidence::varchar from classes "
        "where job = 'image-label-attribute-name' order by all",
    )
    assert multilabel == [tuple(r) for r in expected]
    text = [r for r in table if r["job"] == "cutomdocclassification-multi-class"]
    assert text and all(r["text"] and not r["source_ref"] for r in text)


# -- splits ---------------------------------------------------------------------------------------


def _splits(lake: Location, seed: int = 0) -> dict[str, str]:
    with views.connect(lake) as con:
        table = select_labels(con, splits=SPLITS, seed=seed)
    return {r["source_ref"]: r["split"] for r in table.to_pylist()}


def test_splits_stay_when_a_new_job_is_ingested(tmp_path: Path) -> None:
    root, lake = tmp_path / "src", Location(str(tmp_path / "lake"))
    chained_tree(root)
    for i in range(40):  # enough objects for every split to be used
        write_job(root, f"more-{i:02}", [json.dumps({
            "source-ref": f"s3://bucket/more/{i}.jpg", "more": 0,
            "more-metadata": {"class-name": "x", "type": "groundtruth/image-classification",
                              "job-name": f"more-{i:02}", "creation-date": "2020-01-01T00:00:00"},
        })])  # fmt: skip
    assert not ingest(Location(str(root)), lake, workers=1).failed
    before = _splits(lake)
    assert set(before.values()) == {"train", "val", "test"}
    # a new job labels some of the same images again, and new ones
    write_job(root, "relabel-pets", [json.dumps({
        "source-ref": f"s3://bucket/{name}", "species": 1,
        "species-metadata": {"class-name": "cat", "type": "groundtruth/image-classification",
                             "job-name": "relabel-pets", "creation-date": "2021-01-01T00:00:00"},
    }) for name in ("pets/pet1.jpg", "more/3.jpg", "new/a.jpg", "new/b.jpg")])  # fmt: skip
    assert not ingest(Location(str(root)), lake, workers=1).failed
    after = _splits(lake)
    assert {"s3://bucket/new/a.jpg", "s3://bucket/new/b.jpg"} < set(after)
    assert {uri: after[uri] for uri in before} == before
    # the seed is what moves objects between splits
    assert _splits(lake, seed=1) != after


def test_split_shares_follow_the_fractions(sample_lake: Location) -> None:
    shares = Counter(_splits(sample_lake).values())
    total = sum(shares.values())
    assert total > 500
    assert abs(shares["train"] / total - 0.6) < 0.06 and abs(shares["test"] / total - 0.2) < 0.06


@pytest.mark.parametrize(
    "text, message",
    [
        ("train=0.8,val=0.1", "--split: the shares add up to 0.9, not 1"),
        ("train=0.8,train=0.2", "--split: a split is named twice: train=0.8,train=0.2"),
        ("train", "--split: 'train' is not NAME=FRACTION (e.g. train=0.8)"),
        ("train=x", "--split: 'x' is not a number"),
        ("train=1.2,val=-0.2", "--split: the share of val must be above 0, got -0.2"),
        ("../x=1", "--split: '../x=1' is not NAME=FRACTION (e.g. train=0.8)"),
    ],
)
def test_bad_split_specs_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(DatasetError) as caught:
        parse_splits(text)
    assert str(caught.value) == message


# -- errors ---------------------------------------------------------------------------------------


def test_an_empty_selection_says_so(chained: Location, tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as caught:
        build_dataset(chained, Location(str(tmp_path / "out")), "coco", where="confidence > 2")
    assert str(caught.value) == (
        f"the selection is empty: no label of {chained.url} passes policy latest "
        "and --where 'confidence > 2'"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "where",
    [
        "1 = 1) union all select * from object_labels where (1 = 1",
        "true; drop view object_labels",
        "true union select 1",
        "label_type, confidence",
    ],
)
def test_where_is_one_expression_or_an_error(chained: Location, where: str) -> None:
    with views.connect(chained) as con:
        with pytest.raises(DatasetError, match=r"^--where is not one SQL expression: "):
            select_labels(con, where=where)
        assert con.execute("select count(*) from object_labels").fetchone()[0] == 21


def test_where_naming_an_unknown_column_is_one_line(chained: Location) -> None:
    with views.connect(chained) as con, pytest.raises(DatasetError) as caught:
        select_labels(con, where="no_such_column = 1")
    message = str(caught.value)
    assert message.startswith("--where 'no_such_column = 1': ") and "\n" not in message


def test_manifest_needs_one_label_type_and_one_label_per_object(
    chained: Location, tmp_path: Path
) -> None:
    out = Location(str(tmp_path))
    with pytest.raises(DatasetError, match=r"^manifest: a training channel reads one label type; "
                       r"the selection holds image-classification \(8\), object-detection \(3\), "
                       r"semantic-segmentation \(2\): pick one with --where"):  # fmt: skip
        build_dataset(chained, out, "manifest")
    crowded = r"^manifest: one line per object, but 's3://bucket/pets/pet1.jpg' has 2 selected"
    with pytest.raises(DatasetError, match=crowded + r" labels \(setting, species\)"):
        build_dataset(chained, out, "manifest", where="label_type = 'image-classification'")
    report = build_dataset(
        chained, out, "manifest", where="attribute = 'setting'", attribute="indoors"
    )
    assert report.attribute_names == ["source-ref", "indoors"]
    masks = build_dataset(
        chained,
        Location(str(tmp_path / "m")),
        "manifest",
        where="label_type = 'semantic-segmentation'",
    )
    assert masks.attribute_names == ["source-ref", "label-ref"]


# -- output ---------------------------------------------------------------------------------------


def test_a_new_export_removes_what_the_last_one_wrote_and_no_longer_has(
    chained: Location, tmp_path: Path
) -> None:
    out = Location(str(tmp_path / "yolo"))
    build_dataset(chained, out, "yolo")
    assert (tmp_path / "yolo" / label_path("s3://bucket/dogs/img1.jpg")).is_file()
    build_dataset(chained, out, "yolo", policy="verified")
    assert not (tmp_path / "yolo" / label_path("s3://bucket/dogs/img1.jpg")).exists()
    assert (tmp_path / "yolo" / label_path("s3://bucket/dogs/img2.jpg")).is_file()
    described = json.loads((tmp_path / "yolo" / "dataset.json").read_text())
    assert described["policy"] == "verified" and described["counts"]["train"]["objects"] == 1


def test_a_location_holding_other_files_is_refused(chained: Location, tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="holds other files and no dataset.json"):
        build_dataset(chained, Location(str(tmp_path)), "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt"]


def test_export_to_s3(chained: Location, s3_bucket: str, tmp_path: Path) -> None:
    local = build_dataset(chained, Location(str(tmp_path)), "coco", splits=SPLITS)
    remote_out = Location(f"s3://{s3_bucket}/sets/coco")
    remote = build_dataset(chained, remote_out, "coco", splits=SPLITS)
    assert remote.splits == local.splits
    fs = remote_out.fs()
    for name in local.files:
        assert fs.cat_file(remote_out.join(name)) == (tmp_path / name).read_bytes(), name
    assert json.loads(fs.cat_file(remote_out.join("dataset.json")))["files"] == local.files
    # and again, from an S3 lake
    lake = Location(f"s3://{s3_bucket}/lake")
    fs.put(chained.root + "/", f"{s3_bucket}/lake/", recursive=True)
    again = build_dataset(lake, Location(str(tmp_path / "from-s3")), "coco", splits=SPLITS)
    assert again.splits == local.splits
    shutil.rmtree(tmp_path / "from-s3")


# -- the command ----------------------------------------------------------------------------------


def test_dataset_command_prints_counts_and_attribute_names(
    chained: Location, tmp_path: Path
) -> None:
    done = gtlake(
        "dataset", chained.root, "--format", "manifest", "--out", str(tmp_path / "m"),
        "--where", "attribute = 'setting'", "--split", "train=0.5,val=0.5", "--seed", "3",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["split", "objects", "items"]
    counts = {line.split()[0]: line.split()[1:] for line in lines[1:3]}
    report = json.loads((tmp_path / "m" / "dataset.json").read_text())["counts"]
    assert counts == {s: [str(c["objects"]), str(c["items"])] for s, c in report.items()}
    assert 'AttributeNames: ["source-ref", "label"]' in lines
    assert lines[-1].startswith("wrote manifest (4 objects, 4 items, policy latest) to ")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--format", "yolo", "--where", "label_type = 'image-classification'"],
         ["yolo holds object-detection labels", "image-classification (8)"]),
        (["--format", "csv", "--where", "confidence > 2"], ["the selection is empty"]),
        (["--format", "csv", "--split", "train=0.5"], ["the shares add up to 0.5, not 1"]),
        (["--format", "csv", "--where", "1) or (1"], ["--where is not one SQL expression"]),
        (["--format", "tiff"], ["Invalid value for '--format'"]),
    ],
)  # fmt: skip
def test_dataset_command_errors_are_one_line(
    chained: Location, tmp_path: Path, args: list[str], words: list[str]
) -> None:
    done = gtlake("dataset", chained.root, "--out", str(tmp_path / "o"), *args)
    assert_one_line_error(done, *words)
