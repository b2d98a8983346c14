"""The one lead transition function: legal moves, illegal moves and the audit trail."""

from __future__ import annotations

import pytest

from store.enums import LEAD_TRANSITIONS, LeadStatus
from store.errors import IllegalTransition, NotFound
from store.service import Store
from tests.store.conftest import T0, Clock, crawled, detect


def _lead(store: Store, run_id: int, listing_id: str = "1001", shop: str = "shop-7") -> int:
    result = store.ingest(run_id, crawled(listing_id, shop_id=shop), detect, channels=())
    assert result.lead_id is not None
    return result.lead_id


def test_review_path_to_closed(store: Store, run_id: int, clock: Clock) -> None:
    lead_id = _lead(store, run_id)
    steps = [(LeadStatus.IN_REVIEW, None), (LeadStatus.CONFIRMED, None),
             (LeadStatus.REFERRED, "移交市场监管局执法科"), (LeadStatus.CLOSED, "已立案查处")]
    for status, reason in steps:
        clock.tick(60)
        store.transition_lead(lead_id, status, actor="analyst:li", reason=reason)
        lead = store.lead(lead_id)
        assert lead is not None
        assert lead.status is status
        assert lead.status_at(status) == clock.now
    lead = store.lead(lead_id)
    assert lead is not None
    assert lead.new_at == T0
    assert lead.resolution == "已立案查处"
    assert lead.dismissed_at is None
    trail = store.audit_events(object_type="lead", object_id=lead_id)
    assert [e["action"] for e in trail] == ["lead.created"] + ["lead.transition"] * 4
    assert [(e["detail"]["from"], e["detail"]["to"]) for e in trail[1:]] == [
        ("new", "in_review"), ("in_review", "confirmed"), ("confirmed", "referred"),
        ("referred", "closed")]
    assert {e["actor"] for e in trail[1:]} == {"analyst:li"}
    assert trail[0]["actor"] == "system"


def test_dismiss_needs_reason_and_is_terminal(store: Store, run_id: int) -> None:
    lead_id = _lead(store, run_id)
    with pytest.raises(IllegalTransition, match="reason"):
        store.transition_lead(lead_id, LeadStatus.DISMISSED, actor="analyst:li", reason="  ")
    store.transition_lead(lead_id, LeadStatus.DISMISSED, actor="analyst:li",
                          reason="误报：否定语境")
    lead = store.lead(lead_id)
    assert lead is not None
    assert lead.status is LeadStatus.DISMISSED and lead.dismiss_reason == "误报：否定语境"
    for target in LeadStatus:
        with pytest.raises(IllegalTransition):
            store.transition_lead(lead_id, target, actor="analyst:li", reason="x")
    assert len(store.audit_events(object_type="lead", object_id=lead_id)) == 2


@pytest.mark.parametrize("source", list(LeadStatus))
def test_only_listed_moves_are_legal(store: Store, run_id: int, source: LeadStatus) -> None:
    """From every status, every target is either in the table (and works) or refused."""
    path = {LeadStatus.NEW: [], LeadStatus.IN_REVIEW: [LeadStatus.IN_REVIEW],
            LeadStatus.CONFIRMED: [LeadStatus.IN_REVIEW, LeadStatus.CONFIRMED],
            LeadStatus.REFERRED: [LeadStatus.IN_REVIEW, LeadStatus.CONFIRMED,
                                  LeadStatus.REFERRED],
            LeadStatus.DISMISSED: [LeadStatus.DISMISSED],
            LeadStatus.CLOSED: [LeadStatus.IN_REVIEW, LeadStatus.CONFIRMED, LeadStatus.CLOSED]}
    for n, target in enumerate(LeadStatus):
        lead_id = _lead(store, run_id, listing_id=f"{source}-{n}", shop=f"{source}-{n}")
        for step in path[source]:
            store.transition_lead(lead_id, step, actor="t", reason="r")
        if target in LEAD_TRANSITIONS[source]:
            store.transition_lead(lead_id, target, actor="t", reason="r")
            lead = store.lead(lead_id)
            assert lead is not None and lead.status is target
        else:
            with pytest.raises(IllegalTransition) as info:
                store.transition_lead(lead_id, target, actor="t", reason="r")
            assert info.value.from_status is source and info.value.to_status is target
            lead = store.lead(lead_id)
            assert lead is not None and lead.status is source


def test_closed_lead_lets_new_findings_open_a_new_lead(store: Store, run_id: int) -> None:
    first = _lead(store, run_id, "1001")
    store.transition_lead(first, LeadStatus.DISMISSED, actor="a", reason="重复线索")
    result = store.ingest(run_id, crawled("1002"), detect, channels=("log",))
    assert result.lead_created and result.lead_id != first
    assert store.counts()["leads_open"] == 1


def test_unknown_lead(store: Store) -> None:
    with pytest.raises(NotFound):
        store.transition_lead(999, LeadStatus.IN_REVIEW, actor="a")
