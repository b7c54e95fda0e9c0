"""The bundled sample tree: Ground Truth output to try gtlake on.

`write_samples` writes one job directory per example of the Ground Truth documentation ("Output
Data" in the SageMaker Developer Guide, the video and 3D point cloud ones with their sequence
files), chained where the documentation chains them, jobs shaped like real output (named entities,
video object tracking and its adjustment, 3D cuboids, custom tasks), the real files bundled in
`gtlake/samples/` (provenance in its SOURCES.md), and one job still running, whose newest
intermediate manifest ends in a partly written line. The same call writes the same bytes.
(`gtlake.synthetic` writes trees of any size for scale tests.)
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from gtlake.jobfiles import (
    MASKS,
    Annotations,
    intermediate_lines,
    jsonl,
    manifest_path,
    png_mask,
    to_json,
    worker_answer,
    worker_id,
    write_file,
)

SAMPLES = Path(__file__).resolve().parent / "samples"
BUCKET = "s3://gt-demo-bucket"
OUTPUT = f"{BUCKET}/output"


# -- the documented examples --------------------------------------------------------------------


def _meta(kind: str, job: str, created: str, human: str = "yes", **fields: Any) -> dict:
    """Label metadata in the documentation's key order (fields first, then the common ones)."""
    return {
        **{k.replace("_", "-"): v for k, v in fields.items()},
        "type": f"groundtruth/{kind}",
        "job-name": job,
        "human-annotated": human,
        "creation-date": created,
    }


def _classification(
    attribute: str, job: str, kind: str, rows: Sequence[tuple], source_key: str = "source-ref"
) -> list[dict]:
    """rows: (source, class value, class name, confidence, creation date[, human-annotated])."""
    out = []
    for source, value, name, confidence, created, *human in rows:
        meta = _meta(kind, job, created, *human, class_name=name, confidence=confidence)
        out.append({source_key: source, attribute: value, f"{attribute}-metadata": meta})
    return out


def _chain(upstream: list[dict], extra: Sequence[dict]) -> list[dict]:
    """Downstream lines: each upstream output line, unchanged, plus the new label keys."""
    return [{**line, **more} for line, more in zip(upstream, extra, strict=True)]


def _sport_jobs() -> dict[str, list[dict]]:
    sport = _classification(
        "sport",
        "identify-sport",
        "image-classification",
        [
            (f"{BUCKET}/sports/m-01.jpg", 0, "football", 0.8, "2018-10-18T22:18:13.527256"),
            (f"{BUCKET}/sports/m-02.jpg", 1, "basketball", 0.91, "2018-10-18T22:19:40.102311"),
            (f"{BUCKET}/sports/m-03.jpg", 2, "tennis", 0.67, "2018-10-18T22:21:02.880094"),
            (f"{BUCKET}/sports/m-04.jpg", 0, "football", 0.88, "2018-10-18T22:24:57.013378"),
        ],
    )  # fmt: skip
    venue = [
        ("1", "outdoor", 0.94),
        ("0", "indoor", 0.9),
        ("1", "outdoor", 0.71),
        ("1", "outdoor", 0.86),
    ]
    extra = [
        {
            "venue": value,
            "venue-metadata": _meta(
                "image-classification",
                "labeling-job/identify-sport-venue",
                f"2018-10-25T09:0{i}:41.{310000 + i:06d}",
                class_name=name,
                confidence=confidence,
            ),
        }
        for i, (value, name, confidence) in enumerate(venue)
    ]  # fmt: skip
    return {"identify-sport": sport, "identify-sport-venue": _chain(sport, extra)}


def _species_job() -> list[dict]:
    return _classification(
        "species",
        "identify-animal-species",
        "image-classification",
        [
            (f"{BUCKET}/animals/IMG_01.jpg", "0", "dog", 0.93, "2018-10-18T22:18:13.527256"),
            (f"{BUCKET}/animals/IMG_02.jpg", "1", "cat", 0.95, "2018-10-18T22:18:13.527301"),
            (f"{BUCKET}/animals/IMG_03.jpg", "2", "bird", 0.62, "2018-10-18T22:20:44.100287"),
            (f"{BUCKET}/animals/IMG_04.jpg", "0", "dog", 0.89, "2018-10-18T22:20:44.100350"),
            (f"{BUCKET}/animals/IMG_05.jpg", "1", "cat", 0.71, "2018-10-18T23:02:05.611000", "no"),
            (f"{BUCKET}/animals/IMG_06.jpg", "2", "bird", 0.54, "2018-10-18T23:02:05.611094", "no"),
        ],
    )  # fmt: skip


def _mood_job() -> list[dict]:
    return _classification(
        "mood",
        "label-mood",
        "text-classification",
        [
            ("a bad day", "1", "sad", 0.8, "2018-10-18T22:18:13.527256"),
            ("what a lovely surprise!", "0", "happy", 0.95, "2018-10-18T22:18:51.004121"),
            ("the train was late again", "1", "sad", 0.66, "2018-10-18T22:19:30.551870"),
            ("it is Tuesday", "2", "neutral", 0.73, "2018-10-18T22:20:02.990013"),
        ],
        source_key="source",
    )  # fmt: skip


