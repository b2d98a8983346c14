"""What analysts do to leads: claim, assign, decide, refer, note, bulk — no HTTP here.

Every status change goes through ``Store.transition_lead``; review state (assignee, unit,
escalation, referrals, notes) goes through ``store.workbench.Workbench``. Both write
audit events with the acting user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jingwang.i18n import t
from review.auth.service import has_role
from review.leads.enums import DISMISS_REASONS, OUTCOMES, POLICE_TARGET, Decision
from store.accounts import Accounts, UserView
from store.enums import LeadStatus
from store.errors import IllegalTransition, NotFound
from store.models_review import ReferralKind, UserRole
from store.review_queries import QueueFilter, QueuePage, ReviewQueries
from store.service import Referral, Store
from store.views import LeadView
from store.workbench import ReviewState, Workbench

BULK_ACTIONS = (Decision.REVIEW, Decision.CONFIRM, Decision.DISMISS, Decision.ESCALATE,
                "claim")
BULK_LIMIT = 500


class DecisionError(Exception):
    """A decision that cannot be made; ``key`` names its message in the catalogue."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(t(f"error.{key}", **values))


@dataclass(frozen=True, slots=True)
class DecisionInput:
    decision: Decision
    reason_code: str = ""
    reason: str = ""
    kind: str = ""
    target: str = ""
    note: str = ""
    outcome: str = ""


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def dismiss_reason_text(code: str, detail: str) -> str:
    """The stored reason: the preset's Chinese label, then the analyst's words."""
    if code not in DISMISS_REASONS:
        raise DecisionError("dismiss_reason")
    detail = detail.strip()
    if code == "other" and not detail:
        raise DecisionError("dismiss_reason")
    label = t(f"dismiss.{code}")
    return f"{label}：{detail}" if detail else label


