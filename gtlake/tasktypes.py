"""Task type names and the checks of label values.

Which keys are labels (`is_groundtruth_type`), their type names (`normalize_type`) and the
checks every reader of a label value uses (`number`, `class_index`, `integer`, ...): a value that
breaks the documented shape raises :class:`LineError`, whose text names the field and says what
it is and what was expected. The task types themselves are declared in `gtlake.flatten.spec`.
"""

from __future__ import annotations

import json
import re
from math import inf
from typing import Any

import msgspec

from gtlake.errors import LineError

_INT64 = range(-(2**63), 2**63)  # what an Arrow int64 column holds
_DIGITS = re.compile(r"\s*-?[0-9]+\s*")  # ASCII digits only: `"²".isdigit()` is true


def normalize_type(raw: object) -> str:
    """`groundtruth/object_detection` -> `object-detection`; `groundTruth/custom` -> `custom`."""
    text = str(raw).strip()
    if text[:12].lower() == "groundtruth/":
        text = text[12:]
    return text.replace("_", "-").lower()


def is_groundtruth_type(raw: object) -> bool:
    return isinstance(raw, str) and raw[:12].lower() == "groundtruth/"


# -- value checks -----------------------------------------------------------------------------


def number(value: object, what: str) -> float | None:
    """A confidence or coordinate: int or float (not bool, not a string) that a float64 holds
    (`1e999` is valid JSON, but stored it would read back as infinity); None stays None."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            result = float(value)
        except OverflowError:  # an integer beyond float64's range
            result = inf
        if result in _INFINITE:
            raise LineError(f"{what} is beyond the range of a float64 ({_show(value)})")
        return result
    raise LineError(f"{what} is {_kind(value)} {_show(value)}, expected a number")


def class_index(value: object, what: str) -> int:
    """A class index: `0` or `"0"` (both seen in real files)."""
    if isinstance(value, int) and not isinstance(value, bool) and value in _INT64:
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value) and int(value) in _INT64:
        return int(value)
    raise LineError(f"{what} is {_kind(value)} {_show(value)}, expected a class index")


def integer(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value in _INT64:
        return value
    if isinstance(value, float) and value.is_integer() and int(value) in _INT64:
        return int(value)
    raise LineError(f"{what} is {_kind(value)} {_show(value)}, expected an integer")


def _kind(value: object) -> str:
    return {
        str: "a string",
        bool: "a boolean",
        list: "a list",
        dict: "an object",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def as_list(value: object, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise LineError(f"{what} is {_kind(value)}, expected a list")
    return value


def as_dict(value: object, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LineError(f"{what} is {_kind(value)}, expected an object")
    return value


_INFINITE = (inf, -inf)  # what the standard library reads `1e999` as


def paired_confidences(meta: dict, key: str, count: int, what: str) -> tuple[list, str | None]:
    """Per-item confidences paired by position; a count mismatch is reported, never guessed."""
    objects = meta.get(key)
    if objects is None:
        if count == 0:
            return [], None
        return [None] * count, f"{count} {what} but no {key}[] confidences; confidences left null"
    try:
        found = [o.get("confidence") for o in objects]
    except (AttributeError, TypeError):  # not a list of objects: say exactly what is wrong
        items = as_list(objects, key)
        found = [as_dict(o, f"{key}[{i}]").get("confidence") for i, o in enumerate(items)]
    for i, conf in enumerate(found):
        if type(conf) is not float or conf in _INFINITE:  # an int becomes a float64 here
            found[i] = number(conf, f"{key}[{i}].confidence")
    if len(found) != count:
        warning = f"{count} {what} but {len(found)} {key}[] confidences; confidences left null"
        return [None] * count, warning
    return found, None


# -- decoding ---------------------------------------------------------------------------------

_GENERIC = msgspec.json.Decoder()


def decode_raw(raw: msgspec.Raw) -> Any:
    """A Raw span as Python values. msgspec refuses numbers the JSON grammar allows (`1e400`);
    those are read as the standard library reads them (`inf`), never an exception."""
    try:
        return _GENERIC.decode(raw)
    except msgspec.ValidationError:
        return json.loads(bytes(raw))