def _multilabel_jobs() -> dict[str, list[dict]]:
    def line(key, source, attribute, kind, ids, names, confidences, created):
        meta = {
            "job-name": f"labeling-job/{attribute}",
            "class-map": dict(zip(map(str, ids), names, strict=True)),
            "human-annotated": "yes",
            "creation-date": created,
            "confidence-map": dict(zip(map(str, ids), confidences, strict=True)),
            "type": f"groundtruth/{kind}",
        }
        return {key: source, attribute: ids, f"{attribute}-metadata": meta}

    image, text = "image-label-attribute-name", "text-label-attribute-name"
    ic, tc = "image-classification-multilabel", "text-classification-multilabel"
    return {
        image: [
            line("source-ref", "awsexamplebucket/exampleimage.jpg", image, ic, [1, 0, 8],
                 ["bicycle", "person", "clothing"], [0.95, 0.77, 0.2],
                 "2020-02-27T21:36:25.000201"),
            line("source-ref", "awsexamplebucket/exampleimage2.jpg", image, ic, [0],
                 ["person"], [0.88], "2020-02-27T21:38:02.417520"),
            line("source-ref", "awsexamplebucket/exampleimage3.jpg", image, ic, [8, 3],
                 ["clothing", "umbrella"], [0.61, 0.49], "2020-02-27T21:40:13.901266"),
        ],
        text: [
            line("source-ref", "awsexamplebucket1/exampletext.txt", text, tc, [1, 0, 4],
                 ["approving", "sad", "critical"], [0.95, 0.77, 0.2], "2020-02-20T21:36:25.000201"),
            line("source-ref", "awsexamplebucket1/exampletext2.txt", text, tc, [2],
                 ["neutral"], [0.83], "2020-02-20T21:37:48.665002"),
            line("source-ref", "awsexamplebucket1/exampletext3.txt", text, tc, [4, 0],
                 ["critical", "sad"], [0.7, 0.52], "2020-02-20T21:39:30.120988"),
        ],
    }  # fmt: skip


DOG_CLASSES = {0: "dog", 3: "ball", 5: "bone"}
# (image size, boxes (class_id, left, top, width, height), confidences, creation date)
DOG_IMAGES = [
    ((500, 400), [(0, 111, 134, 61, 128), (5, 161, 250, 30, 30), (5, 20, 20, 30, 30)],
     [0.8, 0.9, 0.9], "2018-10-18T22:18:13.527256"),
    ((640, 480), [(0, 40, 60, 200, 180), (3, 300, 210, 44, 41)],
     [0.86, 0.79], "2018-10-18T22:19:02.114007"),
    ((1024, 768), [(0, 137.60000000000002, 164.4, 443.8, 401.25)],
     [0.93], "2018-10-18T22:21:47.365100"),
    ((640, 427), [], [], "2018-10-18T22:22:10.700480"),
    ((800, 600), [(0, 402, 118, 251, 310), (0, 77, 201, 236, 288), (3, 612.5, 498.75, 38, 37),
                  (5, 330, 520, 61, 24)],
     [0.74, 0.69, 0.58, 0.47], "2018-10-18T22:25:31.092218"),
]  # fmt: skip


def _boxes_value(size: tuple[int, int], boxes: Sequence[tuple]) -> dict:
    keys = ("class_id", "left", "top", "width", "height")
    return {
        "image_size": [{"width": size[0], "height": size[1], "depth": 3}],
        "annotations": [dict(zip(keys, box, strict=True)) for box in boxes],
    }


def _boxes_meta(
    boxes: Sequence[tuple],
    confidences: Sequence[float],
    created: str,
    job: str,
    kind: str = "object-detection",
    extra: dict | None = None,
) -> dict:
    meta = {
        "objects": [{"confidence": c} for c in confidences],
        "class-map": {str(c): DOG_CLASSES[c] for c in sorted({b[0] for b in boxes})},
        "type": f"groundtruth/{kind}",
        "human-annotated": "yes",
        "creation-date": created,
        "job-name": job,
    }
    meta.update(extra or {})
    return meta


