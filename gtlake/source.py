"""Source listing: the job directories under SOURCE, the files of each, and their fingerprints.

The whole prefix is listed once (one paginated, recursive listing on S3: `ListObjectsV2` pages of
1,000 keys, no per-object round trips; sizes, ETags and modification times come from the listing)
and grouped by job directory. Every direct subdirectory of SOURCE is a job directory, except names
starting with `.` or `_`; SOURCE itself is the only job when it holds `manifests/`. Zero-byte
"directory marker" keys (ending in `/`, written by some S3 consoles and tools) are not files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gtlake.errors import SourceError
from gtlake.storage import Location, find, store_errors

OUTPUT_MANIFEST = "manifests/output/output.manifest"
_INTERMEDIATE = re.compile(r"^manifests/intermediate/(\d+)/output\.manifest$")

_CONSOLIDATED = "annotations/consolidated-annotation/"
_KINDS = (
    (re.compile(r"^manifests/output/output\.manifest$"), "output-manifest"),
    (_INTERMEDIATE, "intermediate-manifest"),
    (re.compile(r"^annotations/worker-response/"), "worker-response"),
    (re.compile(rf"^{_CONSOLIDATED}consolidation-request/"), "consolidation-request"),
    (re.compile(rf"^{_CONSOLIDATED}consolidation-response/"), "consolidation-response"),
    (re.compile(rf"^{_CONSOLIDATED}output/"), "consolidated-output"),
    (re.compile(r"^annotations/intermediate/"), "annotation-intermediate"),
    (re.compile(r"^activelearning/"), "activelearning"),
    (re.compile(r"^inference/"), "inference"),
    (re.compile(r"^training/"), "training"),
    (re.compile(r"^annotation-tool/"), "annotation-tool"),
    (re.compile(r"^temp/"), "temp"),
)  # fmt: skip


def file_kind(relpath: str) -> str:
    """What a file under a job directory is (the `files.kind` column)."""
    for pattern, kind in _KINDS:
        if pattern.search(relpath):
            return kind
    return "other"


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str  # relative to the job directory, `/`-separated
    size: int
    etag: str | None
    last_modified: datetime | None
    # What changes whenever the file's bytes may have: the ETag on S3; locally the modification
    # and change times and the inode (an edit that keeps the size and resets the modification
    # time with `utime` still moves the change time, which no call can set back).
    version: str = ""

    @property
    def kind(self) -> str:
        return file_kind(self.path)


@dataclass
class JobDir:
    name: str
    path: str  # the job directory as the filesystem names it
    files: list[SourceFile] = field(default_factory=list)

    def manifest(self) -> tuple[SourceFile | None, str]:
        """The manifest to ingest and the job's status.

        The final output manifest once it exists (`complete`); before that, the newest
        intermediate manifest (`in-progress`), or none.
        """
        newest: tuple[int, SourceFile] | None = None
        for f in self.files:
            if f.path == OUTPUT_MANIFEST:
                return f, "complete"
            match = _INTERMEDIATE.match(f.path)
            if match and (newest is None or int(match.group(1)) > newest[0]):
                newest = (int(match.group(1)), f)
        return (newest[1] if newest else None), "in-progress"

    def intermediate(self) -> list[tuple[int, SourceFile]]:
        """Every `manifests/intermediate/<n>/output.manifest`, by iteration number."""
        found = []
        for f in self.files:
            match = _INTERMEDIATE.match(f.path)
            if match:
                found.append((int(match.group(1)), f))
        return sorted(found, key=lambda pair: pair[0])

    def fingerprint(self) -> str:
        """A digest of every file's path, size and version (the ETag on S3; locally the
        modification time, change time and inode)."""
        digest = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.path):
            stamp = f.version or f.etag or (f.last_modified.isoformat() if f.last_modified else "")
            digest.update(f"{f.path}\0{f.size}\0{stamp}\n".encode())
        return digest.hexdigest()[:32]


def list_jobs(
    location: Location, names: list[str] | None = None, known: Sequence[str] = ()
) -> list[JobDir]:
    """The job directories under `location`, sorted by name, each with its files.

    `known`: job names seen before (a lake's jobs), where an S3 listing may be split to run
    concurrently (`storage.find`)."""
    fs = location.fs()
    root = location.root
    try:
        with store_errors():
            # On S3 the listing shows whether the root is a folder: no request of its own.
            if not location.is_s3 and not fs.isdir(root):
                raise SourceError(f"source {location.url} does not exist or is not a directory")
            listing = find(location, known)
            if location.is_s3 and not _folder(listing, root) and not fs.isdir(root):
                raise SourceError(f"source {location.url} does not exist or is not a directory")
    except SourceError:
        raise
    except FileNotFoundError as exc:
        raise SourceError(f"source {location.url} does not exist") from exc
    except PermissionError as exc:
        raise SourceError(f"source {location.url} cannot be read: permission denied") from exc
    except OSError as exc:
        raise SourceError(f"source {location.url} cannot be listed: {exc}") from None

    cut = len(root) + 1
    single = any(p.startswith("manifests/", cut) for p in listing)
    single_name = root.rsplit("/", 1)[-1]
    jobs: dict[str, JobDir] = {single_name: JobDir(single_name, root)} if single else {}
    for path, info in listing.items():
        rel = path[cut:]
        if not rel:
            continue
        if single:
            name, inner = single_name, rel
        else:
            name, _, inner = rel.partition("/")
            if name not in jobs:
                if name.startswith((".", "_")):
                    continue
                jobs[name] = JobDir(name, f"{root}/{name}")
        if inner and info.get("type") == "file" and not inner.endswith("/"):
            jobs[name].files.append(_source_file(inner, info))
    selected = sorted(jobs.values(), key=lambda j: j.name)
    if names:
        missing = sorted(set(names) - {j.name for j in selected})
        if missing:
            raise SourceError(f"no job directory named {', '.join(missing)} under {location.url}")
        selected = [j for j in selected if j.name in set(names)]
    return selected


def _folder(listing: dict[str, dict], root: str) -> bool:
    """Whether an S3 listing shows `root` as a folder (an object under it)."""
    return any(name.startswith(root + "/") for name in listing)


def _source_file(relpath: str, info: dict) -> SourceFile:
    """A listing entry (s3fs: `ETag` quoted, `LastModified` aware; local: `mtime` and `created`
    (the change time, `st_ctime`) in seconds, and `ino`)."""
    etag = info.get("ETag") or info.get("etag")
    modified = info.get("LastModified") or info.get("mtime") or info.get("last_modified")
    if isinstance(modified, (int, float)):
        modified = datetime.fromtimestamp(modified, UTC)
    elif isinstance(modified, datetime):
        modified = (
            modified.replace(tzinfo=UTC) if modified.tzinfo is None else modified.astimezone(UTC)
        )
    else:
        modified = None
    etag = etag.strip('"') if etag else None
    if etag:
        version = etag
    elif "ino" in info:  # a local file (fsspec's LocalFileSystem reports the stat fields)
        version = f"{info.get('mtime')!r}:{info.get('created')!r}:{info['ino']}"
    else:
        version = ""
    return SourceFile(relpath, int(info.get("size") or 0), etag, modified, version)
