"""Benchmark of reading listing pictures: OCR seconds per image, pool throughput, cache hits.

Run: ``python3 -m uv run --frozen python -m bench.ocr [--workers N] [--hits N]`` (as a
module, so this folder is not first on ``sys.path``: its ``queue.py`` would shadow the
standard library the process pool needs).
Pictures are the sandbox's own (seed 20231117): its certificate and report
pages (about 1000×700 pixels, 4–7 lines of text) and its flat product photos
(240×240, no text). Figures:

- one engine in this process, one thread: seconds per picture (decode + OCR);
- the process pool, all pictures at once: wall seconds per picture (workers
  started beforehand; start-up measured separately);
- the cache hit path: what a picture read before costs (type sniffing,
  SHA-256, one small JSON file), per picture.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from detectors.ocr import ImageReader, OcrCache, OcrPool
from detectors.ocr.engine import OcrEngine
from detectors.ocr.images import ImageLimits, decode
from sandbox.certificates import DocumentImage
from sandbox.data import generate
from sandbox.images import draw_png

SEED = 20231117


def pictures() -> tuple[list[bytes], list[bytes]]:
    catalog = generate(SEED)
    documents = [draw_png(s) for s in catalog.images.values() if isinstance(s, DocumentImage)]
    photos = [draw_png(s) for s in list(catalog.images.values())[:40]
              if not isinstance(s, DocumentImage)]
    return documents, photos


def in_process(images: list[bytes], engine: OcrEngine) -> list[float]:
    limits = ImageLimits()
    times = []
    for data in images:
        started = time.perf_counter()
        engine.read(decode(data, limits))
        times.append(time.perf_counter() - started)
    return times


async def pooled(images: list[bytes], workers: int) -> tuple[float, float]:
    """(start-up seconds, wall seconds for all images) through a fresh pool and no cache."""
    pool = OcrPool(workers=workers)
    try:
        started = time.perf_counter()
        # One tiny job per worker so every worker has loaded its models.
        await asyncio.gather(*(pool.read(images[0]) for _ in range(workers)))
        startup = time.perf_counter() - started
        reader = ImageReader(pool, None)
        started = time.perf_counter()
        await asyncio.gather(*(reader.read_bytes(data) for data in images))
        return startup, time.perf_counter() - started
    finally:
        pool.close()


async def cache_hits(images: list[bytes], rounds: int) -> tuple[float, int]:
    """Seconds per cached read, and OCR runs during the timed rounds (must be 0)."""
    pool = OcrPool(workers=1)
    try:
        with tempfile.TemporaryDirectory() as folder:
            reader = ImageReader(pool, OcrCache(Path(folder), pool.key))
            for data in images:  # fill the cache
                await reader.read_bytes(data)
            runs = pool.ocr_runs
            started = time.perf_counter()
            for _ in range(rounds):
                for data in images:
                    result = await reader.read_bytes(data)
                    assert result.status == "cached", result
            elapsed = time.perf_counter() - started
            return elapsed / (rounds * len(images)), pool.ocr_runs - runs
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hits", type=int, default=20, help="rounds over the cached pictures")
    args = parser.parse_args()
    documents, photos = pictures()
    print(f"{len(documents)} document pictures "
          f"({statistics.mean(len(d) for d in documents) / 1024:.0f} KiB on average), "
          f"{len(photos)} product photos")

    started = time.perf_counter()
    engine = OcrEngine()
    print(f"engine load: {time.perf_counter() - started:.2f} s")
    in_process(documents[:1], engine)  # warm-up
    docs = in_process(documents, engine)
    shots = in_process(photos, engine)
    print(f"in process, 1 thread — documents: mean {statistics.mean(docs):.2f} s/picture "
          f"(median {statistics.median(docs):.2f}, max {max(docs):.2f}); "
          f"photos: mean {statistics.mean(shots) * 1000:.0f} ms/picture")

    startup, wall = asyncio.run(pooled(documents, args.workers))
    print(f"pool of {args.workers}: start-up {startup:.2f} s; documents "
          f"{wall / len(documents):.2f} s/picture wall ({wall:.1f} s for {len(documents)})")

    per_hit, runs = asyncio.run(cache_hits(documents + photos, args.hits))
    print(f"cache hit: {per_hit * 1000:.2f} ms/picture over "
          f"{args.hits * (len(documents) + len(photos))} reads; OCR runs while timed: {runs}")


if __name__ == "__main__":
    main()
