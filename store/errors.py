"""Errors the store raises for callers to handle (bad ids, illegal moves, damaged evidence)."""

from __future__ import annotations

from store.enums import LeadStatus


class StoreError(Exception):
    """Base class of the store's own errors."""


class NotFound(StoreError, LookupError):
    """An id or name that the database does not have."""


class IllegalTransition(StoreError):
    """A lead status change that the life cycle does not allow (or lacks its reason)."""

    def __init__(self, lead_id: int, from_status: LeadStatus, to_status: LeadStatus,
                 problem: str) -> None:
        self.lead_id = lead_id
        self.from_status = from_status
        self.to_status = to_status
        self.problem = problem
        super().__init__(f"lead {lead_id}: {from_status.value} → {to_status.value}: {problem}")


class EvidenceCorrupted(StoreError):
    """An evidence file whose bytes no longer hash to its name."""
