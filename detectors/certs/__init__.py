"""Certificate and qualification checks: key fields, identifiers, registry, licences."""

from __future__ import annotations

from pathlib import Path

from detectors.certs.analysis import SharedAnalyzer
from detectors.certs.credentials import IdentifierDetector, UnlicensedServiceDetector
from detectors.certs.fields import MissingFieldsDetector
from detectors.certs.registry import Registry
from jingwang.records import Detector


def build_cert_detectors(*, registry_path: Path | None = None) -> list[Detector]:
    """The certificate/identifier detectors, ready to add to the detector suite.

    ``registry_path``: None → the shipped registry with ``var/registry`` on top;
    a directory → its CSV files; a file → a certification-bodies CSV.
    """
    analyzer = SharedAnalyzer(Registry.load(registry_path))
    return [
        MissingFieldsDetector(analyzer),
        IdentifierDetector(analyzer),
        UnlicensedServiceDetector(analyzer),
    ]
