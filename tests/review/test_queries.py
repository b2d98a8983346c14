"""The workbench's store queries on both backends (SQLite and PostgreSQL): filters,
search, neighbours, export bundles, accounts and review state."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from store.accounts import Accounts, UserExists
from store.enums import LeadStatus
from store.errors import NotFound
from store.models_review import ReferralKind, UserRole
from store.review_queries import QueueFilter, ReviewQueries
from store.service import Store
from store.workbench import Workbench
from tests.review.conftest import make_store
from tests.review.data import seed


@pytest.fixture
def seeded(database_url: str, tmp_path: Path) -> tuple[Store, dict[str, int]]:
    store = make_store(database_url, tmp_path)
    leads = seed(store).leads
    yield store, leads  # type: ignore[misc]
    store.engine.dispose()


def test_queue_filters_on_both_backends(seeded: tuple[Store, dict[str, int]]) -> None:
    store, leads = seeded
    queries = ReviewQueries(store.engine)

    def ids(**kw: object) -> list[int]:
        return [r.id for r in queries.queue(QueueFilter(**kw), limit=50, offset=0).rows]  # type: ignore[arg-type]

    assert ids() == sorted(leads.values(), reverse=True)
    assert ids(category="national_prefix_misuse") == [leads["green"]]
    assert ids(category="false_advertising", sort="oldest") == [
        leads["iso"], leads["hostile"], leads["formula"], leads["report"]]
    assert ids(text="绿源") == [leads["green"]]
    assert ids(text="快速办理") == [leads["iso"]]  # a later version's title counts too
    assert ids(text="100%") == [] and ids(text="_") == []
    assert ids(platform="taobao", statuses=(LeadStatus.NEW,)) == [leads["report"]]
    assert ids(min_score=99) == []
    page = queries.queue(QueueFilter(sort="oldest"), limit=2, offset=2)
    assert page.total == 5 and [r.id for r in page.rows] == [leads["hostile"], leads["formula"]]
    assert queries.neighbours(QueueFilter(sort="oldest"), leads["green"]) == (
        leads["iso"], leads["hostile"])
    assert queries.platforms() == ["sandbox", "taobao"]


def test_review_state_bundles_and_dismissals(seeded: tuple[Store, dict[str, int]]) -> None:
    store, leads = seeded
    accounts = Accounts(store.engine)
    user = accounts.create_user(username="li", display_name="李", role=UserRole.ANALYST,
                                password_hash="x")
    with pytest.raises(UserExists):
        accounts.create_user(username="li", display_name="", role=UserRole.VIEWER,
                             password_hash="x")
    work = Workbench(store.engine)
    assert work.claim(leads["iso"], user_id=user.id, actor="li")
    assert not work.claim(leads["iso"], user_id=user.id + 99, actor="x")
    store.transition_lead(leads["iso"], LeadStatus.IN_REVIEW, actor="li")
    store.transition_lead(leads["iso"], LeadStatus.CONFIRMED, actor="li")
    work.refer(leads["iso"], kind=ReferralKind.UNIT, target="信用股", note="请核查", actor="li")
    work.add_note(leads["iso"], author="li", body="已核实")
    state = work.state(leads["iso"])
    assert (state.assignee, state.unit, len(state.referrals), len(state.notes)) == (
        "li", "信用股", 1, 1)
    with pytest.raises(NotFound):
        work.escalate(999, actor="li", note=None)
    queries = ReviewQueries(store.engine)
    assert [r.id for r in queries.queue(QueueFilter(unit="信用股"), limit=9, offset=0).rows] \
        == [leads["iso"]]
    assert [r.id for r in queries.queue(QueueFilter(assignee_id=user.id), limit=9,
                                        offset=0).rows] == [leads["iso"]]
    bundle = queries.bundles([leads["iso"], 999, leads["green"]])
    assert [b.lead.id for b in bundle] == [leads["iso"], leads["green"]]
    assert bundle[0].review.unit == "信用股" and bundle[0].review.assignee == "li"
    store.transition_lead(leads["green"], LeadStatus.DISMISSED, actor="li", reason="重复线索")
    dismissed = queries.dismissals()
    assert [d.lead_id for d in dismissed] == [leads["green"]]
    assert {f[0] for f in dismissed[0].findings} == {"national_prefix.cert_name",
                                                      "fake_certificate.no_sample"}
    history = queries.listing_history(bundle[0].lead.listings[0].id)
    assert history is not None and len(history.versions) == 2


def test_sessions_expire_and_tokens_revoke(seeded: tuple[Store, dict[str, int]]) -> None:
    store, _ = seeded
    now = [store.lead(1).created_at]  # type: ignore[union-attr]
    accounts = Accounts(store.engine, clock=lambda: now[0])
    user = accounts.create_user(username="wang", display_name="王", role=UserRole.VIEWER,
                                password_hash="x")
    accounts.create_session(user_id=user.id, token_hash="a" * 64, csrf_token="c",
                            lifetime=timedelta(hours=12))
    idle = timedelta(hours=2)
    assert accounts.session("a" * 64, idle=idle) is not None
    now[0] += timedelta(hours=1)
    assert accounts.session("a" * 64, idle=idle) is not None  # touched now
    now[0] += timedelta(hours=1, minutes=30)
    assert accounts.session("a" * 64, idle=idle) is not None
    now[0] += timedelta(hours=3)
    assert accounts.session("a" * 64, idle=idle) is None  # idle too long
    token = accounts.create_token(user_id=user.id, name="t", token_hash="b" * 64, prefix="jw_b")
    assert accounts.user_by_token("b" * 64) == accounts.user("wang")
    assert accounts.revoke_token(user_id=user.id, token_id=token.id)
    assert not accounts.revoke_token(user_id=user.id, token_id=token.id)
    assert accounts.user_by_token("b" * 64) is None
