"""Content-addressed evidence files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from store import evidence as evidence_module
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


@pytest.mark.parametrize("unnamed", [True, False], ids=["unnamed-file", "temp-and-rename"])
def test_both_ways_of_writing_store_the_same_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unnamed: bool) -> None:
    """Linux links an unnamed file (O_TMPFILE); elsewhere a temp file is renamed. Both
    leave exactly the named, read-only file, and a second put of the same bytes is a
    no-op."""
    if unnamed and not evidence_module._TMPFILE:
        pytest.skip("no unnamed files on this system")
    monkeypatch.setattr(evidence_module, "_TMPFILE", unnamed)
    files = EvidenceStore(tmp_path / "ev")
    data = b"<html>" + bytes(range(256)) * 64 + b"</html>"
    for sync in (False, True):
        sha, path = files.put(data, sync=sync)
        assert path.read_bytes() == data and files.read(sha) == data
        assert not path.stat().st_mode & 0o222
        assert [p.name for p in path.parent.iterdir()] == [sha]


def test_an_unnamed_file_racing_a_stored_one_keeps_the_stored_one(tmp_path: Path) -> None:
    """Two writers of the same bytes: the one that links second finds the name taken,
    which is success (same name, same bytes)."""
    if not evidence_module._TMPFILE:
        pytest.skip("no unnamed files on this system")
    files = EvidenceStore(tmp_path / "ev")
    sha, path = files.put(b"same bytes")
    inode = path.stat().st_ino
    assert EvidenceStore._link_unnamed(path, b"same bytes", sync=False)
    assert path.stat().st_ino == inode
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
