"""Content-addressed evidence files: ``root/ab/cd/<sha256>``, written atomically, never changed."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from store.errors import EvidenceCorrupted

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2): flush one filesystem in a single call (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return cast("Callable[[int], int]", ctypes.CDLL(None, use_errno=True).syncfs)
    except (OSError, AttributeError):
        return None


_SYNCFS = _syncfs()
SYNCFS_FROM = 4  # files; fewer are fsynced one by one
# Unnamed files (open with O_TMPFILE, then link) exist on Linux.
_TMPFILE = sys.platform.startswith("linux") and hasattr(os, "O_TMPFILE")


class EvidenceStore:
    """Files named by the SHA-256 of their bytes, so storing is idempotent and a file's
    name proves its content (chain of custody)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._folders: set[Path] = set()  # folders known to exist

    def put(self, data: bytes, *, sync: bool = True) -> tuple[str, Path]:
        """Store ``data``; return its SHA-256 and path. Storing the same bytes again is a no-op.

        With ``sync=False`` the file is not yet durable: pass its path to :meth:`sync`
        before anything that names it is committed (a batch syncs once, not per file).
        """
        sha256 = hashlib.sha256(data).hexdigest()
        final = self.path(sha256)
        if final.is_file():
            return sha256, final
        if final.parent not in self._folders:
            final.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(final.parent)
        if not (_TMPFILE and self._link_unnamed(final, data, sync=sync)):
            self._rename_temp(final, data, sync=sync)
        return sha256, final

    @staticmethod
    def _link_unnamed(final: Path, data: bytes, *, sync: bool) -> bool:
        """Linux: write an unnamed file in the folder (O_TMPFILE) and give it its name once
        complete, so readers see the whole file or none; False where the filesystem has no
        unnamed files. One folder entry per file, and no temp file to clean up."""
        try:
            fd = os.open(final.parent, os.O_TMPFILE | os.O_WRONLY, 0o444)
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                return False
            raise
        try:
            with os.fdopen(fd, "wb", closefd=False) as unnamed:
                unnamed.write(data)
                unnamed.flush()
                if sync:
                    os.fsync(fd)
            folder = os.open(final.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N: Python's os.link uses it
                # when given a folder descriptor.
                os.link(f"/proc/self/fd/{fd}", final.name, dst_dir_fd=folder)
            except FileExistsError:
                pass  # a concurrent writer stored the same bytes
            finally:
                os.close(folder)
        finally:
            os.close(fd)
        return True

    @staticmethod
    def _rename_temp(final: Path, data: bytes, *, sync: bool) -> None:
        """Elsewhere: a temp file in the same folder, renamed atomically when complete
        (two writers of the same bytes both succeed)."""
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                if sync:
                    os.fsync(tmp.fileno())
            os.chmod(tmp_name, 0o444)
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def sync(self, paths: Sequence[Path]) -> None:
        """Make files written with ``put(sync=False)`` durable, with their folder entries:
        one syncfs of the evidence filesystem on Linux, else an fsync of each file."""
        if not paths:
            return
        if _SYNCFS is not None and len(paths) >= SYNCFS_FROM:
            fd = os.open(self.root, os.O_RDONLY)
            try:
                if _SYNCFS(fd) != 0:
                    code = ctypes.get_errno()
                    raise OSError(code, f"syncfs {self.root}: {os.strerror(code)}")
            finally:
                os.close(fd)
            return
        for path in paths:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def relative_path(self, sha256: str) -> str:
        """The path under the root, as stored in the evidence table."""
        if not _SHA256.match(sha256):
            # Names may come from a URL: refuse anything that is not a plain digest.
            raise ValueError(f"not a SHA-256 hex digest: {sha256[:80]!r}")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path(self, sha256: str) -> Path:
        return self.root / self.relative_path(sha256)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        """The file's bytes, checked against its name; FileNotFoundError when absent."""
        data = self.path(sha256).read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise EvidenceCorrupted(f"evidence {sha256} hashes to {actual}")
        return data
