"""OCR results by the SHA-256 of the image bytes, as small JSON files, so no image is read twice.

Files live under ``root/<engine key>/ab/cd/<sha256>.json`` (beside the
evidence files, ``<evidence_dir>/ocr``). A file cache rather than a table:
a text is a pure function of the bytes and the engine, needs no schema or
migration, is written atomically without taking the store's write lock, and a
new engine key simply starts an empty folder. Refusals (not an image, bomb,
truncated) are cached too: the same bytes are refused the same way.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


@dataclass(frozen=True, slots=True)
class CachedText:
    """One cached result: ``text`` (None when refused) and how it was obtained."""

    sha256: str
    text: str | None
    reason: str | None = None
    message: str = ""
    width: int = 0
    height: int = 0
    size: int = 0
    seconds: float = 0.0


class OcrCache:
    """Read and write cached results for one engine key."""

    def __init__(self, root: Path, engine_key: str) -> None:
        if not _KEY.match(engine_key):
            raise ValueError(f"unusable engine key for a folder name: {engine_key!r}")
        self.root = Path(root) / engine_key

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256[:80]!r}")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.json"

    def get(self, sha256: str) -> CachedText | None:
        try:
            data = json.loads(self.path(sha256).read_text(encoding="utf-8"))
            entry = CachedText(**data)
        except (OSError, ValueError, TypeError):
            return None  # absent, or a damaged file: read the image again
        return entry if entry.sha256 == sha256 else None

    def put(self, entry: CachedText) -> None:
        final = self.path(entry.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        # Same-folder temp file + rename: readers see a whole file or none.
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                json.dump(asdict(entry), tmp, ensure_ascii=False)
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