def _dog_jobs() -> dict[str, list[dict]]:
    base = []
    for i, (size, boxes, confidences, created) in enumerate(DOG_IMAGES):
        # The older documentation page spells the type `groundtruth/object_detection`.
        kind = "object_detection" if i == 1 else "object-detection"
        meta = _boxes_meta(boxes, confidences, created, "identify-dogs-and-toys", kind)
        base.append(
            {
                "source-ref": f"{BUCKET}/dogs-and-toys/dog {i + 1:03d}.jpg",
                "bounding-box": _boxes_value(size, boxes),
                "bounding-box-metadata": meta,
            }
        )
    moves = {  # object -> adjusted boxes (the documented adjustment for object 0)
        0: [(0, 110, 135, 61, 128), (5, 161, 250, 30, 30), (5, 10, 10, 30, 30)],
        2: [(0, 131, 160.5, 452, 405.25)],
        4: [(0, 402, 118, 251, 310), (0, 77, 201, 236, 288), (3, 610, 497, 41, 40)],
    }
    adjusted = []
    for i, (size, boxes, confidences, _) in enumerate(DOG_IMAGES):
        new = moves.get(i, boxes)
        status = "adjusted" if i in moves else "unadjusted"
        meta = _boxes_meta(
            new,
            confidences[: len(new)],
            f"2018-11-20T22:{18 + i:02d}:13.{527256 + i:06d}",
            "adjust-bounding-boxes-on-dogs-and-toys",
            extra={"adjustment-status": status},
        )
        adjusted.append(
            {
                "adjusted-bounding-box": _boxes_value(size, new),
                "adjusted-bounding-box-metadata": meta,
            }
        )
    verdicts = {
        0: ["The bounding box on the bird is too wide on the right side.",
            "The bird on the upper right is not labeled."],
        3: ["The dog on the sofa is not labeled."],
    }  # fmt: skip
    verified = []
    for i in range(len(DOG_IMAGES)):
        bad = i in verdicts
        meta = {
            "class-name": "bad" if bad else "good",
            "confidence": [0.93, 0.88, 0.9, 0.64, 0.51][i],
            "type": "groundtruth/label-verification",
            "job-name": "verify-bounding-boxes",
            "human-annotated": "yes",
            "creation-date": f"2018-11-20T22:{18 + 2 * i:02d}:13.{527256 + 7 * i:06d}",
        }
        if bad:
            meta["worker-feedback"] = [{"comment": c} for c in verdicts[i]]
        verified.append(
            {"verify-bounding-box": "1" if bad else "0", "verify-bounding-box-metadata": meta}
        )
    return {
        "identify-dogs-and-toys": base,
        "adjust-bounding-boxes-on-dogs-and-toys": _chain(base, adjusted),
        "verify-bounding-boxes": _chain(base, verified),
    }


STREET_MAPS = [
    {"0": ("BACKGROUND", "#ffffff"), "1": ("buildings", "#2acf59"), "2": ("road", "#f28333")},
    {"5": ("buildings", None), "2": ("road", None)},  # the older page's example: no hex colours
    {"0": ("BACKGROUND", "#ffffff"), "2": ("road", "#f28333"), "3": ("sidewalk", "#9467bd"),
     "4": ("trees ", "#8c564b")},  # a trailing space, as real class names sometimes have
]  # fmt: skip


def _color_map(entries: dict, confidences: dict[str, float] | float) -> dict:
    out = {}
    for key, (name, color) in entries.items():
        conf = confidences if isinstance(confidences, float) else confidences[key]
        entry = {"class-name": name, "confidence": conf}
        if color:
            entry["hex-color"] = color
        out[key] = entry
    return out


def _street_jobs() -> tuple[dict[str, list[dict]], dict[str, list[tuple[str, list[str]]]]]:
    """The three segmentation jobs, and the masks (path in the job, colours) each one writes."""
    created = [
        "2018-10-18T22:18:13.527256",
        "2018-10-18T22:31:40.019310",
        "2018-10-18T22:47:05.880712",
    ]
    confidence: list[dict | float] = [0.9, {"5": 0.8, "2": 0.9}, 0.84]
    masks: dict[str, list[tuple[str, list[str]]]] = {}
    base = []
    for i, entries in enumerate(STREET_MAPS):
        rel = f"{MASKS}/{i}_{created[i]}.png"
        colors = [c or "#777777" for _, c in entries.values()]
        masks.setdefault("label-city-streets", []).append((rel, colors))
        meta = {
            "internal-color-map": _color_map(entries, confidence[i]),
            "type": "groundtruth/semantic-segmentation",
            "human-annotated": "yes",
            "creation-date": created[i],
            "job-name": "label-city-streets",
        }
        base.append(
            {
                "source-ref": f"{BUCKET}/city/street-{i:04d}.png",
                "city-streets-ref": f"{OUTPUT}/label-city-streets/{rel}",
                "city-streets-metadata": meta,
            }
        )
    verdicts = [
        ["The mask on the leftmost building is assigned the wrong side of the road.",
         "The curb of the road is not labeled but the instructions say otherwise."],
        None,
        [],  # an empty feedback list
    ]  # fmt: skip
    verified = []
    for i, comments in enumerate(verdicts):
        meta = {
            "class-name": "good" if comments is None else "bad",
            "confidence": [0.93, 0.97, 0.58][i],
            "type": "groundtruth/label-verification",
            "job-name": "verify-city-streets",
            "human-annotated": "yes",
            "creation-date": f"2018-11-20T22:{18 + i:02d}:13.{527256 + i:06d}",
        }
        if comments is not None:
            meta["worker-feedback"] = [{"comment": c} for c in comments]
        verified.append(
            {
                "verify-city-streets": "0" if comments is None else "1",
                "verify-city-streets-metadata": meta,
            }
        )
    adjusted = []
    for i, entries in enumerate(STREET_MAPS):
        stamp = f"2018-11-20T22:{18 + 3 * i:02d}:13.{527256 + i:06d}"
        rel = f"{MASKS}/{i}_{stamp}.png"
        colors = [c or "#777777" for _, c in entries.values()]
        masks.setdefault("adjust-label-city-streets", []).append((rel, colors[::-1]))
        meta = {
            "internal-color-map": _color_map(entries, 0.9 if i != 1 else {"5": 0.8, "2": 0.9}),
            "type": "groundtruth/semantic-segmentation",
            "human-annotated": "yes",
            "creation-date": stamp,
            "job-name": "adjust-label-city-streets",
        }
        adjusted.append(
            {
                "adjusted-city-streets-ref": f"{OUTPUT}/adjust-label-city-streets/{rel}",
                "adjusted-city-streets-metadata": meta,
            }
        )
    jobs = {
        "label-city-streets": base,
        "verify-city-streets": _chain(base, verified),
        "adjust-label-city-streets": _chain(base, adjusted),
    }
    return jobs, masks


