"""Storage: reading many local files at once gives what fsspec's `cat_ranges` gives."""

from __future__ import annotations

import os
from pathlib import Path

from fsspec.implementations.local import LocalFileSystem

from gtlake.storage import fetch_all


def test_local_fetch_all_is_fsspecs_cat_ranges(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b'{"a": 1}')
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "dir").mkdir()
    locked = tmp_path / "locked.json"
    locked.write_bytes(b"{}")
    locked.chmod(0)
    names = ["a.json", "missing.json", "dir", "empty.json", "locked.json", "a.json"]
    paths = [str(tmp_path / name) for name in names]
    fs = LocalFileSystem()
    expected = fs.cat_ranges(paths, [0] * len(paths), [None] * len(paths), on_error="return")
    got = fetch_all(fs, paths)
    shown = [(type(x).__name__, str(x) if isinstance(x, Exception) else x) for x in got]
    assert shown == [(type(x).__name__, str(x) if isinstance(x, Exception) else x)
                     for x in expected]  # fmt: skip
    assert shown[0] == ("bytes", b'{"a": 1}')
    assert shown[1][0] == "FileNotFoundError"
    assert shown[2][0] == "IsADirectoryError"
    if os.geteuid() != 0:  # root reads a file whatever its mode
        assert shown[4][0] == "PermissionError"
