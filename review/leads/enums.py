"""The analyst's vocabularies: decisions, dismissal reasons, enforcement units, outcomes."""

from __future__ import annotations

from enum import StrEnum

from store.models_review import ReferralKind


class Decision(StrEnum):
    REVIEW = "review"  # start reviewing: new → in_review, and claim it
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    ESCALATE = "escalate"
    REFER = "refer"
    CLOSE = "close"


# Preset reasons for dismissing a lead as a false positive; the lexicon's maintainers read
# them (with the matched phrases) on the dismissals page. Labels live in the catalogue.
DISMISS_REASONS = ("negation", "everyday_phrase", "licensed_body", "complete_fields",
                   "not_certification", "duplicate", "other")

# The enforcement units named in the campaign documents (谯城区 and 洛江区 2023); routing
# rules (issue 6) may replace this list, the lead's unit is a plain column either way.
UNITS = ("综合行政执法大队", "知识产权监督管理股", "信用监管股", "法制股",
         "市局执法支队四大队", "信用股", "市场股")
PLATFORM_TARGET = "platform"
POLICE_TARGET = "公安机关"

REFERRAL_KINDS = tuple(ReferralKind)

# How a closed lead ended; "cleaned_up" feeds the 清理 figure of the statistics.
OUTCOMES = ("cleaned_up", "case_filed", "rectified", "no_violation", "other")