REVIEW_LABELS = [("PER", "Person"), ("BRD", "Brand"), ("LOC", "Location"), ("INT", "Internet")]
REVIEWS = [
    ("Ordered from Café Müller in Zürich, and the Acme grinder arrived in two days.",
     [("Café Müller", "Location"), ("Zürich", "Location"), ("Acme", "Brand")], [0.41, 0.38, 0.52]),
    ("Jane Doe at support sent me to https://example.com/returns to fix it.",
     [("Jane Doe", "Person"), ("https://example.com/returns", "Internet")], [0.27, 0.19]),
    ("No brand, no name, just a box.", [], []),
    ("Bob said the Zenbook from Lisbon was \"as good as new\" - it wasn't.",
     [("Bob", "Person"), ("Zenbook", "Brand"), ("Lisbon", "Location")], [0.08, 0.11, 0.09]),
]  # fmt: skip


def _review_job() -> list[dict]:
    out = []
    for i, (text, spans, confidences) in enumerate(REVIEWS):
        entities = []
        for phrase, label in spans:
            start = text.index(phrase)
            entities.append(
                {"endOffset": start + len(phrase), "startOffset": start, "label": label}
            )
        line: dict[str, Any] = {"source": text}
        if i == 1:  # a hand-made pre-label: passthrough input keys, not a Ground Truth label
            line["Person"] = "Jane Doe"
            line["Person-metadata"] = {"source": "regex-prelabel", "version": 2}
        labels = [{"shortDisplayName": s, "label": name} for s, name in REVIEW_LABELS]
        line["reviews"] = {"annotations": {"entities": entities, "labels": labels}}
        line["reviews-metadata"] = {
            "entities": [{"confidence": c} for c in confidences],
            "job-name": "labeling-job/tag-entities-in-reviews",
            "type": "groundtruth/text-span",
            "creation-date": f"2021-06-0{i + 1}T10:19:35.{711087 + i:06d}",
            "human-annotated": "yes",
        }
        out.append(line)
    return out


VIDEO_JOB = "track-pedestrians-and-vehicles"


def _video_job() -> list[dict]:
    out = []
    for i, created in enumerate(["2021-02-26T18:04:11.502000", "2021-03-19T15:40:27.118000"]):
        out.append(
            {
                "source-ref": f"{BUCKET}/videos/street-cam-0{i + 1}/seq{i + 1}.json",
                "tracking-ref": f"{OUTPUT}/{VIDEO_JOB}/{MASKS}/{i}/SeqLabel.json",
                "tracking-ref-metadata": {
                    "class-map": {"1": "Pedestrian", "2": "Vehicle"},
                    "job-name": "labeling-job/track-pedestrians-and-vehicles",
                    "human-annotated": "yes",
                    "creation-date": created,
                    "type": "groundtruth/video-object-tracking",
                },
            }
        )
    return out


ADJUST_VIDEO_JOB = "adjust-pedestrian-and-vehicle-tracks"
VIDEO_DETECTION_JOB = "detect-cars-in-video"
CUBOID_JOB = "identify-3d-objects"
CUBOID_TRACKING_JOB = "track-3d-objects"


def _adjust_video_job(tracked: list[dict]) -> list[dict]:
    """A video adjustment job over the first video of the tracking job: its input line carries
    the tracking job's `tracking-ref`."""
    return [
        {
            **tracked[0],
            "adjusted-tracking-ref": f"{OUTPUT}/{ADJUST_VIDEO_JOB}/{MASKS}/0/SeqLabel.json",
            "adjusted-tracking-ref-metadata": {
                "class-map": {"1": "Pedestrian", "2": "Vehicle"},
                "job-name": f"labeling-job/{ADJUST_VIDEO_JOB}",
                "human-annotated": "yes",
                "creation-date": "2021-04-01T09:12:44.000000",
                "type": "groundtruth/video-object-tracking",
                "adjustment-status": "adjusted",
            },
        }
    ]


