"""Every message the workbench names literally exists in the zh-CN catalogue, and every
dynamic family (statuses, categories, decisions, reasons …) is complete."""

from __future__ import annotations

import re
from pathlib import Path

from jingwang.i18n import catalogue
from jingwang.records import Category
from review.leads.enums import DISMISS_REASONS, OUTCOMES
from review.leads.service import BULK_ACTIONS
from review.stats.service import TOTAL_KEYS
from store.enums import LeadStatus
from store.models_review import ReferralKind, UserRole

REVIEW = Path(__file__).resolve().parents[2] / "review"
LITERAL = re.compile(r"""\bt(?:r)?\(\s*['"]([a-z_]+(?:\.[A-Za-z_.]+)+)['"]""")


def test_literal_keys_exist() -> None:
    zh = catalogue("zh-CN")
    sources = [*REVIEW.rglob("*.html"), *REVIEW.rglob("*.py")]
    used = {key for path in sources for key in LITERAL.findall(path.read_text("utf-8"))}
    assert len(used) > 100
    # A key ending in "_" is a prefix completed at run time (checked below).
    missing = sorted(key for key in used if key not in zh and not key.endswith("_"))
    assert not missing, missing


def test_dynamic_families_are_complete() -> None:
    zh = catalogue("zh-CN")
    families = {
        "status": [s.value for s in LeadStatus], "category": [c.value for c in Category],
        "role": [r.value for r in UserRole], "referral": [k.value for k in ReferralKind],
        "dismiss": list(DISMISS_REASONS), "outcome": list(OUTCOMES),
        "bulk": [str(a) for a in BULK_ACTIONS], "stats": [k for k, _ in TOTAL_KEYS],
        "decision": ["review", "confirm", "dismiss", "escalate", "close"],
        "flash": [f"decided_{d}" for d in ("review", "confirm", "dismiss", "escalate",
                                           "refer", "close")],
        "sort": ["newest", "oldest", "score", "updated"],
        "evidence_kind": ["html", "screenshot", "capture_record"],
        "error": ["export_format", "export_unit", "export_template", "evidence_missing"],
    }
    raised = re.findall(r'DecisionError\("(\w+)"', (REVIEW / "leads/service.py").read_text())
    assert "illegal_move" in raised
    families["error"] += [*raised, "decision", "csrf", "forbidden"]
    missing = [f"{family}.{key}" for family, keys in families.items() for key in keys
               if f"{family}.{key}" not in zh]
    assert not missing, missing
    english = catalogue("en")
    assert english["status.confirmed"] == "Confirmed" and english["nav.queue"] == "Queue"
