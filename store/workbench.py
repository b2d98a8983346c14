"""Review state of leads beside their status: claims, assignment, units, escalation,
referrals, notes, and audit entries for what analysts do (exports included).

Status changes themselves go through ``Store.transition_lead``, the one transition
function; this module records everything around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.db import Transactions
from store.errors import NotFound
from store.models import KEY_LENGTH, AuditEvent, Lead
from store.models_review import AppUser, LeadNote, LeadReferral, LeadReview, ReferralKind


@dataclass(frozen=True, slots=True)
class ReferralView:
    kind: ReferralKind
    target: str
    note: str | None
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class NoteView:
    author: str
    body: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReviewState:
    """Who works a lead, its unit, escalation and outcome, referrals and notes."""

    lead_id: int
    assignee_id: int | None
    assignee: str | None
    claimed_at: datetime | None
    unit: str | None
    escalated_at: datetime | None
    escalated_by: str | None
    escalation_note: str | None
    outcome: str | None
    referrals: tuple[ReferralView, ...]
    notes: tuple[NoteView, ...]



def add_audit(session: Session, *, at: datetime, actor: str, action: str, object_type: str,
              object_id: int | str, detail: dict[str, Any]) -> None:
    session.add(AuditEvent(at=at, actor=actor[:KEY_LENGTH], action=action,
                           object_type=object_type, object_id=str(object_id)[:KEY_LENGTH],
                           detail=detail))


class Workbench(Transactions):
    """Writes and reads of the review tables; one transaction per call."""

    def _review_row(self, session: Session, lead_id: int, now: datetime) -> LeadReview:
        if session.get(Lead, lead_id, with_for_update=True) is None:
            raise NotFound(f"unknown lead {lead_id}")
        row = session.get(LeadReview, lead_id)
        if row is None:
            row = LeadReview(lead_id=lead_id, updated_at=now)
            session.add(row)
            session.flush()
        return row

    # -- reads ------------------------------------------------------------------------

    def state(self, lead_id: int) -> ReviewState:
        with self._read() as session:
            row = session.get(LeadReview, lead_id)
            assignee = None
            if row is not None and row.assignee_id is not None:
                assignee = session.scalar(
                    select(AppUser.username).where(AppUser.id == row.assignee_id))
            referrals = tuple(
                ReferralView(kind=ReferralKind(r.kind), target=r.target, note=r.note,
                             actor=r.actor, at=r.at)
                for r in session.scalars(select(LeadReferral).where(
                    LeadReferral.lead_id == lead_id).order_by(LeadReferral.at, LeadReferral.id)))
            notes = tuple(
                NoteView(author=n.author, body=n.body, at=n.at)
                for n in session.scalars(select(LeadNote).where(
                    LeadNote.lead_id == lead_id).order_by(LeadNote.at, LeadNote.id)))
            return ReviewState(
                lead_id=lead_id, assignee_id=row.assignee_id if row else None,
                assignee=assignee, claimed_at=row.claimed_at if row else None,
                unit=row.unit if row else None, escalated_at=row.escalated_at if row else None,
                escalated_by=row.escalated_by if row else None,
                escalation_note=row.escalation_note if row else None,
                outcome=row.outcome if row else None, referrals=referrals, notes=notes)

    # -- writes -----------------------------------------------------------------------

    def claim(self, lead_id: int, *, user_id: int, actor: str, force: bool = False) -> bool:
        """Make ``user_id`` the lead's assignee; refused (False) if someone else holds it
        and ``force`` is not set (supervisors reassign with :meth:`assign`)."""
        now = self.clock()
        with self._write() as session:
            row = self._review_row(session, lead_id, now)
            if row.assignee_id not in (None, user_id) and not force:
                return False
            if row.assignee_id == user_id:
                return True
            previous = row.assignee_id
            row.assignee_id, row.claimed_at, row.updated_at = user_id, now, now
            add_audit(session, at=now, actor=actor, action="lead.claim", object_type="lead",
                      object_id=lead_id, detail={"assignee_id": user_id, "previous": previous})
            return True

    def assign(self, lead_id: int, *, assignee_id: int | None, actor: str) -> None:
        now = self.clock()
        with self._write() as session:
            row = self._review_row(session, lead_id, now)
            username = None
            if assignee_id is not None:
                username = session.scalar(select(AppUser.username).where(
                    AppUser.id == assignee_id))
                if username is None:
                    raise NotFound(f"unknown user {assignee_id}")
            previous = row.assignee_id
            row.assignee_id = assignee_id
            row.claimed_at = now if assignee_id is not None else None
            row.updated_at = now
            add_audit(session, at=now, actor=actor, action="lead.assign", object_type="lead",
                      object_id=lead_id, detail={"assignee": username, "previous": previous})

    def set_unit(self, lead_id: int, *, unit: str | None, actor: str) -> None:
        now = self.clock()
        with self._write() as session:
            row = self._review_row(session, lead_id, now)
            previous = row.unit
            row.unit = (unit or "").strip()[:64] or None
            row.updated_at = now
            add_audit(session, at=now, actor=actor, action="lead.unit", object_type="lead",
                      object_id=lead_id, detail={"unit": row.unit, "previous": previous})

    def escalate(self, lead_id: int, *, actor: str, note: str | None) -> None:
        now = self.clock()
        with self._write() as session:
            row = self._review_row(session, lead_id, now)
            row.escalated_at, row.escalated_by = now, actor
            row.escalation_note = (note or "").strip() or None
            row.updated_at = now
            add_audit(session, at=now, actor=actor, action="lead.escalate", object_type="lead",
                      object_id=lead_id, detail={"note": row.escalation_note})

    def set_outcome(self, lead_id: int, *, outcome: str, actor: str) -> None:
        now = self.clock()
        with self._write() as session:
            row = self._review_row(session, lead_id, now)
            row.outcome, row.updated_at = outcome[:32], now
            add_audit(session, at=now, actor=actor, action="lead.outcome", object_type="lead",
                      object_id=lead_id, detail={"outcome": row.outcome})

    def refer(self, lead_id: int, *, kind: ReferralKind, target: str, note: str | None,
              actor: str) -> None:
        """Record a hand-over; a referral to a unit also makes it the lead's unit."""
        kind = ReferralKind(kind)
        target = target.strip()[:KEY_LENGTH]
        if not target:
            raise ValueError("a referral needs a target")
        now = self.clock()
        with self._write() as session:
            row = self._review_row(session, lead_id, now)
            session.add(LeadReferral(lead_id=lead_id, kind=kind, target=target,
                                     note=(note or "").strip() or None, actor=actor, at=now))
            if kind is ReferralKind.UNIT:
                row.unit = target[:64]
            row.updated_at = now
            add_audit(session, at=now, actor=actor, action="lead.refer", object_type="lead",
                      object_id=lead_id, detail={"kind": kind.value, "target": target,
                                                 "note": (note or "").strip() or None})

    def add_note(self, lead_id: int, *, author: str, body: str) -> None:
        body = body.strip()
        if not body:
            raise ValueError("an empty note")
        now = self.clock()
        with self._write() as session:
            self._review_row(session, lead_id, now)
            session.add(LeadNote(lead_id=lead_id, author=author, body=body, at=now))
            add_audit(session, at=now, actor=author, action="lead.note",
                      object_type="lead", object_id=lead_id, detail={"length": len(body)})

    def record(self, *, actor: str, action: str, object_type: str, object_id: int | str,
               detail: dict[str, Any], lead_ids: Sequence[int] = ()) -> None:
        """One audit event, plus one ``lead.exported``-style event per lead named, so each
        lead's own trail shows who took its data out."""
        now = self.clock()
        with self._write() as session:
            add_audit(session, at=now, actor=actor, action=action, object_type=object_type,
                      object_id=object_id, detail=detail)
            for lead_id in dict.fromkeys(lead_ids):
                add_audit(session, at=now, actor=actor, action=action, object_type="lead",
                          object_id=lead_id, detail={"export": object_id, **{
                              k: v for k, v in detail.items() if k != "lead_ids"}})
