"""Writing a training set's files to a local directory or `s3://bucket/prefix`.

Every file goes through the lake's storage layer (fsspec; on S3 the same endpoint, retries and
credentials as the rest of gtlake). `dataset.json` is written last: it describes the set (format,
policy, counts) and lists its files, so the next export into the same place removes the files
the new set no longer has (an image that left the selection leaves no label file behind). A
location that holds other files and no `dataset.json` is refused rather than mixed into.
"""

from __future__ import annotations

import os

import orjson

from gtlake.datasets.selection import DatasetError
from gtlake.storage import Location

DESCRIPTION = "dataset.json"


def _previous_files(out: Location) -> list[str] | None:
    """The files the last export listed, [] for an empty or new location, None if foreign."""
    fs = out.fs()
    try:
        described = fs.cat_file(out.join(DESCRIPTION))
    except FileNotFoundError:
        try:
            entries = fs.ls(out.root, detail=False)
        except FileNotFoundError:
            return []
        return [] if not entries else None
    try:
        return list(orjson.loads(described).get("files", []))
    except (orjson.JSONDecodeError, AttributeError):
        return None


def _inside(path: object) -> bool:
    """A relative path that stays below the location (a hand-edited dataset.json cannot make
    the cleanup remove anything else)."""
    if not isinstance(path, str) or not path or path.startswith(("/", "\\")):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def write(out: Location, files: dict[str, bytes], description: dict) -> None:
    """Write `files` under `out`, then `dataset.json`; remove the last export's leftovers."""
    try:
        previous = _previous_files(out)
        if previous is None:
            raise DatasetError(
                f"--out {out.url} holds other files and no {DESCRIPTION}: "
                "choose an empty or new location"
            )
        fs = out.fs()
        if out.is_s3:
            fs.pipe({out.join(path): data for path, data in files.items()})
        else:
            os.makedirs(out.root, exist_ok=True)
            for path, data in files.items():
                target = out.join(path)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as stream:
                    stream.write(data)
        stale = sorted(p for p in set(previous) - set(files) - {DESCRIPTION} if _inside(p))
        if stale:
            fs.rm([out.join(path) for path in stale])
        fs.pipe_file(out.join(DESCRIPTION), orjson.dumps(description, option=orjson.OPT_INDENT_2))
    except OSError as exc:
        raise DatasetError(f"cannot write the training set to {out.url}: {exc}") from exc