def _adjusted_sequence(original: bytes) -> bytes:
    """The 32-frame real sequence as an adjuster left it: `Pedestrian:1` moved 6 px right and 4
    down in frames 10-14, `Pedestrian:4` relabelled `Vehicle`, `Pedestrian:3` removed from the
    last frame."""
    doc = orjson.loads(original)
    frames = doc["tracking-annotations"]
    for frame in frames:
        number = int(frame["frame-no"])
        for box in frame["annotations"]:
            if box["object-name"] == "Pedestrian:1" and 10 <= number <= 14:
                box["left"] += 6
                box["top"] += 4
            if box["object-name"] == "Pedestrian:4":
                box["class-id"] = "2"
    last = frames[-1]
    last["annotations"] = [b for b in last["annotations"] if b["object-name"] != "Pedestrian:3"]
    return orjson.dumps(doc)


def _video_detection_job() -> list[dict]:
    """The documented video frame object detection line, its URI in this job's directory."""
    return [
        {
            "source-ref": f"{BUCKET}/example-path/input-manifest.json",
            "CarObjectDetection-ref": f"{OUTPUT}/{VIDEO_DETECTION_JOB}/{MASKS}/0/SeqLabel.json",
            "CarObjectDetection-ref-metadata": {
                "class-map": {"0": "car", "1": "bus"},
                "job-name": f"labeling-job/{VIDEO_DETECTION_JOB}",
                "human-annotated": "yes",
                "creation-date": "2020-05-15T08:01:16+0000",
                "type": "groundtruth/video-object-detection",
            },
        }
    ]


def _cuboid_job() -> list[dict]:
    """The documented 3D point cloud object detection line, and a second frame shaped like it
    with a pedestrian and per-cuboid confidences."""
    text = (SAMPLES / "docs" / "point-cloud-object-detection.jsonl").read_bytes()
    documented = orjson.loads(text)
    second = orjson.loads(orjson.dumps(documented))
    second["source-ref"] = f"{BUCKET}/examplefolder/frame2.txt"
    cuboids = second["3d-bounding-box"]["annotations"]
    pedestrian = {
        **cuboids[0],
        "label-category-attributes": {"Occlusion": "None"},
        "object-name": "Pedestrian:1",
        "class-id": 1,
        "center-x": 3.1415,
        "center-y": 101.5,
        "length": 0.6,
        "width": 0.6,
        "height": 1.75,
    }
    second["3d-bounding-box"]["annotations"] = [*cuboids, pedestrian]
    meta = second["3d-bounding-box-metadata"]
    meta["objects"] = [{"confidence": c} for c in (0.92, 0.85, 0.61)]
    meta["class_map"] = {"0": "Car", "1": "Pedestrian"}
    meta["creation-date"] = "2018-10-18T22:19:02.118090"
    del meta["adjustment-status"]
    return [documented, second]


def _cuboid_tracking_job() -> list[dict]:
    """The documented 3D point cloud object tracking line, with per-frame confidences."""
    return [
        {
            "source-ref": f"{BUCKET}/myfolder/seq1.json",
            "lidar-label-attribute-ref": f"{OUTPUT}/{CUBOID_TRACKING_JOB}/{MASKS}/0/SeqLabel.json",
            "lidar-label-attribute-ref-metadata": {
                "objects": [
                    {"frame-no": 0, "confidence": [0.91, 0.87, 0.66]},
                    {"frame-no": 1, "confidence": [0.9, 0.85, 0.7]},
                ],
                "class-map": {"0": "Car", "1": "Person"},
                "type": "groundtruth/point_cloud_object_tracking",
                "human-annotated": "yes",
                "creation-date": "2019-11-12T01:18:14.271944",
                "job-name": CUBOID_TRACKING_JOB,
            },
        }
    ]


VIDEO_TRACKING_DOC_JOB = "track-cars-and-buses"
LIDAR_SEGMENTATION_JOB = "segment-lidar-frames"


def _video_tracking_doc_job() -> list[dict]:
    """The documented video frame object tracking line, its URI in this job's directory."""
    return [
        {
            "source-ref": f"{BUCKET}/example-path/input-manifest.json",
            "CarObjectTracking-ref": f"{OUTPUT}/{VIDEO_TRACKING_DOC_JOB}/{MASKS}/0/SeqLabel.json",
            "CarObjectTracking-ref-metadata": {
                "class-map": {"0": "car", "1": "bus"},
                "job-name": f"labeling-job/{VIDEO_TRACKING_DOC_JOB}",
                "human-annotated": "yes",
                "creation-date": "2020-05-15T08:01:16+0000",
                "type": "groundtruth/video-object-tracking",
            },
        }
    ]


