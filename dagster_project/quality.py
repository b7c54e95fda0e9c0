"""The data-quality rules behind the asset checks, as pure functions over Arrow tables.

Each rule takes the rows of one job's partition (read back from the lake) and returns a
:class:`Verdict`: passed or not, a one-line description, and plain metadata (counts and up to
:data:`EXAMPLES` offending rows) that the Dagster checks attach to their results.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

EXAMPLES = 5
_WHERE = ("line", "attribute", "confidence")  # what an out-of-range example shows
BOM = b"\xef\xbb\xbf"

# Types whose label attribute ends in `-ref` (the label is a reference to a file): semantic
# segmentation must, video and point-cloud sequences do; "For any other type of job, the attribute
# name can't end with -ref" (Ground Truth output data documentation).
REF_REQUIRED = ("semantic-segmentation",)
REF_PREFIXES = ("video-", "point-cloud-")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def count_nonblank_lines(stream: IO[bytes], block_size: int = 8 << 20) -> int:
    """Lines holding anything but whitespace (a leading byte-order mark is not content)."""
    count = 0
    rest = stream.read(block_size)
    if rest.startswith(BOM):
        rest = rest[len(BOM) :]
    while True:
        block = stream.read(block_size)
        pieces = (rest + block).split(b"\n")
        rest = pieces.pop() if block else b""
        count += sum(1 for piece in pieces if piece.strip())
        if not block:
            return count


def lines_accounted(
    object_lines: pa.Array, quarantine_lines: pa.Array, manifest_lines: int
) -> Verdict:
    """Every non-blank manifest line is in `objects` or in `quarantine`, exactly once."""
    seen = Counter(object_lines.to_pylist()) + Counter(quarantine_lines.to_pylist())
    twice = sorted(line for line, n in seen.items() if n > 1)
    accounted = len(object_lines) + len(quarantine_lines)
    metadata = {
        "manifest_lines": manifest_lines,
        "object_rows": len(object_lines),
        "quarantined_lines": len(quarantine_lines),
        "lines_counted_twice": twice[:EXAMPLES],
    }
    if accounted == manifest_lines and not twice:
        return Verdict(True, f"all {manifest_lines} manifest lines accounted for", metadata)
    return Verdict(
        False,
        f"{accounted} lines in objects and quarantine ({len(twice)} counted twice) for "
        f"{manifest_lines} non-blank manifest lines",
        metadata,
    )


def confidences_in_range(tables: dict[str, pa.Table]) -> Verdict:
    """Every `confidence` value lies in [0, 1] (null is fine: not every label has one)."""
    bad_by_table: dict[str, int] = {}
    examples: list[dict[str, Any]] = []
    checked = 0
    for name, table in tables.items():
        confidence = table["confidence"]
        checked += len(confidence) - confidence.null_count
        outside = pc.or_(
            pc.or_(pc.less(confidence, 0.0), pc.greater(confidence, 1.0)), pc.is_nan(confidence)
        )
        bad = table.filter(pc.fill_null(outside, False))
        if bad.num_rows:
            bad_by_table[name] = bad.num_rows
            for row in bad.slice(0, EXAMPLES).to_pylist():
                examples.append({"table": name, **{k: row.get(k) for k in _WHERE}})
    metadata = {"confidences_checked": checked, "outside_by_table": bad_by_table}
    if not bad_by_table:
        return Verdict(True, f"{checked} confidences within [0, 1]", metadata)
    metadata["examples"] = examples[:EXAMPLES]
    total = sum(bad_by_table.values())
    return Verdict(False, f"{total} of {checked} confidences outside [0, 1]", metadata)


def attribute_name_problem(attribute: str, label_type: str) -> str | None:
    """Why a label attribute name breaks Ground Truth's naming rules, or None."""
    if "-metadata" in attribute:
        return "label attribute names cannot contain -metadata"
    is_ref = attribute.endswith("-ref")
    if label_type in REF_REQUIRED and not is_ref:
        return f"a {label_type} label attribute must end with -ref"
    if is_ref and label_type not in REF_REQUIRED and not label_type.startswith(REF_PREFIXES):
        return f"a {label_type} label attribute cannot end with -ref"
    return None


def refused_label_names(attributes: pa.Array) -> list[str]:
    """Label metadata the library left as passthrough because its name contains `-metadata`.

    `objects.attributes` holds the keys that are not label attributes; a key `X-metadata` there
    whose value has a `groundtruth/` type is a label named `X`, and `X` breaks the rule.
    """
    candidates = attributes.filter(
        pc.fill_null(pc.match_substring(attributes, "groundtruth/", ignore_case=True), False)
    )
    found = []
    for text in candidates.to_pylist():
        for key, value in orjson.loads(text).items():
            if not key.endswith("-metadata") or not isinstance(value, dict):
                continue
            kind = value.get("type")
            if (
                isinstance(kind, str)
                and kind[:12].lower() == "groundtruth/"
                and "-metadata" in key[:-9]
            ):
                found.append(key[:-9])
    return found