class LeadService:
    def __init__(self, *, store: Store, workbench: Workbench, queries: ReviewQueries,
                 accounts: Accounts) -> None:
        self.store = store
        self.workbench = workbench
        self.queries = queries
        self.accounts = accounts

    # -- reads ------------------------------------------------------------------------

    def queue(self, flt: QueueFilter, *, page: int, per_page: int) -> QueuePage:
        return self.queries.queue(flt, limit=per_page, offset=(page - 1) * per_page)

    def lead(self, lead_id: int) -> LeadView | None:
        return self.store.lead(lead_id)

    def state(self, lead_id: int) -> ReviewState:
        return self.workbench.state(lead_id)

    def trail(self, lead_id: int) -> list[dict[str, Any]]:
        return self.store.audit_events(object_type="lead", object_id=lead_id)

    # -- status -----------------------------------------------------------------------

    def _move(self, lead_id: int, to: LeadStatus, user: UserView,
              reason: str | None = None) -> None:
        try:
            self.store.transition_lead(lead_id, to, actor=user.username, reason=reason)
        except IllegalTransition as exc:
            raise DecisionError("illegal_move", status=t(f"status.{exc.from_status.value}"),
                                target=t(f"status.{exc.to_status.value}")) from exc
        except NotFound as exc:
            raise DecisionError("no_lead") from exc

    def _status(self, lead_id: int) -> LeadStatus:
        lead = self.store.lead(lead_id)
        if lead is None:
            raise DecisionError("no_lead")
        return lead.status

    def _start_review(self, lead_id: int, user: UserView) -> None:
        """new → in_review; whoever starts it holds it unless someone already does."""
        if self._status(lead_id) is LeadStatus.NEW:
            self._move(lead_id, LeadStatus.IN_REVIEW, user)
        self.workbench.claim(lead_id, user_id=user.id, actor=user.username)

    def claim(self, lead_id: int, user: UserView) -> bool:
        if not has_role(user, UserRole.ANALYST):
            raise DecisionError("forbidden")
        try:
            return self.workbench.claim(lead_id, user_id=user.id, actor=user.username)
        except NotFound as exc:
            raise DecisionError("no_lead") from exc

    def assign(self, lead_id: int, username: str | None, actor: UserView) -> None:
        if not has_role(actor, UserRole.SUPERVISOR):
            raise DecisionError("forbidden")
        assignee = None
        if username:
            user = self.accounts.user(username)
            if user is None or user.disabled:
                raise DecisionError("no_user", name=username)
            assignee = user.id
        try:
            self.workbench.assign(lead_id, assignee_id=assignee, actor=actor.username)
        except NotFound as exc:
            raise DecisionError("no_lead") from exc

    def decide(self, lead_id: int, choice: DecisionInput, user: UserView) -> None:
        """Carry out one decision for ``user`` or raise DecisionError saying why not."""
        needed = UserRole.SUPERVISOR if choice.decision is Decision.CLOSE else UserRole.ANALYST
        if not has_role(user, needed):
            raise DecisionError("forbidden")
        status = self._status(lead_id)
        match choice.decision:
            case Decision.REVIEW:
                self._start_review(lead_id, user)
            case Decision.CONFIRM:
                if status is LeadStatus.NEW:
                    self._start_review(lead_id, user)
                self._move(lead_id, LeadStatus.CONFIRMED, user)
            case Decision.DISMISS:
                reason = dismiss_reason_text(choice.reason_code, choice.reason)
                self._move(lead_id, LeadStatus.DISMISSED, user, reason)
            case Decision.ESCALATE:
                if status is LeadStatus.NEW:
                    self._start_review(lead_id, user)
                self.workbench.escalate(lead_id, actor=user.username, note=choice.note)
            case Decision.REFER:
                self._refer(lead_id, status, choice, user)
            case Decision.CLOSE:
                if choice.outcome not in OUTCOMES:
                    raise DecisionError("outcome")
                resolution = t(f"outcome.{choice.outcome}")
                if choice.note.strip():
                    resolution += f"：{choice.note.strip()}"
                self._move(lead_id, LeadStatus.CLOSED, user, resolution)
                self.workbench.set_outcome(lead_id, outcome=choice.outcome,
                                           actor=user.username)

    def _refer(self, lead_id: int, status: LeadStatus, choice: DecisionInput,
               user: UserView) -> None:
        try:
            kind = ReferralKind(choice.kind)
        except ValueError as exc:
            raise DecisionError("referral_target") from exc
        target = choice.target.strip()
        if kind is ReferralKind.POLICE:
            target = target or POLICE_TARGET
        if not target:
            raise DecisionError("referral_target")
        if status not in (LeadStatus.CONFIRMED, LeadStatus.REFERRED):
            raise DecisionError("refer_unconfirmed")
        # One transition records the referral and writes its alerts in the same
        # transaction, so the unit, platform or police hand-over is never lost.
        referral = Referral(unit=target if kind is ReferralKind.UNIT else None,
                            platform=kind is ReferralKind.PLATFORM,
                            police=kind is ReferralKind.POLICE,
                            note=choice.note.strip() or None)
        try:
            self.store.transition_lead(lead_id, LeadStatus.REFERRED, actor=user.username,
                                       referral=referral)
        except IllegalTransition as exc:
            raise DecisionError("illegal_move", status=t(f"status.{exc.from_status.value}"),
                                target=t(f"status.{exc.to_status.value}")) from exc
        except NotFound as exc:
            raise DecisionError("no_lead") from exc

    def add_note(self, lead_id: int, body: str, user: UserView) -> None:
        if not has_role(user, UserRole.ANALYST):
            raise DecisionError("forbidden")
        if not body.strip():
            raise DecisionError("empty_note")
        try:
            self.workbench.add_note(lead_id, author=user.username, body=body[:10_000])
        except NotFound as exc:
            raise DecisionError("no_lead") from exc

    def bulk(self, lead_ids: Sequence[int], action: str, user: UserView, *,
             reason_code: str = "", reason: str = "") -> BulkResult:
        """Apply one action to many leads; each lead succeeds or fails on its own."""
        if action not in BULK_ACTIONS:
            raise DecisionError("bulk_action")
        if len(lead_ids) > BULK_LIMIT:
            raise DecisionError("bulk_limit", n=BULK_LIMIT)
        if action == Decision.DISMISS:
            dismiss_reason_text(reason_code, reason)  # refuse a bad reason before starting
        result = BulkResult()
        for lead_id in dict.fromkeys(lead_ids):
            try:
                if action == "claim":
                    if not self.claim(lead_id, user):
                        raise DecisionError("claimed_by_other")
                else:
                    self.decide(lead_id, DecisionInput(decision=Decision(action),
                                                       reason_code=reason_code,
                                                       reason=reason), user)
            except DecisionError as exc:
                result.failed.append((lead_id, exc.key))
            else:
                result.done.append(lead_id)
        return result
