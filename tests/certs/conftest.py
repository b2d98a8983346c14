"""Fixtures of the certificate tests: the shipped registry and detectors built on it."""

from __future__ import annotations

import pytest

from detectors.certs import build_cert_detectors
from detectors.certs.registry import Registry
from jingwang.records import Detector
from tests.certs.helpers import SHIPPED_REGISTRY


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load(SHIPPED_REGISTRY)


@pytest.fixture(scope="session")
def detectors() -> list[Detector]:
    # The shipped registry only, so rows imported into var/ on this machine do not leak in.
    return build_cert_detectors(registry_path=SHIPPED_REGISTRY)
