"""Whether a location holds a gtlake lake, said before anything reads it.

A lake holds one directory per table (`jobs/`, `objects/`, ...); a path with none of them is not
a lake, and a Ground Truth output tree (job directories holding `manifests/`) is named as such, so
`gtlake sql SOURCE` or `gtlake export SOURCE` never answers from an empty view.
"""

from __future__ import annotations

from gtlake.errors import LakeError, one_line
from gtlake.schemas import TABLES
from gtlake.storage import Location, store_errors


def require_lake(lake: Location) -> None:
    """Raise a `LakeError` naming the problem unless `lake` holds at least one lake table."""
    fs = lake.fs()
    try:
        with store_errors():
            if not fs.exists(lake.root):
                raise LakeError(f"lake {lake.url} does not exist")
            if not fs.isdir(lake.root):
                raise LakeError(f"lake {lake.url} is not a directory")
            names = {e.rstrip("/").rsplit("/", 1)[-1] for e in fs.ls(lake.root, detail=False)}
            if names & set(TABLES):
                return
            jobs = any(fs.exists(lake.join(name, "manifests")) for name in sorted(names)[:20])
    except LakeError:
        raise
    except OSError as exc:
        raise LakeError(f"cannot read lake {lake.url}: {one_line(str(exc))}") from None
    if jobs:
        raise LakeError(
            f"{lake.url} is not a gtlake lake: it holds Ground Truth job directories "
            f"(ingest them with: gtlake ingest {lake.url} --lake LAKE)"
        )
    raise LakeError(f"{lake.url} is not a gtlake lake: it holds no table directories (jobs, ...)")