def _lidar_segmentation_job() -> list[dict]:
    """The documented 3D point cloud semantic segmentation line (adjusted), placeholders filled."""
    classes = [("Background", "#ffffff"), ("Car", "#2ca02c"), ("Pedestrian", "#1f77b4"),
               ("Tree", "#ff7f0e")]  # fmt: skip
    return [
        {
            "source-ref": f"{BUCKET}/examplefolder/frame1.bin",
            "source-ref-metadata": {
                "format": "binary/xyzi",
                "unix-timestamp": 1566861644.759115,
                "ego-vehicle-pose": {},
                "prefix": f"{BUCKET}/lidar_singleframe_dataset/prefix",
                "images": [{}],
            },
            "lidar-ss-label-attribute-ref": (
                f"{OUTPUT}/{LIDAR_SEGMENTATION_JOB}/{MASKS}/0/frame1.zlib"
            ),
            "lidar-ss-label-attribute-ref-metadata": {
                "color-map": {
                    str(i): {"class-name": name, "hex-color": color, "confidence": 0.0}
                    for i, (name, color) in enumerate(classes)
                },
                "type": "groundtruth/point_cloud_single_frame_semantic_segmentation",
                "human-annotated": "yes",
                "creation-date": "2019-11-12T01:18:14.271944",
                "job-name": LIDAR_SEGMENTATION_JOB,
                "adjustment-status": "adjusted",
            },
        }
    ]


def _letters_job() -> list[dict]:
    labels = ["Insurance Company", "Policy Holder Name", "Policy Number", "Payout", "Sender"]
    out = []
    for i, letter in enumerate(["Letter 12", "Letter 57", "Claim ÄÖ 3"]):
        attribute = "insurance-letter-entities"
        out.append(
            {
                "source-ref": f"{BUCKET}/letters/source/{letter}.pdf",
                "page": str(1 + i % 2),
                "metadata": {"pages": "2", "use-textract-only": False, "labels": labels},
                "annotator-metadata": {"Info": "Annotate Required Entities"},
                attribute: {
                    "annotation-ref": f"{BUCKET}/letters/annotations/{letter}-1-{i:04x}c6e-ann.json"
                },
                f"{attribute}-metadata": {
                    "type": "groundtruth/custom",
                    "job-name": "annotate-insurance-letters",
                    "human-annotated": "yes",
                    "creation-date": f"2022-01-0{4 + i}T17:49:31.536000",
                },
            }
        )
    return out


def _relevance_job() -> list[dict]:
    """A custom task in the older spelling: `groundTruth/custom`, `job_name`, `creation_date`."""
    rows = [("wireless earbuds", "3"), ("earbuds for running", "2"), ("ear buds wireless", "4")]
    return [
        {
            "source": query,
            "relevance": {"rating": rating, "comment": "" if rating != "2" else "too generic"},
            "relevance-metadata": {
                "type": "groundTruth/custom",
                "job_name": "rate-search-relevance",
                "human-annotated": "yes",
                "creation_date": f"2019-01-15T08:1{i}:02.000000",
            },
        }
        for i, (query, rating) in enumerate(rows)
    ]


SIGNS = [("0", "stop"), ("1", "yield"), ("2", "Vorfahrt gewähren")] * 2


def _signs_lines() -> list[dict]:
    return _classification(
        "sign",
        "labeling-job/classify-street-signs",
        "image-classification",
        [
            (f"{BUCKET}/signs/sign {i + 1:04d}.jpg", value, name, 0.9 - i / 20,
             f"2024-03-0{1 + i // 2}T09:{10 + i:02d}:00.{120000 + i:06d}")
            for i, (value, name) in enumerate(SIGNS)
        ],
    )  # fmt: skip


# -- writing the sample tree ------------------------------------------------------------------


def _real(name: str) -> bytes:
    return (SAMPLES / "real" / name).read_bytes()


def _write_species_annotations(job_dir: Path, lines: list[dict]) -> None:
    """Newer-shape worker responses (three private workers per image) for iteration 1."""
    notes = Annotations(job_dir, "species")
    start = datetime(2018, 10, 18, 22, 10, 4)
    for index in range(4):
        line = lines[index]
        chosen = line["species-metadata"]["class-name"]
        answers = []
        for w in range(3):
            label = chosen if (index + w) % 4 else "cat" if chosen != "cat" else "dog"
            worker = worker_id("private", "us-east-1", f"species-worker-{w}")
            when = start + timedelta(seconds=index * 41 + w * 13)
            content = {"crowd-image-classifier": {"label": label}}
            sub = f"{w:08x}-aaaa-4bbb-8ccc-{index:012x}"
            answers.append(
                worker_answer(content, worker, when, spent=11.25 + w * 3.5 + index, sub=sub)
            )
        notes.add(1, index, {"s3Uri": line["source-ref"]}, answers, line)
    notes.close()


