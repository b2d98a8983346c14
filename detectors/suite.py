"""The detector suite the daemon and the CLI use: lexicon rules plus certificate checks.

One suite holds the compiled lexicon and swaps it atomically when the files
under ``keywords/`` change (``reload_if_changed``); a broken edit keeps the
old lexicon and logs the error with its file and line.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from detectors.automaton import CompiledLexicon, compile_lexicon
from detectors.certs import build_cert_detectors
from detectors.engine import LexiconDetector
from detectors.lexicon import load_lexicon, snapshot
from jingwang.errors import ConfigError
from jingwang.records import Detector, Finding, Listing

log = logging.getLogger(__name__)
PACKAGE_KEYWORDS = Path(__file__).resolve().parent.parent / "keywords"
# Lexicon rules that mean the listing trades ready-made certificates or reports.
# The spec: such a listing is fake_certificate alone unless it also offers a
# service, so its certificate talk is not a product's claim with missing fields.
TRADE_RULES = frozenset({"fc.trade_documents", "fc.ready_made", "fc.alterable"})


def default_lexicon_dir(lexicon_dir: Path = Path("keywords")) -> Path:
    """``keywords/`` of the working directory, else the one shipped beside the package."""
    if lexicon_dir.is_dir() or lexicon_dir != Path("keywords"):
        return lexicon_dir
    return PACKAGE_KEYWORDS


class DetectorSuite:
    """Every detector over one listing: sorted, de-duplicated findings."""

    def __init__(self, lexicon_dir: Path, compiled: CompiledLexicon,
                 others: list[Detector]) -> None:
        self.lexicon_dir = lexicon_dir
        self._lexicon = LexiconDetector(compiled)
        self._others = others
        self._snapshot = snapshot(lexicon_dir)
        self._failed: tuple[object, ...] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_paths(cls, *, lexicon_dir: Path = Path("keywords"),
                   registry_path: Path | None = None) -> DetectorSuite:
        """Load the lexicon (ConfigError if it is invalid) and the certificate detectors."""
        lexicon_dir = default_lexicon_dir(Path(lexicon_dir))
        compiled = compile_lexicon(load_lexicon(lexicon_dir))
        return cls(lexicon_dir, compiled, build_cert_detectors(registry_path=registry_path))

    @property
    def version(self) -> str:
        """Version hash of the lexicon in use."""
        return self._lexicon.version

    @property
    def compiled(self) -> CompiledLexicon:
        return self._lexicon.engine.compiled

    @property
    def detectors(self) -> list[Detector]:
        return [self._lexicon, *self._others]

    def detect(self, listing: Listing) -> list[Finding]:
        lexicon = self._lexicon  # one read: a reload may swap it meanwhile
        findings = lexicon.detect(listing)
        for detector in self._others:
            findings.extend(detector.detect(listing))
        findings = combine(findings)
        seen: set[tuple[str, str, str, int, int]] = set()
        out = []
        for f in sorted(findings, key=_order):
            key = (f.rule, f.category, f.field, f.start, f.end)
            if key not in seen:
                seen.add(key)
                out.append(f)
        return out

    @staticmethod
    def categories(findings: list[Finding]) -> list[str]:
        return sorted({f.category for f in findings})

    def reload_if_changed(self) -> bool:
        """Reload the lexicon if its files changed; True when a new version is in use."""
        current = snapshot(self.lexicon_dir)
        if current == self._snapshot or current == self._failed:
            return False
        with self._lock:
            try:
                compiled = compile_lexicon(load_lexicon(self.lexicon_dir))
            except ConfigError as exc:
                self._failed = current
                log.error("lexicon reload failed, keeping version %s: %s", self.version, exc)
                return False
            self._snapshot = current
            self._failed = None
            if compiled.lexicon.version == self.version:
                return False
            self._lexicon = LexiconDetector(compiled)
            log.info("lexicon reloaded: version %s (%d rules)", self.version,
                     len(compiled.rules))
            return True


def combine(findings: list[Finding]) -> list[Finding]:
    """Apply the spec's rules for how categories combine across detectors."""
    trades = any(f.rule in TRADE_RULES for f in findings)
    offers = any(f.category == "unlicensed_service" for f in findings)
    if trades and not offers:
        return [f for f in findings if f.category != "missing_cert_fields"]
    return findings


def _field_rank(name: str) -> tuple[int, int]:
    order = {"title": 0, "description": 1, "seller.name": 2, "seller.license_text": 3}
    if name in order:
        return order[name], 0
    if name.startswith("image:") and name[6:].isdigit():
        return 4, int(name[6:])
    return 5, 0


def _order(f: Finding) -> tuple[tuple[int, int], str, int, int, str]:
    return _field_rank(f.field), f.field, f.start, f.end, f.rule
