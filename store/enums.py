"""The status vocabularies of the store and the one table of legal lead transitions."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class FailureKind(StrEnum):
    FETCH = "fetch"
    PARSE = "parse"
    BLOCKED = "blocked"


class EvidenceKind(StrEnum):
    HTML = "html"
    SCREENSHOT = "screenshot"
    CAPTURE_RECORD = "capture_record"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class LeadStatus(StrEnum):
    """A seller-level lead's life cycle; each status has its own ``<status>_at`` column."""

    NEW = "new"
    IN_REVIEW = "in_review"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    REFERRED = "referred"
    CLOSED = "closed"


# A lead is "open" until it is dismissed or closed; a seller has at most one open lead
# (enforced by a partial unique index), and new findings attach to it.
CLOSED_LEAD_STATUSES: frozenset[LeadStatus] = frozenset({LeadStatus.DISMISSED, LeadStatus.CLOSED})

# Dismissed and closed are terminal: reopening would race with the partial unique
# index (a new open lead may already exist for the seller), so new findings open a new lead.
LEAD_TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.NEW: frozenset({LeadStatus.IN_REVIEW, LeadStatus.DISMISSED}),
    LeadStatus.IN_REVIEW: frozenset({LeadStatus.CONFIRMED, LeadStatus.DISMISSED}),
    LeadStatus.CONFIRMED: frozenset({LeadStatus.REFERRED, LeadStatus.CLOSED}),
    LeadStatus.REFERRED: frozenset({LeadStatus.CLOSED}),
    LeadStatus.DISMISSED: frozenset(),
    LeadStatus.CLOSED: frozenset(),
}

# Moving to these statuses needs a reason: why it was dismissed, how it was resolved.
REASON_REQUIRED: frozenset[LeadStatus] = frozenset({LeadStatus.DISMISSED, LeadStatus.CLOSED})