def _write_mood_annotations(job_dir: Path, lines: list[dict]) -> None:
    """2019-shape worker responses (public workforce) for iteration 1."""
    notes = Annotations(job_dir, "mood")
    start = datetime(2018, 10, 18, 22, 12, 30)
    for index, line in enumerate(lines):
        label = line["mood-metadata"]["class-name"]
        answers = [
            worker_answer(
                {"crowd-classifier": {"sentiment": {"label": label}}},
                worker_id("public", "us-east-1", f"mood-{w}"),
                start + timedelta(seconds=index * 17 + w * 5),
            )
            for w in range(2)
        ]
        notes.add(1, index, {"content": line["source"]}, answers, line)
    notes.close()


def _write_dog_annotations(job_dir: Path, lines: list[dict]) -> None:
    """Newer-shape bounding-box answers (`annotatedResult`), two workers per image."""
    notes = Annotations(job_dir, "bounding-box")
    start = datetime(2018, 10, 18, 22, 14, 0)
    for index, line in enumerate(lines):
        value = line["bounding-box"]
        size = value["image_size"][0]
        answers = []
        for w in range(2):
            boxes = [
                {
                    "height": b["height"],
                    "label": DOG_CLASSES[b["class_id"]],
                    "left": round(b["left"]) + w,
                    "top": round(b["top"]) - w,
                    "width": b["width"],
                }
                for b in value["annotations"]
            ]
            content = {
                "annotatedResult": {
                    "boundingBoxes": boxes,
                    "inputImageProperties": {"height": size["height"], "width": size["width"]},
                }
            }
            worker = worker_id("private", "us-east-1", f"dogs-{w}")
            when = start + timedelta(seconds=index * 63 + w * 29)
            sub = f"{w:08x}-dddd-4eee-8fff-{index:012x}"
            answers.append(
                worker_answer(content, worker, when, spent=24.5 + 7 * w + index, sub=sub)
            )
        notes.add(1, index, {"s3Uri": line["source-ref"]}, answers, line)
    notes.close()


