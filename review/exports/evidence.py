"""The evidence package of one lead: a ZIP of its evidence files, ``manifest.json`` with
each file's SHA-256, and the capture record (电子数据提取笔录)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime
from typing import Any

from review.exports.record import PackedFile, capture_record_docx
from review.rendering import CHINA
from store.errors import EvidenceCorrupted
from store.evidence import EvidenceStore
from store.views import LeadView

RECORD_NAME = "电子数据提取笔录.docx"
MANIFEST_NAME = "manifest.json"
_EXTENSIONS = {"text/html": "html", "image/png": "png", "image/jpeg": "jpg",
               "image/webp": "webp", "application/json": "json"}


class EvidenceMissing(Exception):
    """An evidence file the database names is gone or damaged: no package without it."""


def _extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "bin")


def _entry(name: str, when: datetime) -> zipfile.ZipInfo:
    # A fixed time per package (not "now" per file) keeps the ZIP reproducible.
    local = when.astimezone(CHINA)
    info = zipfile.ZipInfo(name, date_time=(max(local.year, 1980), local.month, local.day,
                                            local.hour, local.minute, local.second))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o444 << 16
    return info


def evidence_package(lead: LeadView, files: EvidenceStore, *, exported_by: str,
                     exported_at: datetime, tool: str) -> bytes:
    """The ZIP bytes; raises EvidenceMissing if any file is absent or fails its hash."""
    packed: list[PackedFile] = []
    contents: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for item in lead.listings:
        folder = f"listings/listing-{item.id}-v{item.version_id or 0}"
        for evidence in item.evidence:
            path = f"{folder}/{evidence.kind}.{_extension(evidence.content_type)}"
            if path in seen:
                continue
            seen.add(path)
            try:
                data = files.read(evidence.sha256)
            except (FileNotFoundError, EvidenceCorrupted) as exc:
                raise EvidenceMissing(f"evidence {evidence.sha256}: {exc}") from exc
            contents.append((path, data))
            packed.append(PackedFile(
                path=path, kind=str(evidence.kind), sha256=evidence.sha256, size=len(data),
                content_type=evidence.content_type, url=evidence.url,
                final_url=evidence.final_url, fetched_at=evidence.fetched_at,
                tool=evidence.tool, listing_id=item.listing_id))
    record = capture_record_docx(lead, packed, exported_by=exported_by,
                                 exported_at=exported_at)
    manifest: dict[str, Any] = {
        "lead_id": lead.id,
        "platform": lead.platform,
        "shop": lead.shop_name,
        "credit_code": lead.credit_code,
        "exported_at": exported_at.isoformat(),
        "exported_by": exported_by,
        "tool": tool,
        "hash_algorithm": "SHA-256",
        "files": [{
            "path": f.path, "kind": f.kind, "sha256": f.sha256, "size": f.size,
            "content_type": f.content_type, "url": f.url, "final_url": f.final_url,
            "fetched_at": f.fetched_at.isoformat(), "tool": f.tool,
            "listing_id": f.listing_id} for f in packed],
        "record": {"path": RECORD_NAME, "sha256": hashlib.sha256(record).hexdigest(),
                   "size": len(record)},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path, data in contents:
            archive.writestr(_entry(path, exported_at), data)
        archive.writestr(_entry(RECORD_NAME, exported_at), record)
        archive.writestr(_entry(MANIFEST_NAME, exported_at),
                         json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    return out.getvalue()
