"""Writing files as Ground Truth lays them out in a job directory.

Manifests (output and intermediate), worker responses in the 2019 shape and the newer one,
consolidation requests and responses, and segmentation masks: the pieces `gtlake.demo` and
`gtlake.synthetic` build their trees from. Everything is deterministic.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

MASKS = "annotations/consolidated-annotation/output"
REQUESTS = "annotations/consolidated-annotation/consolidation-request"
RESPONSES = "annotations/consolidated-annotation/consolidation-response"


def to_json(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def write_file(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def manifest_path(job_dir: Path, iteration: int | None = None) -> Path:
    if iteration is None:
        return job_dir / "manifests/output/output.manifest"
    return job_dir / f"manifests/intermediate/{iteration}/output.manifest"


def jsonl(lines: Iterable[dict | str], newline: str = "\n") -> str:
    return "".join((line if isinstance(line, str) else to_json(line)) + newline for line in lines)


def png_mask(width: int, height: int, colors: Sequence[str]) -> bytes:
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


def worker_id(workforce: str, region: str, name: str) -> str:
    digest = hashlib.blake2b(name.encode(), digest_size=20).digest()
    return f"{workforce}.{region}.{base64.b32encode(digest).decode()[:26]}"


def worker_answer(
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


def file_stamp(when: datetime) -> str:
    """Ground Truth names worker-response and consolidation files `YYYY-MM-DD_HH:MM:SS.json`."""
    return when.strftime("%Y-%m-%d_%H:%M:%S")


class Annotations:
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
        rel = f"annotations/worker-response/iteration-{iteration}/{index}/{file_stamp(when)}.json"
        write_file(self.job_dir / rel, to_json({"answers": answers}))
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
            {"workerId": a["workerId"], "annotationData": {"content": to_json(a["answerContent"])}}
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
            name = f"iteration-{iteration}/{file_stamp(done)}.json"
            write_file(self.job_dir / REQUESTS / name, to_json(requests))
            responses = self.responses[iteration]
            write_file(self.job_dir / RESPONSES / name, to_json(responses))


def intermediate_lines(
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
