"""Ground Truth output trees to try gtlake on: the bundled samples and a synthetic generator.

`write_samples` writes one job directory per example of the Ground Truth documentation ("Output
Data" in the SageMaker Developer Guide), chained where the documentation chains them, jobs shaped
like real output (named entities, video object tracking, custom tasks), the real files bundled in
`gtlake/samples/` (provenance in its SOURCES.md), and one job still running, whose newest
intermediate manifest ends in a partly written line. `write_synthetic` writes a tree of any size
for scale tests: every task type, chained adjustment, verification and second-question jobs,
cumulative intermediate manifests and a few worker responses per job.

Both are deterministic: the same arguments write the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import random
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

SAMPLES = Path(__file__).resolve().parent / "samples"
BUCKET = "s3://gt-demo-bucket"
OUTPUT = f"{BUCKET}/output"
MASKS = "annotations/consolidated-annotation/output"
REQUESTS = "annotations/consolidated-annotation/consolidation-request"
RESPONSES = "annotations/consolidated-annotation/consolidation-response"


# -- writing files ------------------------------------------------------------------------------


def _json(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def _manifest_path(job_dir: Path, iteration: int | None = None) -> Path:
    if iteration is None:
        return job_dir / "manifests/output/output.manifest"
    return job_dir / f"manifests/intermediate/{iteration}/output.manifest"


def _jsonl(lines: Iterable[dict | str], newline: str = "\n") -> str:
    return "".join((line if isinstance(line, str) else _json(line)) + newline for line in lines)


def _png(width: int, height: int, colors: Sequence[str]) -> bytes:
    """A small RGB mask in vertical bands of `colors` (#rrggbb), stored uncompressed."""
    rgb = [bytes.fromhex(c.lstrip("#")) for c in colors] or [b"\xff\xff\xff"]
    row = b"".join(rgb[x * len(rgb) // width] for x in range(width))
    raw = b"".join(b"\x00" + row for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 0))
        + chunk(b"IEND", b"")
    )


def _worker_id(workforce: str, region: str, name: str) -> str:
    digest = hashlib.blake2b(name.encode(), digest_size=20).digest()
    return f"{workforce}.{region}.{base64.b32encode(digest).decode()[:26]}"


def _answer(
    content: dict, worker: str, submitted: datetime, spent: float | None = None, sub: str = ""
) -> dict:
    """One worker's answer: the 2019 shape, or the newer one when `spent` is given."""
    stamp = submitted.strftime("%Y-%m-%dT%H:%M:%S")
    if spent is None:
        return {"answerContent": content, "submissionTime": stamp + "Z", "workerId": worker}
    accepted = submitted - timedelta(seconds=spent)
    return {
        "acceptanceTime": accepted.isoformat(timespec="milliseconds") + "Z",
        "answerContent": content,
        "submissionTime": submitted.isoformat(timespec="milliseconds") + "Z",
        "timeSpentInSeconds": spent,
        "workerId": worker,
        "workerMetadata": {
            "identityData": {
                "identityProviderType": "Cognito",
                "issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_gtDemo01",
                "sub": sub or "00000000-0000-4000-8000-000000000000",
            }
        },
    }


def _file_stamp(when: datetime) -> str:
    """Ground Truth names worker-response and consolidation files `YYYY-MM-DD_HH:MM:SS.json`."""
    return when.strftime("%Y-%m-%d_%H:%M:%S")


class _Annotations:
    """Worker responses of a job plus the consolidation request and response they lead to."""

    def __init__(self, job_dir: Path, attribute: str) -> None:
        self.job_dir, self.attribute = job_dir, attribute
        self.requests: dict[int, list[dict]] = {}
        self.responses: dict[int, list[dict]] = {}
        self.last: dict[int, datetime] = {}

    def add(
        self, iteration: int, index: int, data_object: dict, answers: list[dict], line: dict
    ) -> None:
        """Write `iteration-<n>/<index>/<timestamp>.json` and record what consolidation saw."""
        when = datetime.fromisoformat(max(a["submissionTime"] for a in answers)[:19])
        rel = f"annotations/worker-response/iteration-{iteration}/{index}/{_file_stamp(when)}.json"
        _write(self.job_dir / rel, _json({"answers": answers}))
        self.record(iteration, index, data_object, answers, line, when)

    def record(
        self,
        iteration: int,
        index: int,
        data_object: dict,
        answers: list[dict],
        line: dict,
        when: datetime,
    ) -> None:
        """Remember one object's answers and label for the consolidation files of `iteration`."""
        annotations = [
            {"workerId": a["workerId"], "annotationData": {"content": _json(a["answerContent"])}}
            for a in answers
        ]
        self.requests.setdefault(iteration, []).append(
            {"datasetObjectId": str(index), "dataObject": data_object, "annotations": annotations}
        )
        key = self.attribute if self.attribute in line else f"{self.attribute}-ref"
        meta_key = next(k for k in (f"{key}-metadata", f"{self.attribute}-metadata") if k in line)
        content = {key: line[key], meta_key: line[meta_key]}
        self.responses.setdefault(iteration, []).append(
            {"datasetObjectId": str(index), "consolidatedAnnotation": {"content": content}}
        )
        self.last[iteration] = max(self.last.get(iteration, when), when)

    def close(self) -> None:
        for iteration, requests in sorted(self.requests.items()):
            done = self.last[iteration] + timedelta(seconds=7)
            name = f"iteration-{iteration}/{_file_stamp(done)}.json"
            _write(self.job_dir / REQUESTS / name, _json(requests))
            responses = self.responses[iteration]
            _write(self.job_dir / RESPONSES / name, _json(responses))


def _intermediate(
    lines: list[dict], labeled: Callable[[int], bool], attributes: Sequence[str]
) -> list[dict]:
    """An intermediate manifest: labeled lines as in the output, the others as the input line."""
    out = []
    for i, line in enumerate(lines):
        if labeled(i):
            out.append(line)
            continue
        drop = set()
        for a in attributes:
            drop |= {a, f"{a}-ref", f"{a}-metadata", f"{a}-ref-metadata"}
        out.append({k: v for k, v in line.items() if k not in drop})
    return out


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
    notes = _Annotations(job_dir, "species")
    start = datetime(2018, 10, 18, 22, 10, 4)
    for index in range(4):
        line = lines[index]
        chosen = line["species-metadata"]["class-name"]
        answers = []
        for w in range(3):
            label = chosen if (index + w) % 4 else "cat" if chosen != "cat" else "dog"
            worker = _worker_id("private", "us-east-1", f"species-worker-{w}")
            when = start + timedelta(seconds=index * 41 + w * 13)
            content = {"crowd-image-classifier": {"label": label}}
            sub = f"{w:08x}-aaaa-4bbb-8ccc-{index:012x}"
            answers.append(_answer(content, worker, when, spent=11.25 + w * 3.5 + index, sub=sub))
        notes.add(1, index, {"s3Uri": line["source-ref"]}, answers, line)
    notes.close()


def _write_mood_annotations(job_dir: Path, lines: list[dict]) -> None:
    """2019-shape worker responses (public workforce) for iteration 1."""
    notes = _Annotations(job_dir, "mood")
    start = datetime(2018, 10, 18, 22, 12, 30)
    for index, line in enumerate(lines):
        label = line["mood-metadata"]["class-name"]
        answers = [
            _answer(
                {"crowd-classifier": {"sentiment": {"label": label}}},
                _worker_id("public", "us-east-1", f"mood-{w}"),
                start + timedelta(seconds=index * 17 + w * 5),
            )
            for w in range(2)
        ]
        notes.add(1, index, {"content": line["source"]}, answers, line)
    notes.close()


def _write_dog_annotations(job_dir: Path, lines: list[dict]) -> None:
    """Newer-shape bounding-box answers (`annotatedResult`), two workers per image."""
    notes = _Annotations(job_dir, "bounding-box")
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
            worker = _worker_id("private", "us-east-1", f"dogs-{w}")
            when = start + timedelta(seconds=index * 63 + w * 29)
            sub = f"{w:08x}-dddd-4eee-8fff-{index:012x}"
            answers.append(_answer(content, worker, when, spent=24.5 + 7 * w + index, sub=sub))
        notes.add(1, index, {"s3Uri": line["source-ref"]}, answers, line)
    notes.close()


def _write_signs_job(job_dir: Path) -> None:
    """A job still running: two intermediate manifests, the newest cut off mid-line."""
    lines = _signs_lines()
    first = _intermediate(lines, lambda i: i < 2, ["sign"])
    _write(_manifest_path(job_dir, 1), _jsonl(first))
    second = _jsonl(_intermediate(lines, lambda i: i < 4 or i == 5, ["sign"]))
    last = second.rstrip("\n").rsplit("\n", 1)[-1]
    cut = len(second.rstrip("\n")) - len(last) + len(last) * 3 // 5  # a partly written last line
    _write(_manifest_path(job_dir, 2), second[:cut])
    notes = _Annotations(job_dir, "sign")
    start = datetime(2024, 3, 1, 9, 9, 12)
    for index in range(4):
        iteration = 1 if index < 2 else 2
        name = lines[index]["sign-metadata"]["class-name"]
        answers = [
            _answer(
                {"crowd-image-classifier": {"label": name}},
                _worker_id("private", "eu-central-1", f"signs-{w}"),
                start + timedelta(days=index // 2, seconds=index * 30 + w * 9),
                spent=5.5 + w,
                sub=f"{w:08x}-5151-4151-8151-{index:012x}",
            )
            for w in range(2)
        ]
        notes.add(iteration, index, {"s3Uri": lines[index]["source-ref"]}, answers, lines[index])
    notes.close()
    done = [
        {"datasetObjectId": str(i), "manifestLine": _json(lines[i]), "iteration": 2} for i in (2, 3)
    ]
    _write(job_dir / "annotations/intermediate/2/annotations.json", _jsonl(done))


def _write_birds_job(job_dir: Path) -> None:
    """The real 302-line job with its real worker responses and what consolidation made of them."""
    output = _real("birds-open-images-clone.manifest")
    _write(_manifest_path(job_dir), output)
    lines = [orjson.loads(raw) for raw in output.splitlines()]
    responses: dict[str, str] = orjson.loads(_real("birds-open-images-clone.worker-responses.json"))
    first = {int(path.split("/")[2]) for path in responses if path.split("/")[1] == "iteration-1"}
    intermediate = _intermediate(lines, first.__contains__, ["birds-open-images-clone"])
    _write(_manifest_path(job_dir, 1), _jsonl(intermediate))
    notes = _Annotations(job_dir, "birds-open-images-clone")
    for path, text in sorted(responses.items()):
        _write(job_dir / "annotations" / path, text)
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
    jobs["annotate-insurance-letters"] = _letters_job()
    for name, lines in jobs.items():
        _write(_manifest_path(root / name), _jsonl(lines))

    # A manifest edited on Windows: byte-order mark and CRLF line ends.
    relevance = "\ufeff" + _jsonl(_relevance_job(), newline="\r\n")
    _write(_manifest_path(root / "rate-search-relevance"), relevance)

    species = jobs["identify-animal-species"]
    _write(_manifest_path(root / "identify-animal-species", 1),
           _jsonl(_intermediate(species, lambda i: i < 4, ["species"])))  # fmt: skip
    _write_species_annotations(root / "identify-animal-species", species)
    _write_mood_annotations(root / "label-mood", jobs["label-mood"])
    _write_dog_annotations(root / "identify-dogs-and-toys", jobs["identify-dogs-and-toys"])
    for job, files in masks.items():
        for rel, colors in files:
            _write(root / job / rel, _png(16, 12, colors))
    seq = root / "track-pedestrians-and-vehicles" / MASKS
    _write(seq / "0/SeqLabel.json", _real("SeqLabel.2021-02-26.json"))
    _write(seq / "1/SeqLabel.json", _real("SeqLabel.excerpt.json"))
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
        _write(_manifest_path(root / job), _real(name))
    l4v = f"{MASKS}/0_2022-09-09T17:25:31.918770.png"
    _write(root / "s10-label3" / l4v, _png(16, 12, ["#ffffff", "#2ca02c", "#1f77b4", "#ff7f0e"]))
    _write_birds_job(root / "birds-open-images-clone")
    written = [
        *jobs,
        "rate-search-relevance",
        "classify-street-signs",
        *real,
        "birds-open-images-clone",
    ]
    return len(written)


# -- the synthetic generator --------------------------------------------------------------------
#
# Lines are built from string templates (no per-field JSON encoding): a base job's line is
# `prefix + "," + label + "}"`, where `prefix` is the input line without its closing brace, so a
# chained job's line is the upstream line with one more label spliced in before the brace.

SYNTHETIC_KINDS = (
    "image-classification",
    "text-classification",
    "image-classification-multilabel",
    "text-classification-multilabel",
    "object-detection",
    "semantic-segmentation",
    "text-span",
    "video-object-tracking",
    "custom",
)
SYNTHETIC_BUCKET = "s3://gt-synthetic-data"
_CONF = [str(k / 100) for k in range(100)]  # "0.0" .. "0.99"
_FOLDERS = ["images", "Camera 07/day shots", "raw uploads/2023-05", "données/été"]
_CLASSES = [
    ["Duck", "Sparrow", "Woodpecker", "Parrot", "Falcon", "Swan", "Canary", "Owl", "Gull"],
    ["dog", "cat", "bird", "horse", "sheep", "cow"],
    ["Straßenbahn", "Bus", "Fahrrad", "Fußgänger ", "Lkw", "Ampel", "信号機"],
    ["car", "truck", "pedestrian", "cyclist", "traffic light", "stop sign", "café sign", "bus"],
]
_WORDS = [
    "the", "a", "this", "that", "delivery", "arrived", "late", "early", "box", "product",
    "quality", "price", "support", "refund", "order", "great", "terrible", "okay", "fine",
    "broken", "working", "again", "never", "always", "really", "quite", "very", "fast", "slow",
    "battery", "screen", "sound", "colour", "size", "fits", "small", "large", "return",
    "exchange", "gift", "love", "hate", "happy", "sad", "would", "recommend", "not", "buy",
    "store", "online", "app", "update", "crashed", "works", "perfectly", "after", "days",
    "weeks", "café", "naïve", "déjà", "vu", "über", "it's", "don't", "won't",
]  # fmt: skip
_PEOPLE = ["Jane Doe", "Bob", "María García", "Li Wei", "Olu Adeyemi", "Søren Kierkegaard"]
_BRANDS = ["Acme", "Zenbook", "Globex", "Initech", "Umbrella", "Stark Industries"]
_PLACES = ["Zürich", "Lisbon", "São Paulo", "Minneapolis", "Kraków", "Osaka"]
_COMMENTS = [
    "The box on the left is too wide.",
    "One object is not labeled.",
    "Wrong class on the second box.",
    "Boxes overlap the image border.",
    "La boîte est décalée vers le bas.",
]
_SEGMENT_CLASSES = [
    ("road", "#f28333"), ("buildings", "#2acf59"), ("sidewalk", "#9467bd"), ("trees ", "#8c564b"),
    ("sky", "#17becf"), ("car", "#d62728"), ("person", "#e377c2"), ("Verkehrszeichen", "#bcbd22"),
]  # fmt: skip
_SIZES = [(500, 400), (640, 480), (1024, 768), (680, 1024), (1280, 720), (2550, 3300)]


def _q(text: str) -> str:
    """A JSON string literal (UTF-8, not ASCII-escaped, as Ground Truth writes them)."""
    return orjson.dumps(text).decode()


class _Context:
    """What every line of one synthetic job shares: its name, random stream and dates."""

    def __init__(self, seed: int, index: int, name: str, lines: int, days_later: int = 0) -> None:
        self.rng = random.Random(f"gtlake-synthetic/{seed}/{index}/{name}")
        self.index, self.name, self.lines = index, name, lines
        self.job_name = _q(f"labeling-job/{name}" if index % 2 == 0 else name)
        start = datetime(2023, 1, 2) + timedelta(days=3 * index + days_later)
        self.day = start.strftime("%Y-%m-%d")
        self.folder = _FOLDERS[index % len(_FOLDERS)]

    def created(self, i: int) -> str:
        secs = 28800 + i * 50000 // max(self.lines, 1)
        micro = int(self.rng.random() * 1_000_000)
        return f"{self.day}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}.{micro:06d}"

    def source_ref(self, i: int, ext: str = "jpg") -> str:
        return f"{SYNTHETIC_BUCKET}/{self.folder}/{i:07d}-{self.rng.getrandbits(48):012x}.{ext}"

    def text(self, low: int, high: int) -> str:
        rng = self.rng
        words = rng.choices(_WORDS, k=low + int(rng.random() * (high - low)))
        return " ".join(words).capitalize() + "."


class _Base:
    """A base job's line maker: `line(i)` gives (input prefix, label fragment, info)."""

    attribute = "label"

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.a = self.attribute


class _ImageClassification(_Base):
    attribute = "category"
    kind = "image-classification"

    def __init__(self, ctx: _Context) -> None:
        super().__init__(ctx)
        names = _CLASSES[ctx.index % len(_CLASSES)]
        self.names = [_q(n) for n in names]
        self.ids = [f'"{c}"' if ctx.index % 2 else str(c) for c in range(len(names))]
        self.single_worker = ctx.index % 4 == 3  # one worker per object: confidence is 0

    def prefix(self, i: int) -> str:
        return f'{{"source-ref":"{self.ctx.source_ref(i)}"'

    def line(self, i: int) -> tuple[str, str, Any]:
        ctx, r = self.ctx, self.ctx.rng.random
        c = int(r() * len(self.names))
        human = r() > 0.1
        conf = "0" if self.single_worker else _CONF[99 - int(r() * (8 if human else 50))]
        a = self.a
        label = (
            f'"{a}":{self.ids[c]},"{a}-metadata":{{"confidence":{conf},"job-name":{ctx.job_name},'
            f'"class-name":{self.names[c]},"human-annotated":"{"yes" if human else "no"}",'
            f'"creation-date":"{ctx.created(i)}","type":"groundtruth/{self.kind}"}}'
        )
        return self.prefix(i), label, c


class _TextClassification(_ImageClassification):
    attribute = "sentiment"
    kind = "text-classification"

    def prefix(self, i: int) -> str:
        return f'{{"source":{_q(self.ctx.text(8, 60))}'


class _ImageMultilabel(_Base):
    attribute = "image-tags"
    kind = "image-classification-multilabel"

    def __init__(self, ctx: _Context) -> None:
        super().__init__(ctx)
        self.names = [_q(n) for n in _CLASSES[(ctx.index + 1) % len(_CLASSES)]]

    def prefix(self, i: int) -> str:
        return f'{{"source-ref":"{self.ctx.source_ref(i)}"'

    def line(self, i: int) -> tuple[str, str, Any]:
        ctx, rng = self.ctx, self.ctx.rng
        ids = rng.sample(range(len(self.names)), 1 + int(rng.random() * 4))
        confs = [_CONF[30 + int(rng.random() * 69)] for _ in ids]
        classes = ",".join(f'"{c}":{self.names[c]}' for c in ids)
        confidences = ",".join(f'"{c}":{v}' for c, v in zip(ids, confs, strict=True))
        a = self.a
        label = (
            f'"{a}":[{",".join(map(str, ids))}],"{a}-metadata":{{"job-name":{ctx.job_name},'
            f'"class-map":{{{classes}}},"human-annotated":"yes","creation-date":"{ctx.created(i)}",'
            f'"confidence-map":{{{confidences}}},"type":"groundtruth/{self.kind}"}}'
        )
        return self.prefix(i), label, ids


class _TextMultilabel(_ImageMultilabel):
    attribute = "topics"
    kind = "text-classification-multilabel"

    def prefix(self, i: int) -> str:
        return f'{{"source":{_q(self.ctx.text(10, 70))}'


class _Boxes(_Base):
    attribute = "bounding-box"

    def __init__(self, ctx: _Context) -> None:
        super().__init__(ctx)
        self.names = [_q(n) for n in _CLASSES[(ctx.index // 4 + 2) % len(_CLASSES)]]
        # Key order and type spelling vary between real producers.
        self.yolo_order = ctx.index % 2 == 0
        self.floats = ctx.index % 3 != 1
        self.kind = "object_detection" if ctx.index % 8 == 5 else "object-detection"

    def boxes_json(self, boxes: list[tuple]) -> str:
        if self.yolo_order:
            parts = [f'{{"class_id":{c},"top":{t},"left":{le},"height":{h},"width":{w}}}'
                     for c, le, t, w, h in boxes]  # fmt: skip
        else:
            parts = [f'{{"class_id":{c},"left":{le},"top":{t},"width":{w},"height":{h}}}'
                     for c, le, t, w, h in boxes]  # fmt: skip
        return ",".join(parts)

    def value(self, size: tuple[int, int], boxes: list[tuple]) -> str:
        return (
            f'{{"image_size":[{{"width":{size[0]},"height":{size[1]},"depth":3}}],'
            f'"annotations":[{self.boxes_json(boxes)}]}}'
        )

    def meta(self, boxes: list[tuple], confs: list[str], ctx: _Context, i: int, extra: str) -> str:
        objects = ",".join(f'{{"confidence":{c}}}' for c in confs)
        classes = ",".join(f'"{c}":{self.names[c]}' for c in sorted({b[0] for b in boxes}))
        return (
            f'{{"objects":[{objects}],"class-map":{{{classes}}},"type":"groundtruth/{self.kind}",'
            f'"human-annotated":"yes","creation-date":"{ctx.created(i)}",'
            f'"job-name":{ctx.job_name}{extra}}}'
        )

    def line(self, i: int) -> tuple[str, str, Any]:
        ctx, r = self.ctx, self.ctx.rng.random
        size = _SIZES[int(r() * len(_SIZES))]
        width, height = size
        boxes = []
        for _ in range(1 + int(r() * 8)):
            w = 8 + int(r() * width * 0.4)
            h = 8 + int(r() * height * 0.4)
            le, t = int(r() * (width - w)), int(r() * (height - h))
            if self.floats and r() < 0.5:  # e.g. 164.60000000000002, as in real files
                le, t = (le * 10 + int(r() * 10)) * 0.1, (t * 10 + int(r() * 10)) * 0.1
                w = (w * 10 + int(r() * 10)) * 0.1
            boxes.append((int(r() * len(self.names)), le, t, w, h))
        confs = [_CONF[40 + int(r() * 59)] for _ in boxes]
        a = self.a
        label = (
            f'"{a}":{self.value(size, boxes)},"{a}-metadata":{self.meta(boxes, confs, ctx, i, "")}'
        )
        return f'{{"source-ref":"{ctx.source_ref(i)}"', label, (size, boxes, confs)


class _Segmentation(_Base):
    attribute = "street-scene"
    kind = "semantic-segmentation"

    def line(self, i: int) -> tuple[str, str, Any]:
        ctx, rng = self.ctx, self.ctx.rng
        created = ctx.created(i)
        picked = rng.sample(range(len(_SEGMENT_CLASSES)), 1 + int(rng.random() * 5))
        conf = _CONF[50 + int(rng.random() * 49)]
        entries = [f'"0":{{"class-name":"BACKGROUND","hex-color":"#ffffff","confidence":{conf}}}']
        for c in sorted(picked):
            name, color = _SEGMENT_CLASSES[c]
            entries.append(
                f'"{c + 1}":{{"class-name":{_q(name)},"hex-color":"{color}","confidence":{conf}}}'
            )
        a = self.a
        mask = f"{SYNTHETIC_BUCKET}/output/{ctx.name}/{MASKS}/{i}_{created}.png"
        meta_key = f"{a}-ref-metadata" if ctx.index % 2 == 0 else f"{a}-metadata"
        label = (
            f'"{a}-ref":"{mask}","{meta_key}":{{"internal-color-map":{{{",".join(entries)}}},'
            f'"type":"groundtruth/{self.kind}","human-annotated":"yes",'
            f'"creation-date":"{created}","job-name":{ctx.job_name}}}'
        )
        return f'{{"source-ref":"{ctx.source_ref(i, "png")}"', label, picked


class _TextSpans(_Base):
    attribute = "ner"
    kind = "text-span"
    LABELS = [("PER", "Person", _PEOPLE), ("BRD", "Brand", _BRANDS), ("LOC", "Location", _PLACES)]

    def __init__(self, ctx: _Context) -> None:
        super().__init__(ctx)
        labels = [{"shortDisplayName": s, "label": label} for s, label, _ in self.LABELS]
        self.labels = _json(labels)

    def line(self, i: int) -> tuple[str, str, Any]:
        ctx, rng = self.ctx, self.ctx.rng
        r = rng.random
        pieces: list[str] = []
        entities = []
        length = 0
        for _ in range(int(r() * 6)):
            filler = " ".join(rng.choices(_WORDS, k=2 + int(r() * 8))) + " "
            pieces.append(filler)
            length += len(filler)
            _, label, pool = self.LABELS[int(r() * len(self.LABELS))]
            phrase = pool[int(r() * len(pool))]
            entities.append((length, length + len(phrase), label))
            pieces.append(phrase + " ")
            length += len(phrase) + 1
        pieces.append(" ".join(rng.choices(_WORDS, k=3 + int(r() * 10))) + ".")
        spans = ",".join(
            f'{{"endOffset":{e},"startOffset":{s},"label":"{label}"}}' for s, e, label in entities
        )
        confs = ",".join(f'{{"confidence":{_CONF[5 + int(r() * 90)]}}}' for _ in entities)
        a = self.a
        label = (
            f'"{a}":{{"annotations":{{"entities":[{spans}],"labels":{self.labels}}}}},'
            f'"{a}-metadata":{{"entities":[{confs}],"job-name":{ctx.job_name},'
            f'"type":"groundtruth/{self.kind}","creation-date":"{ctx.created(i)}",'
            f'"human-annotated":"yes"}}'
        )
        return f'{{"source":{_q("".join(pieces))}', label, entities


class _VideoTracking(_Base):
    attribute = "tracks"
    kind = "video-object-tracking"

    def __init__(self, ctx: _Context) -> None:
        super().__init__(ctx)
        names = _CLASSES[3]
        self.class_map = ",".join(f'"{c}":{_q(n)}' for c, n in enumerate(names))

    def line(self, i: int) -> tuple[str, str, Any]:
        ctx = self.ctx
        a = self.a
        seq = f"{SYNTHETIC_BUCKET}/output/{ctx.name}/{MASKS}/{i}/SeqLabel.json"
        label = (
            f'"{a}-ref":"{seq}","{a}-ref-metadata":{{"class-map":{{{self.class_map}}},'
            f'"job-name":{ctx.job_name},"human-annotated":"yes",'
            f'"creation-date":"{ctx.created(i)}","type":"groundtruth/{self.kind}"}}'
        )
        source = f"{SYNTHETIC_BUCKET}/{ctx.folder}/videos/clip {i:06d}/seq.json"
        return f'{{"source-ref":"{source}"', label, None


class _Custom(_Base):
    attribute = "document-entities"
    kind = "custom"
    LABELS = _json(
        ["Law Firm", "Insurance Company", "Policy Holder Name", "Policy Number", "Payout", "Sender"]
    )

    def line(self, i: int) -> tuple[str, str, Any]:
        ctx, r = self.ctx, self.ctx.rng.random
        letter = f"Letter {i}"
        pages = 1 + int(r() * 4)
        page = 1 + int(r() * pages)
        prefix = (
            f'{{"source-ref":"{SYNTHETIC_BUCKET}/{ctx.folder}/source/{letter}.pdf",'
            f'"page":"{page}","metadata":{{"pages":"{pages}","use-textract-only":false,'
            f'"labels":{self.LABELS}}},"annotator-metadata":{{"Info":"Annotate Required Entities"}}'
        )
        ref = (
            f"{SYNTHETIC_BUCKET}/annotations/{letter}-{page}-{ctx.rng.getrandbits(32):08x}-ann.json"
        )
        a = self.a
        if ctx.index % 2 == 0:
            meta = (
                f'{{"type":"groundtruth/custom","job-name":{ctx.job_name},"human-annotated":"yes",'
                f'"creation-date":"{ctx.created(i)}"}}'
            )
        else:  # the older spelling
            meta = (
                f'{{"type":"groundTruth/custom","job_name":{ctx.job_name},"human-annotated":"yes",'
                f'"creation_date":"{ctx.created(i)}"}}'
            )
        return prefix, f'"{a}":{{"annotation-ref":"{ref}"}},"{a}-metadata":{meta}', None


_MAKERS: dict[str, type[_Base]] = {
    "image-classification": _ImageClassification,
    "text-classification": _TextClassification,
    "image-classification-multilabel": _ImageMultilabel,
    "text-classification-multilabel": _TextMultilabel,
    "object-detection": _Boxes,
    "semantic-segmentation": _Segmentation,
    "text-span": _TextSpans,
    "video-object-tracking": _VideoTracking,
    "custom": _Custom,
}


class _Adjustment:
    """A bounding-box adjustment job downstream of a `_Boxes` job."""

    def __init__(self, ctx: _Context, upstream: _Boxes) -> None:
        self.ctx, self.up = ctx, upstream
        self.a = f"adjusted-{upstream.a}"

    def label(self, i: int, info: Any) -> str:
        size, boxes, confs = info
        r = self.ctx.rng.random
        if r() < 0.45:
            status, new = "unadjusted", boxes
        else:
            status, new = "adjusted", []
            for c, le, t, w, h in boxes:
                if r() < 0.5:
                    le, t = le + int(r() * 21) - 10, t + int(r() * 21) - 10
                    w, h = w + int(r() * 11) - 5, h + int(r() * 11) - 5
                new.append((c, max(le, 0), max(t, 0), max(w, 1), max(h, 1)))
        extra = f',"adjustment-status":"{status}"'
        meta = self.up.meta(new, confs, self.ctx, i, extra)
        return f'"{self.a}":{self.up.value(size, new)},"{self.a}-metadata":{meta}'


class _Verification:
    """A label-verification job downstream of a `_Boxes` job."""

    def __init__(self, ctx: _Context, upstream: _Boxes) -> None:
        self.ctx = ctx
        self.a = f"verify-{upstream.a}"

    def label(self, i: int, info: Any) -> str:
        ctx, r = self.ctx, self.ctx.rng.random
        bad = r() < 0.2
        feedback = ""
        if bad and r() < 0.7:
            comments = [_COMMENTS[int(r() * len(_COMMENTS))] for _ in range(1 + int(r() * 2))]
            feedback = (
                ',"worker-feedback":[' + ",".join(f'{{"comment":{_q(c)}}}' for c in comments) + "]"
            )
        return (
            f'"{self.a}":"{int(bad)}","{self.a}-metadata":{{'
            f'"class-name":"{"bad" if bad else "good"}",'
            f'"confidence":{_CONF[50 + int(r() * 49)]},"type":"groundtruth/label-verification",'
            f'"job-name":{ctx.job_name},"human-annotated":"yes",'
            f'"creation-date":"{ctx.created(i)}"{feedback}}}'
        )


class _SecondQuestion:
    """A second image-classification job on the objects of an image-classification job."""

    NAMES = [_q(n) for n in ("indoor", "outdoor", "cannot tell")]

    def __init__(self, ctx: _Context, upstream: _ImageClassification) -> None:
        self.ctx = ctx
        self.a = "setting"

    def label(self, i: int, info: Any) -> str:
        ctx, r = self.ctx, self.ctx.rng.random
        c = int(r() * 3)
        return (
            f'"{self.a}":{c},"{self.a}-metadata":{{"class-name":{self.NAMES[c]},'
            f'"confidence":{_CONF[60 + int(r() * 39)]},"type":"groundtruth/image-classification",'
            f'"job-name":{ctx.job_name},"human-annotated":"yes","creation-date":"{ctx.created(i)}"}}'
        )


class _Sink:
    """One job's manifests: the output one and `intermediates` cumulative intermediate ones.

    Line `i` is labeled from iteration `iteration(i)` on; before that an intermediate manifest
    holds the input line. Writes go out in multi-megabyte chunks.
    """

    FLUSH = 8 << 20

    def __init__(self, job_dir: Path, intermediates: int) -> None:
        paths = [_manifest_path(job_dir)]
        paths += [_manifest_path(job_dir, n) for n in range(1, intermediates + 1)]
        self.files = []
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.files.append(open(path, "wb"))  # noqa: SIM115 (closed in close())
        self.parts: list[list[str]] = [[] for _ in paths]
        self.size = 0
        self.kept: dict[int, str] = {}  # the first few lines, for worker responses

    def add(self, i: int, bare: str, full: str, iteration: int) -> None:
        parts = self.parts
        parts[0].append(full)
        for n in range(1, len(parts)):
            parts[n].append(full if iteration <= n else bare)
        self.size += len(full)
        if i < _RESPONSES_PER_JOB:
            self.kept[i] = full
        if self.size > self.FLUSH:
            self.flush()

    def flush(self) -> None:
        for file, part in zip(self.files, self.parts, strict=True):
            if part:
                part.append("")
                file.write("\n".join(part).encode())
                part.clear()
        self.size = 0

    def close(self) -> None:
        self.flush()
        for file in self.files:
            file.close()


_RESPONSES_PER_JOB = 4


def _synthetic_answer(kind: str, attribute: str, line: dict) -> dict:
    """What a worker's template would have sent for the consolidated label of `line`."""
    key = attribute if attribute in line else f"{attribute}-ref"
    meta = line.get(f"{attribute}-metadata") or line.get(f"{key}-metadata") or {}
    value = line[key]
    if kind in ("image-classification", "label-verification"):
        return {"crowd-image-classifier": {"label": meta.get("class-name")}}
    if kind == "text-classification":
        return {"crowd-classifier": {"label": meta.get("class-name")}}
    if kind.endswith("multilabel"):
        names = meta.get("class-map", {})
        return {"crowd-classifier-multi-select": {"labels": [names[str(v)] for v in value]}}
    if kind == "object-detection":
        names = meta.get("class-map", {})
        size = value["image_size"][0]
        boxes = [
            {"height": b["height"], "label": names.get(str(b["class_id"])), "left": b["left"],
             "top": b["top"], "width": b["width"]}
            for b in value["annotations"]
        ]  # fmt: skip
        properties = {"height": size["height"], "width": size["width"]}
        return {"annotatedResult": {"boundingBoxes": boxes, "inputImageProperties": properties}}
    if kind == "semantic-segmentation":
        mappings = {
            e["class-name"]: {"color": e["hex-color"]} for e in meta["internal-color-map"].values()
        }
        image = {"pngImageData": base64.b64encode(_png(4, 3, ["#ffffff"])).decode()}
        return {"crowd-semantic-segmentation": {"labeledImage": image, "labelMappings": mappings}}
    if kind == "text-span":
        return {"crowd-entity-annotation": {"entities": value["annotations"]["entities"]}}
    return {attribute: value}


def _synthetic_responses(
    job_dir: Path, ctx: _Context, kind: str, attribute: str, kept: dict[int, str]
) -> None:
    """A few worker responses (newer shape on even jobs, 2019 shape on odd ones) + consolidation."""
    notes = _Annotations(job_dir, attribute)
    rng = ctx.rng
    start = datetime.fromisoformat(f"{ctx.day}T07:30:00")
    for i, full in sorted(kept.items()):
        line = orjson.loads(full)
        content = _synthetic_answer(kind, attribute, line)
        answers = []
        for w in range(1 + int(rng.random() * 3)):
            worker = _worker_id("private", "us-east-1", f"{ctx.name}/{w}")
            when = start + timedelta(seconds=i * 97 + w * 31)
            if ctx.index % 2 == 0:
                spent = round(3 + rng.random() * 60, 3)
                sub = f"{rng.getrandbits(32):08x}-0000-4000-8000-{i:012x}"
                answers.append(_answer(content, worker, when, spent=spent, sub=sub))
            else:
                answers.append(_answer(content, worker, when))
        source = line.get("source-ref")
        data_object = {"s3Uri": source} if source else {"content": line.get("source")}
        notes.add(1, i, data_object, answers, line)
    notes.close()


def _iteration(rng: random.Random, intermediates: int) -> int:
    return 1 + int(rng.random() * (intermediates + 1))


def write_synthetic(
    dir: str | Path,
    jobs: int,
    lines: int,
    seed: int = 0,
    *,
    kinds: Sequence[str] = SYNTHETIC_KINDS,
    chained: bool = True,
    intermediates: int = 2,
) -> int:
    """Write a synthetic tree under `dir`; return how many job directories were written.

    `jobs` base jobs of `lines` lines each cycle over `kinds`. With `chained`, every
    bounding-box job also gets an adjustment and a verification job, and every image
    classification job a second-question job, whose lines carry the upstream labels. Each job
    gets `intermediates` cumulative intermediate manifests and a few worker responses.
    """
    unknown = sorted(set(kinds) - set(_MAKERS))
    if unknown:
        raise ValueError(f"unknown synthetic task types: {', '.join(unknown)}")
    root = Path(dir)
    root.mkdir(parents=True, exist_ok=True)
    written = 0
    for index in range(jobs):
        kind = kinds[index % len(kinds)]
        written += _synthetic_job(root, seed, index, kind, lines, chained, intermediates)
    return written


def _synthetic_job(
    root: Path, seed: int, index: int, kind: str, lines: int, chained: bool, intermediates: int
) -> int:
    name = f"synth-{index:03d}-{kind}"
    ctx = _Context(seed, index, name, lines)
    maker = _MAKERS[kind](ctx)
    downstream: list[tuple[str, str, Any]] = []  # (job name, kind, label maker)
    if chained and kind == "object-detection":
        adjust = _Context(seed, index, f"synth-{index:03d}-adjust-boxes", lines, days_later=1)
        verify = _Context(seed, index, f"synth-{index:03d}-verify-boxes", lines, days_later=2)
        downstream.append((adjust.name, kind, _Adjustment(adjust, maker)))
        downstream.append((verify.name, "label-verification", _Verification(verify, maker)))
    if chained and kind == "image-classification":
        second = _Context(seed, index, f"synth-{index:03d}-indoor-outdoor", lines, days_later=1)
        downstream.append((second.name, kind, _SecondQuestion(second, maker)))
    sink = _Sink(root / name, intermediates)
    sinks = [_Sink(root / job, intermediates) for job, _, _ in downstream]
    rng = ctx.rng
    chained_makers = [
        (s, m.label, m.ctx.rng) for s, (_, _, m) in zip(sinks, downstream, strict=True)
    ]
    try:
        for i in range(lines):
            prefix, label, info = maker.line(i)
            full = f"{prefix},{label}}}"
            sink.add(i, prefix + "}", full, _iteration(rng, intermediates))
            upstream = full[:-1]
            for down, make, down_rng in chained_makers:
                line = f"{upstream},{make(i, info)}}}"
                down.add(i, full, line, _iteration(down_rng, intermediates))
    finally:
        for s in (sink, *sinks):
            s.close()
    _synthetic_responses(root / name, ctx, kind, maker.a, sink.kept)
    for s, (job, down_kind, m) in zip(sinks, downstream, strict=True):
        _synthetic_responses(root / job, m.ctx, down_kind, m.a, s.kept)
    return 1 + len(downstream)
