"""Benchmark of the detection engine: listings per second, memory and lexicon build time.

Generates N listings of about 300 characters from listing vocabulary (default
100,000; 5% carry a lexicon phrase, most of them disguised) and a 2,000-entry
lexicon (the shipped rules plus generated phrases), then reports in one run:

  (a) a naive loop of ``phrase in text`` over the lexicon's phrases,
  (b) raw pyahocorasick over text normalised beforehand, with the engine's keys
      — the practical limit of any matcher built on it,
  (c) the full engine (LexiconDetector: normalisation with offsets, syllables,
      context, evasions),

plus peak memory (max RSS) and the lexicon's load and compile time. Targets:
(c) ≥ 0.25 × (b) and (c) ≥ 2 × (a). The three are timed in interleaved chunks, so load from
other processes weighs on all alike; the median chunk ratio is reported as well.

    python3 -m uv run --frozen python bench/detect.py [--listings N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ahocorasick  # noqa: E402
import opencc  # noqa: E402
import yaml  # noqa: E402

from detectors.automaton import compile_lexicon  # noqa: E402
from detectors.engine import LexiconDetector  # noqa: E402
from detectors.lexicon import load_lexicon  # noqa: E402
from detectors.normalize import unit_text  # noqa: E402
from jingwang.records import Listing, Seller  # noqa: E402

# Filler is built from listing vocabulary (words, model numbers, quantities), as
# real listings are; random character soup would make random lexicon phrases
# appear by chance far more often than real lexicon phrases do.
_WORDS = (
    "新款 正品 包邮 现货 厂家直销 批发 大容量 家用 便携 加厚 防水 耐磨 静音 智能 多功能 "
    "不锈钢 食品级 儿童 男女同款 四季 纯棉 透气 舒适 简约 北欧 收纳 保温杯 电热水壶 充电器 "
    "数据线 蓝牙耳机 插线板 台灯 吹风机 面膜 精华液 洗面奶 口红 毛巾 拖鞋 背包 行李箱 雨伞 "
    "茶叶 大米 蜂蜜 坚果 牛肉干 饼干 奶粉 尿不湿 玩具 积木 拼图 文具 笔记本 打印纸 胶带 "
    "规格 型号 颜色 尺寸 重量 材质 产地 保质期 售后 退换 质保 一年 七天无理由 顺丰 快递 "
    "发货 到货 物流 客服 咨询 优惠 满减 拼单 秒杀 限时 直播间 下单 收藏 加购 好评 返现 "
    "认证 检测 报告 证书 体系 质量 管理 服务 企业 资质 办理 咨询 审核 现场 流程 周期 费用 "
    "高清 超薄 轻便 耐用 环保 无毒 健康 营养 美味 新鲜 手工 传统 工艺 精选 优质 进口 "
    "国产 原装 升级版 旗舰款 经典款 限量 礼盒装 家庭装 组合装 套装 单只 两件套 三件套 "
    "厨房 卧室 客厅 浴室 阳台 办公室 学生 宿舍 户外 运动 旅行 露营 钓鱼 登山 跑步 瑜伽 "
    "男士 女士 宝宝 婴儿 孕妇 老人 宠物 猫咪 狗狗 汽车 车载 电脑 手机 平板 键盘 鼠标 "
    "插座 灯泡 电池 开关 电线 水龙头 花洒 马桶 地毯 窗帘 床单 被套 枕头 床垫 沙发 桌子 "
    "椅子 柜子 衣架 挂钩 置物架 储物盒 垃圾袋 保鲜膜 纸巾 湿巾 洗衣液 洗洁精 牙膏 牙刷 "
    "洗发水 沐浴露 护手霜 防晒霜 香水 眼霜 粉底 睫毛膏 指甲油 发夹 项链 手链 耳环 手表 "
    "衬衫 卫衣 外套 羽绒服 牛仔裤 连衣裙 半身裙 袜子 内衣 睡衣 帽子 围巾 手套 运动鞋 "
    "可定制 支持定制 量大从优 欢迎咨询 放心购买 品质保证 售后无忧 假一赔十 破损包赔 "
    "一件代发 全国联保 当天发货 快速发货 次日达 顺丰包邮 偏远地区除外 拍下备注 "
    "颜色随机 以实物为准 尺码偏小 建议拍大一码 手工测量 存在误差 介意慎拍 请联系客服"
)
WORDS = _WORDS.split()
MODELS = ["A100", "X-20", "BW-500", "KS360", "PD20W", "GN65C", "SB-240", "HD1100", "TK22",
          "iPhone", "Type-C", "USB", "LED", "ISO9001", "CMA", "3C", "GB4806"]
UNITS = ["ml", "g", "kg", "cm", "mm", "米", "件", "只", "元", "W", "V", "mAh", "L"]
# Characters of the generated lexicon's phrases.
COMMON = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年"
          "动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高"
          "自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日"
          "那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只")
EVASIONS = ["plain", "separator", "invisible", "traditional", "width"]


def generated_entries(count: int, rng: random.Random, shipped: set[str]) -> list[dict[str, Any]]:
    """Entries of 1-3 literal phrases of 3-6 common characters each."""
    entries = []
    seen = set(shipped)
    categories = ["fake_certificate", "false_advertising", "national_prefix_misuse"]
    for i in range(count):
        phrases: list[str] = []
        while len(phrases) < rng.randint(1, 3):
            phrase = "".join(rng.choice(COMMON) for _ in range(rng.randint(3, 6)))
            if phrase not in seen:
                seen.add(phrase)
                phrases.append(phrase)
        entries.append({"id": f"bench.e{i:04d}", "category": categories[i % 3],
                        "severity": "medium", "phrases": phrases,
                        "legal_basis": ["广告法 第28条"], "note": "generated for the bench"})
    return entries


def disguise(phrase: str, how: str, rng: random.Random, t2s: Any) -> str:
    if how == "separator":
        return "".join(c + rng.choice(["", " ", "·", "✅", "/"]) for c in phrase).rstrip(" ·✅/")
    if how == "invisible":
        return "\u200b".join(phrase)
    if how == "traditional":
        return str(t2s.convert(phrase))
    if how == "width":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in phrase)
    return phrase


def make_text(rng: random.Random, length: int) -> str:
    out: list[str] = []
    size = 0
    while size < length:
        r = rng.random()
        piece = (rng.choice(WORDS) if r < 0.85 else rng.choice(MODELS) if r < 0.93
                 else f"{rng.choice([1, 2, 5, 10, 20, 50, 100, 500, 1000])}{rng.choice(UNITS)}")
        piece += rng.choice(["", "", " ", "，", "。", " "])
        out.append(piece)
        size += len(piece)
    return "".join(out)[:length]


def make_listings(n: int, phrases: list[str], rng: random.Random) -> list[Listing]:
    s2t = opencc.OpenCC("s2t")
    listings = []
    for i in range(n):
        title = make_text(rng, 40)
        description = make_text(rng, 260)
        if rng.random() < 0.05:  # a violating listing, sometimes disguised
            hidden = disguise(rng.choice(phrases), rng.choice(EVASIONS), rng, s2t)
            at = rng.randrange(len(description))
            description = description[:at] + hidden + description[at:]
        listings.append(Listing(platform="bench", listing_id=f"b{i}", title=title,
                                description=description, seller=Seller(name="店铺")))
    return listings


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20231117)
    parser.add_argument("--chunk", type=int, default=500, help="listings per timed chunk")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        lexicon_dir = Path(tmp) / "keywords"
        shutil.copytree(ROOT / "keywords", lexicon_dir)
        shipped = load_lexicon(lexicon_dir)
        extra = generated_entries(max(0, args.entries - len(shipped.entries)), rng,
                                  {p for e in shipped.entries for p in e.phrases})
        (lexicon_dir / "bench.yaml").write_text(
            yaml.safe_dump({"entries": extra}, allow_unicode=True), encoding="utf-8")
        rss_before = rss_mb()
        started = time.perf_counter()
        lexicon = load_lexicon(lexicon_dir)
        loaded = time.perf_counter()
        compiled = compile_lexicon(lexicon)
        built = time.perf_counter()
    rss_lexicon = rss_mb()
    detector = LexiconDetector(compiled)

    # The phrases of (a): every literal phrase and the canonical form of every pattern.
    phrases = sorted({p for e in lexicon.entries for p in (*e.phrases, *e.lookalikes)}
                     | {x.parts[0][0].text for e in lexicon.entries for x in e.expanded})
    listings = make_listings(args.listings, phrases, rng)
    fields = [[text for _, text in item.fields()] for item in listings]

    # (b): the same keys as the engine, in unit form, over text normalised beforehand.
    keys = {unit_text(v.text) for e in lexicon.entries for x in e.expanded
            for part in x.parts for v in part}
    keys |= {unit_text(p) for e in lexicon.entries for p in (*e.phrases, *e.lookalikes)}
    automaton = ahocorasick.Automaton()
    for i, key in enumerate(sorted(k for k in keys if k)):
        automaton.add_word(key, i)
    automaton.make_automaton()
    normalised = [[unit_text(text) for text in texts] for texts in fields]

    # The three are timed chunk by chunk, interleaved, so a burst of load from other
    # processes on the machine weighs on all of them alike.
    naive = raw_ac = engine = 0.0
    naive_hits = ac_hits = findings = flagged = 0
    ratios = []
    for lo in range(0, len(listings), args.chunk):
        hi = lo + args.chunk
        t0 = time.perf_counter()
        for texts in fields[lo:hi]:
            for text in texts:
                for phrase in phrases:
                    if phrase in text:
                        naive_hits += 1
        t1 = time.perf_counter()
        for texts in normalised[lo:hi]:
            for text in texts:
                for _ in automaton.iter(text):
                    ac_hits += 1
        t2 = time.perf_counter()
        for item in listings[lo:hi]:
            found = detector.detect(item)
            findings += len(found)
            flagged += bool(found)
        t3 = time.perf_counter()
        naive += t1 - t0
        raw_ac += t2 - t1
        engine += t3 - t2
        ratios.append((t2 - t1) / (t3 - t2))

    n = len(listings)
    result = {
        "listings": n,
        "mean_chars": round(sum(len(t) for texts in fields for t in texts) / max(1, n), 1),
        "lexicon_entries": len(lexicon.entries),
        "naive_phrases": len(phrases),
        "automaton_keys": compiled.keys,
        "lexicon_load_s": round(loaded - started, 3),
        "lexicon_compile_s": round(built - loaded, 3),
        "a_naive_per_s": round(n / naive, 1),
        "b_raw_ahocorasick_per_s": round(n / raw_ac, 1),
        "c_engine_per_s": round(n / engine, 1),
        "c_over_b": round(raw_ac / engine, 3),
        "c_over_b_median_chunk": round(statistics.median(ratios), 3),
        "c_over_a": round(naive / engine, 2),
        "flagged_listings": flagged,
        "findings": findings,
        "naive_hits": naive_hits,
        "ac_hits": ac_hits,
        "lexicon_rss_mb": round(rss_lexicon - rss_before, 1),
        "peak_rss_mb": round(rss_mb(), 1),
    }
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    ok_b = result["c_over_b"] >= 0.25
    ok_a = result["c_over_a"] >= 2
    print(f"targets: (c) >= 0.25 x (b): {'met' if ok_b else 'NOT met'}; "
          f"(c) >= 2 x (a): {'met' if ok_a else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
