"""``jingwang sandbox`` serves the marketplace for the seed it is given."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from sandbox.data import generate
from tests.conftest import ROOT
from tests.servers import free_port


def test_sandbox_command_serves_the_seeded_catalogue() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jingwang.cli", "sandbox", "--port", str(port), "--seed", "11"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/_truth.json", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "jingwang sandbox did not start"
                time.sleep(0.1)
        assert response.json() == {"seed": 11, "listings": generate(11).truth()}
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # also closes the stderr pipe
