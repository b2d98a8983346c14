"""A SIGKILLed daemon leaves no worker process behind: its ingest process and its OCR
workers notice that their parent is gone and end (jingwang.lifeline)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PARENT = r'''
import asyncio, os, sys, time
from pathlib import Path
from detectors.ocr.pool import OcrPool
from jingwang.config import Settings
from jingwang.ingestion import IngestRecipe, ProcessIngest
from store.db import upgrade

tmp = Path(sys.argv[1])
url = f"sqlite:///{tmp / 'jw.db'}"
upgrade(url)
settings = Settings(database_url=url, evidence_dir=tmp / "evidence",
                    lexicon_dir=Path("keywords"))
ingest = ProcessIngest(IngestRecipe(settings, tmp / "jingwang.yaml", resilient=False), ["log"])
asyncio.run(ingest.start())
ocr = OcrPool(workers=1)
ocr.warm()
while not getattr(ocr._pool(), "_processes", None):
    time.sleep(0.05)
print(ingest.pid(), *ocr._pool()._processes, flush=True)
time.sleep(600)
'''


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (reaped by init soon).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        children = [int(pid) for pid in line.split()]
        assert len(children) == 2 and all(_alive(pid) for pid in children), line
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        if parent.stdout is not None:
            parent.stdout.close()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in children if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"orphaned worker processes: {left}"
