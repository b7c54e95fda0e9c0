"""A deterministic synthetic Ground Truth tree of any size, for scale tests and the benchmark.

`write_synthetic` writes `jobs` base jobs of `lines` lines over every task type, plus chained jobs
(an adjustment and a verification job per bounding-box job, a second question per image
classification job), cumulative intermediate manifests and a few worker responses per job. The
same arguments write the same bytes.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from gtlake.jobfiles import (
    MASKS,
    Annotations,
    manifest_path,
    png_mask,
    to_json,
    worker_answer,
    worker_id,
    write_file,
)

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
        self.labels = to_json(labels)

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

    def sequence(self, i: int) -> bytes:
        """Line `i`'s `SeqLabel.json`: 2-6 frames, 1-3 tracks drifting a few pixels a frame (its
        own random stream, so the manifests are the same bytes with or without it)."""
        rng = random.Random(f"gtlake-synthetic/seq/{self.ctx.name}/{i}")
        tracks = [
            (rng.randrange(3), 10 + rng.randrange(600), 10 + rng.randrange(300))
            for _ in range(1 + rng.randrange(3))
        ]
        frames = []
        for n in range(2 + rng.randrange(5)):
            boxes = [
                {"height": 40, "width": 30, "top": y + n, "left": x + 2 * n, "class-id": str(c),
                 "label-category-attributes": {},
                 "object-id": f"{self.ctx.name}-{i}-{t}", "object-name": f"{c}:{t + 1}"}
                for t, (c, x, y) in enumerate(tracks)
            ]  # fmt: skip
            frames.append({"annotations": boxes, "frame-no": str(n), "frame": f"{n:06d}.jpg"})
        return to_json({"tracking-annotations": frames}).encode()


class _Custom(_Base):
    attribute = "document-entities"
    kind = "custom"
    LABELS = to_json(
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
        paths = [manifest_path(job_dir)]
        paths += [manifest_path(job_dir, n) for n in range(1, intermediates + 1)]
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
        image = {"pngImageData": base64.b64encode(png_mask(4, 3, ["#ffffff"])).decode()}
        return {"crowd-semantic-segmentation": {"labeledImage": image, "labelMappings": mappings}}
    if kind == "text-span":
        return {"crowd-entity-annotation": {"entities": value["annotations"]["entities"]}}
    return {attribute: value}


def _synthetic_responses(
    job_dir: Path, ctx: _Context, kind: str, attribute: str, kept: dict[int, str]
) -> None:
    """A few worker responses (newer shape on even jobs, 2019 shape on odd ones) + consolidation."""
    notes = Annotations(job_dir, attribute)
    rng = ctx.rng
    start = datetime.fromisoformat(f"{ctx.day}T07:30:00")
    for i, full in sorted(kept.items()):
        line = orjson.loads(full)
        content = _synthetic_answer(kind, attribute, line)
        answers = []
        for w in range(1 + int(rng.random() * 3)):
            worker = worker_id("private", "us-east-1", f"{ctx.name}/{w}")
            when = start + timedelta(seconds=i * 97 + w * 31)
            if ctx.index % 2 == 0:
                spent = round(3 + rng.random() * 60, 3)
                sub = f"{rng.getrandbits(32):08x}-0000-4000-8000-{i:012x}"
                answers.append(worker_answer(content, worker, when, spent=spent, sub=sub))
            else:
                answers.append(worker_answer(content, worker, when))
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
    if isinstance(maker, _VideoTracking):
        for i in range(lines):
            write_file(root / name / MASKS / str(i) / "SeqLabel.json", maker.sequence(i))
    _synthetic_responses(root / name, ctx, kind, maker.a, sink.kept)
    for s, (job, down_kind, m) in zip(sinks, downstream, strict=True):
        _synthetic_responses(root / job, m.ctx, down_kind, m.a, s.kept)
    return 1 + len(downstream)
