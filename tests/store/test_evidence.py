"""Content-addressed evidence files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from store.errors import EvidenceCorrupted
from store.evidence import EvidenceStore


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    files = EvidenceStore(tmp_path / "ev")
    data = "<html>当天出证</html>".encode()
    sha, path = files.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert path == tmp_path / "ev" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == data
    mtime = path.stat().st_mtime_ns
    assert files.put(data) == (sha, path)
    assert path.stat().st_mtime_ns == mtime
    assert files.read(sha) == data
    assert files.exists(sha)
    # No temp files are left behind.
    assert [p.name for p in path.parent.iterdir()] == [sha]


def test_files_are_read_only(tmp_path: Path) -> None:
    _, path = EvidenceStore(tmp_path).put(b"x")
    assert not os.stat(path).st_mode & 0o222


@pytest.mark.parametrize("name", ["../../etc/passwd", "ABC", "a" * 63, "g" * 64, ""])
def test_names_that_are_not_digests_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        EvidenceStore(tmp_path).path(name)


def test_read_detects_tampering(tmp_path: Path) -> None:
    files = EvidenceStore(tmp_path)
    sha, path = files.put(b"original")
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    with pytest.raises(EvidenceCorrupted):
        files.read(sha)


def test_read_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        EvidenceStore(tmp_path).read("0" * 64)
