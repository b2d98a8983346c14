"""Content-addressed evidence files: ``root/ab/cd/<sha256>``, written atomically, never changed."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from store.errors import EvidenceCorrupted

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class EvidenceStore:
    """Files named by the SHA-256 of their bytes, so storing is idempotent and a file's
    name proves its content (chain of custody)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes) -> tuple[str, Path]:
        """Store ``data``; return its SHA-256 and path. Storing the same bytes again is a no-op."""
        sha256 = hashlib.sha256(data).hexdigest()
        final = self.path(sha256)
        if final.is_file():
            return sha256, final
        final.parent.mkdir(parents=True, exist_ok=True)
        # Temp file in the same folder so os.replace is an atomic rename: readers see
        # the whole file or none, and two writers of the same bytes both succeed.
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.chmod(tmp_name, 0o444)
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return sha256, final

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