def attribute_names(labels: pa.Table, passthrough: pa.Array) -> Verdict:
    """Label attribute names follow the rules: no `-metadata`; `-ref` only where the type calls for
    it (always for semantic segmentation, allowed for video and point-cloud sequences)."""
    problems: Counter[tuple[str, str]] = Counter()
    pairs = labels.group_by(["attribute", "label_type"]).aggregate([([], "count_all")])
    for row in pairs.to_pylist():
        reason = attribute_name_problem(row["attribute"], row["label_type"] or "")
        if reason:
            problems[(row["attribute"], reason)] += row["count_all"]
    for name in refused_label_names(passthrough):
        problems[(name, "label attribute names cannot contain -metadata")] += 1
    metadata: dict[str, Any] = {
        "attributes": sorted({str(a) for a in pairs["attribute"].to_pylist()}),
    }
    if not problems:
        return Verdict(True, "label attribute names follow the naming rules", metadata)
    metadata["problems"] = [
        {"attribute": attribute, "reason": reason, "rows": n}
        for (attribute, reason), n in sorted(problems.items())
    ][:EXAMPLES]
    return Verdict(False, f"{len(problems)} label attribute names break the rules", metadata)


BOX_TYPE = "object-detection"


def box_confidence_counts(labels: pa.Table, boxes: pa.Table) -> Verdict:
    """Each bounding-box label has as many `objects[]` confidences as boxes."""
    detection = labels.filter(pc.equal(labels["label_type"], BOX_TYPE))
    per_label = Counter(zip(boxes["line"].to_pylist(), boxes["attribute"].to_pylist(), strict=True))
    mismatched: list[dict[str, Any]] = []
    for row in detection.select(["line", "attribute", "metadata", "warning"]).to_pylist():
        objects = orjson.loads(row["metadata"]).get("objects") if row["metadata"] else None
        confidences = len(objects) if isinstance(objects, list) else 0
        count = per_label.get((row["line"], row["attribute"]), 0)
        if count != confidences:
            mismatched.append(
                {
                    "line": row["line"],
                    "attribute": row["attribute"],
                    "boxes": count,
                    "confidences": confidences,
                    "warning": row["warning"],
                }
            )
    metadata: dict[str, Any] = {"box_labels": detection.num_rows, "boxes": boxes.num_rows}
    if not mismatched:
        return Verdict(True, f"{detection.num_rows} box labels: boxes match confidences", metadata)
    metadata["mismatched_labels"] = len(mismatched)
    metadata["examples"] = mismatched[:EXAMPLES]
    return Verdict(
        False, f"{len(mismatched)} box labels whose box and confidence counts differ", metadata
    )


def quarantine_empty(quarantine: pa.Table) -> Verdict:
    """Nothing of the job went to quarantine."""
    count = quarantine.num_rows
    metadata: dict[str, Any] = {"quarantined": count}
    if not count:
        return Verdict(True, "no line or file in quarantine", metadata)
    errors = Counter(quarantine["error"].to_pylist())
    metadata["errors"] = [{"error": e, "count": n} for e, n in errors.most_common(EXAMPLES)]
    metadata["examples"] = [
        {k: row[k] for k in ("file", "line", "error")}
        for row in quarantine.slice(0, EXAMPLES).to_pylist()
    ]
    return Verdict(False, f"{count} lines or files in quarantine", metadata)


def referenced_files_accounted(
    referenced: dict[str, str], loaded: set[str], quarantined: set[str]
) -> Verdict:
    """Every sequence file a label refers to ({path: "line N (attribute)"}) was read into
    `frames` or is in `quarantine`."""
    missing = {path: who for path, who in referenced.items() if path not in loaded | quarantined}
    metadata: dict[str, Any] = {
        "referenced_files": len(referenced),
        "loaded": len(loaded & set(referenced)),
        "quarantined": len(quarantined & set(referenced)),
    }
    if not missing:
        return Verdict(True, f"{len(referenced)} referenced files: loaded or quarantined", metadata)
    metadata["unaccounted"] = len(missing)
    metadata["examples"] = [
        {"file": path, "referred_to_by": who} for path, who in sorted(missing.items())[:EXAMPLES]
    ]
    description = f"{len(missing)} referenced files neither loaded nor quarantined"
    return Verdict(False, description, metadata)
