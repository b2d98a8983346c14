"""Priority signals of the detection spec: phrases that raise a lead's score, not categories.

They are matched on a compact view of the text (NFKC, simplified, lower case, without
spaces and punctuation), which sees through the cheap disguises sellers use for
contact details (加 V, 加·薇, 私 聊); the detectors own the full evasion handling.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from opencc import OpenCC

# Signal id → patterns on the compact text. Ids are stable: silences, routes and the
# score breakdown name them; labels live in the message catalogue (signal.<id>).
SIGNAL_PATTERNS: dict[str, tuple[str, ...]] = {
    # Payment or contact moved off the platform.
    "off_platform": (
        r"[1一壹]元(?:链接|拍)", r"拍下?(?:后|前)?联系客服", r"补差价", r"补拍差价",
        r"加(?:vx|wx|v(?!ip)|微信?|薇|威信|q{1,2}(?!认证)|扣扣)", r"私聊", r"私信",
        r"微信(?:联系|咨询|沟通)",
    ),
    # Claims that the document can be verified anywhere.
    "verifiable_anywhere": (
        r"全国(?:联网)?可查", r"官网(?:可|能)?(?:查|查询|验证)", r"网上可查", r"(?:永久|终身)可查",
        r"可查可验", r"扫码可查",
    ),
    # Fresh seals or originals offered for documents bought online.
    "original_seal": (r"鲜章", r"原件", r"红章", r"盖章原版"),
    # Filed as virtual goods or a design service.
    "virtual_goods": (r"虚拟(?:服务|商品|产品)", r"自动发货", r"设计服务", r"资料整理"),
}
SIGNALS: tuple[str, ...] = tuple(SIGNAL_PATTERNS)

_COMPILED = {name: re.compile("|".join(f"(?:{p})" for p in patterns))
             for name, patterns in SIGNAL_PATTERNS.items()}
_NOISE = re.compile(r"[\W_]+", re.UNICODE)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


@cache
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def compact(text: str) -> str:
    """``text`` reduced for matching: NFKC, simplified, lower case, letters and digits only."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = _t2s().convert(text).lower()
    return _NOISE.sub("", text)


def find_signals(texts: Iterable[str]) -> set[str]:
    """The priority signals present in any of ``texts``."""
    found: set[str] = set()
    for text in texts:
        view = compact(text)
        if not view:
            continue
        found.update(name for name, pattern in _COMPILED.items() if pattern.search(view))
    return found