def _write_signs_job(job_dir: Path) -> None:
    """A job still running: two intermediate manifests, the newest cut off mid-line."""
    lines = _signs_lines()
    first = intermediate_lines(lines, lambda i: i < 2, ["sign"])
    write_file(manifest_path(job_dir, 1), jsonl(first))
    second = jsonl(intermediate_lines(lines, lambda i: i < 4 or i == 5, ["sign"]))
    last = second.rstrip("\n").rsplit("\n", 1)[-1]
    cut = len(second.rstrip("\n")) - len(last) + len(last) * 3 // 5  # a partly written last line
    write_file(manifest_path(job_dir, 2), second[:cut])
    notes = Annotations(job_dir, "sign")
    start = datetime(2024, 3, 1, 9, 9, 12)
    for index in range(4):
        iteration = 1 if index < 2 else 2
        name = lines[index]["sign-metadata"]["class-name"]
        answers = [
            worker_answer(
                {"crowd-image-classifier": {"label": name}},
                worker_id("private", "eu-central-1", f"signs-{w}"),
                start + timedelta(days=index // 2, seconds=index * 30 + w * 9),
                spent=5.5 + w,
                sub=f"{w:08x}-5151-4151-8151-{index:012x}",
            )
            for w in range(2)
        ]
        notes.add(iteration, index, {"s3Uri": lines[index]["source-ref"]}, answers, lines[index])
    notes.close()
    done = [
        {"datasetObjectId": str(i), "manifestLine": to_json(lines[i]), "iteration": 2}
        for i in (2, 3)
    ]
    write_file(job_dir / "annotations/intermediate/2/annotations.json", jsonl(done))


def _write_birds_job(job_dir: Path) -> None:
    """The real 302-line job with its real worker responses and what consolidation made of them."""
    output = _real("birds-open-images-clone.manifest")
    write_file(manifest_path(job_dir), output)
    lines = [orjson.loads(raw) for raw in output.splitlines()]
    responses: dict[str, str] = orjson.loads(_real("birds-open-images-clone.worker-responses.json"))
    first = {int(path.split("/")[2]) for path in responses if path.split("/")[1] == "iteration-1"}
    intermediate = intermediate_lines(lines, first.__contains__, ["birds-open-images-clone"])
    write_file(manifest_path(job_dir, 1), jsonl(intermediate))
    notes = Annotations(job_dir, "birds-open-images-clone")
    for path, text in sorted(responses.items()):
        write_file(job_dir / "annotations" / path, text)
        _, iteration, index, _ = path.split("/")
        answers = orjson.loads(text)["answers"]
        line = lines[int(index)]
        number = int(iteration.split("-")[1])
        when = datetime.strptime(path.rsplit("/", 1)[1], "%Y-%m-%d_%H:%M:%S.json")
        notes.record(number, int(index), {"s3Uri": line["source-ref"]}, answers, line, when)
    notes.close()


def write_samples(dir: str | Path) -> int:
    """Write the bundled sample jobs under `dir`; return how many job directories were written."""
    root = Path(dir)
    root.mkdir(parents=True, exist_ok=True)
    jobs: dict[str, list[dict]] = {}
    jobs.update(_sport_jobs())
    jobs["identify-animal-species"] = _species_job()
    jobs["label-mood"] = _mood_job()
    jobs.update(_multilabel_jobs())
    jobs.update(_dog_jobs())
    streets, masks = _street_jobs()
    jobs.update(streets)
    jobs["tag-entities-in-reviews"] = _review_job()
    jobs["track-pedestrians-and-vehicles"] = _video_job()
    jobs[ADJUST_VIDEO_JOB] = _adjust_video_job(jobs["track-pedestrians-and-vehicles"])
    jobs[VIDEO_DETECTION_JOB] = _video_detection_job()
    jobs[CUBOID_JOB] = _cuboid_job()
    jobs[CUBOID_TRACKING_JOB] = _cuboid_tracking_job()
    jobs[VIDEO_TRACKING_DOC_JOB] = _video_tracking_doc_job()
    jobs[LIDAR_SEGMENTATION_JOB] = _lidar_segmentation_job()
    jobs["annotate-insurance-letters"] = _letters_job()
    for name, lines in jobs.items():
        write_file(manifest_path(root / name), jsonl(lines))

    # A manifest edited on Windows: byte-order mark and CRLF line ends.
    relevance = "\ufeff" + jsonl(_relevance_job(), newline="\r\n")
    write_file(manifest_path(root / "rate-search-relevance"), relevance)

    species = jobs["identify-animal-species"]
    write_file(manifest_path(root / "identify-animal-species", 1),
           jsonl(intermediate_lines(species, lambda i: i < 4, ["species"])))  # fmt: skip
    _write_species_annotations(root / "identify-animal-species", species)
    _write_mood_annotations(root / "label-mood", jobs["label-mood"])
    _write_dog_annotations(root / "identify-dogs-and-toys", jobs["identify-dogs-and-toys"])
    for job, files in masks.items():
        for rel, colors in files:
            write_file(root / job / rel, png_mask(16, 12, colors))
    seq = root / "track-pedestrians-and-vehicles" / MASKS
    write_file(seq / "0/SeqLabel.json", _real("SeqLabel.2021-02-26.json"))
    write_file(seq / "1/SeqLabel.json", _real("SeqLabel.json"))
    adjusted = root / ADJUST_VIDEO_JOB / MASKS
    write_file(adjusted / "0/SeqLabel.json", _adjusted_sequence(_real("SeqLabel.2021-02-26.json")))
    docs = SAMPLES / "docs"
    write_file(root / VIDEO_DETECTION_JOB / MASKS / "0/SeqLabel.json",
               (docs / "video-object-detection.SeqLabel.json").read_bytes())  # fmt: skip
    write_file(root / CUBOID_TRACKING_JOB / MASKS / "0/SeqLabel.json",
               (docs / "point-cloud-object-tracking.SeqLabel.json").read_bytes())  # fmt: skip
    write_file(root / VIDEO_TRACKING_DOC_JOB / MASKS / "0/SeqLabel.json",
               (docs / "video-object-tracking.SeqLabel.json").read_bytes())  # fmt: skip
    # the documented example's per-point classes, zlib-compressed as Ground Truth writes them
    points = bytes([1] * 27 + [0] * 12 + [2] * 11)
    write_file(root / LIDAR_SEGMENTATION_JOB / MASKS / "0/frame1.zlib", zlib.compress(points, 9))
    _write_signs_job(root / "classify-street-signs")

    real = {
        "ground-truth-od-demo-1662974840": "ground-truth-od-demo-1662974840.manifest",
        "augmentation-1": "augmentation-1.manifest",
        "augmentation-2": "augmentation-2.manifest",
        "s10-label3": "s10-label3.manifest",
        "test-gtner-blog-004": "test-gtner-blog-004.manifest",
        "legal-entity-label-job-labeling-job-20220104t172242": "legal-entity-label-job.manifest",
        "cutomdocclassification": "cutomdocclassification.manifest",
        "cutomdocclassification-multi-class": "cutomdocclassification-multi-class.manifest",
        "entityrecognizerpoc-1": "entityrecognizerpoc-1.manifest",
    }
    for job, name in real.items():
        write_file(manifest_path(root / job), _real(name))
    l4v = f"{MASKS}/0_2022-09-09T17:25:31.918770.png"
    write_file(
        root / "s10-label3" / l4v, png_mask(16, 12, ["#ffffff", "#2ca02c", "#1f77b4", "#ff7f0e"])
    )
    _write_birds_job(root / "birds-open-images-clone")
    written = [
        *jobs,
        "rate-search-relevance",
        "classify-street-signs",
        *real,
        "birds-open-images-clone",
    ]
    return len(written)
