"""Benchmark of the certificate checks (key fields, identifiers, licences) in listings per second.

Run: ``python3 -m uv run --frozen python bench/certs.py [--listings N] [--eval FILE.jsonl]``.
Listings are synthetic (fixed seed) and mix the shapes the checks meet: products with
complete or partial certificates, services with and without credentials, registry
bodies, labs, valid and broken credit codes, full-width and traditional text.
``--eval`` also prints precision and recall of the three categories on a labelled file.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from detectors.certs import build_cert_detectors
from detectors.certs.identifiers import CREDIT_ALPHABET, CREDIT_WEIGHTS
from detectors.certs.registry import Registry
from jingwang.records import Listing

PRODUCTS = ["电热水壶", "移动电源", "儿童积木", "保温杯", "电吹风", "面霜", "插线板", "蓝牙耳机"]
FILLER = ("产品采用优质材料，做工精细，经久耐用，适合家庭与办公使用，支持七天无理由退换，"
          "全国包邮，快速发货，售后无忧。")


def credit_code(rng: random.Random, *, valid: bool) -> str:
    body = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "MA" + "".join(
        rng.choice(CREDIT_ALPHABET) for _ in range(7))
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    check = CREDIT_ALPHABET[(31 - total % 31) % 31]
    if not valid:
        check = CREDIT_ALPHABET[(CREDIT_ALPHABET.index(check) + 1) % 31]
    return body + check


def synthetic(rng: random.Random, index: int, registry: Registry) -> Listing:
    product = rng.choice(PRODUCTS)
    body = rng.choice(list(registry.bodies.values()))
    shape = index % 6
    seller = f"某某{product}专营店"
    license_text = None
    if shape == 0:
        title = f"{product} 3C认证 型号X-{index}"
        desc = (f"CCC证书编号：20220109{index:08d}，发证机构：中国质量认证中心，"
                f"发证日期：2022-04-10，产品名称：{product}，型号：X-{index}。{FILLER}")
    elif shape == 1:
        title = f"{product} 质检报告齐全"
        desc = f"已通过国家检测，質檢報告齊全，放心购买。{FILLER}"
    elif shape == 2:
        title = "ISO9001认证代办 当 天·出/证 包过"
        desc = f"体系认证代办，免审核，资料简单，全国可做。{FILLER}"
    elif shape == 3:
        seller = body.name
        title = f"{body.name} ISO14001认证 现场审核"
        desc = f"{body.name}，认证机构批准书编号{body.key}，审核周期约一个月。{FILLER}"
        license_text = f"认证机构批准书编号：{body.key}；统一社会信用代码：{body.credit_code}"
    elif shape == 4:
        seller = "合肥某某检测技术有限公司"
        title = "CMA检测报告 寄样检测"
        desc = f"资质认定证书编号：2212120503{index % 100:02d}，需寄样，周期10个工作日。{FILLER}"
    else:
        seller = "合肥某咨询有限公司"
        title = f"ISO9001认证 批准号ＣＮＣＡ－Ｒ－{body.key[7:]}"
        desc = f"统一社会信用代码：{credit_code(rng, valid=False)}。{FILLER}"
    data = {"id": f"b-{index}", "platform": "taobao", "title": title, "description": desc,
            "seller": {"name": seller, "license_text": license_text,
                       "credit_code": credit_code(rng, valid=rng.random() > 0.2)}}
    return Listing.from_dict(data)


def evaluate(path: Path) -> None:
    detectors = build_cert_detectors()
    categories = ("missing_cert_fields", "unlicensed_service", "identifier_invalid")
    counts = {c: [0, 0, 0] for c in categories}  # tp, fp, fn
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        listing = Listing.from_dict(data)
        got = {f.category for d in detectors for f in d.detect(listing)}
        for category in categories:
            hit, want = category in got, category in data["labels"]
            if hit or want:
                counts[category][0 if hit and want else 1 if hit else 2] += 1
    for category, (tp, fp, fn) in counts.items():
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        print(f"{category:22s} precision {precision:.3f}  recall {recall:.3f}  "
              f"(tp {tp}, fp {fp}, fn {fn})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--listings", type=int, default=6000)
    parser.add_argument("--eval", type=Path, help="labelled JSONL (shared/eval schema)")
    args = parser.parse_args()
    detectors = build_cert_detectors()
    registry = Registry.load()
    rng = random.Random(20231117)
    listings = [synthetic(rng, i, registry) for i in range(args.listings)]
    for listing in listings[:50]:  # warm caches (OpenCC, regexes) before timing
        for detector in detectors:
            detector.detect(listing)
    start = time.perf_counter()
    findings = 0
    for listing in listings:
        for detector in detectors:
            findings += len(detector.detect(listing))
    elapsed = time.perf_counter() - start
    print(f"{len(listings)} listings, {findings} findings in {elapsed:.2f}s: "
          f"{len(listings) / elapsed:,.0f} listings/s (field + identifier + licence checks)")
    if args.eval:
        evaluate(args.eval)


if __name__ == "__main__":
    main()
