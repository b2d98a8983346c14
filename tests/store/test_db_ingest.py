"""store.db for the ingest's writes: ids taken before the insert (``Ids``) — unique, after
every stored row, with the database's own numbering carrying on after them — and
commits that do not wait for the disk."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from store.db import SQLITE_BEGIN, Ids, make_engine
from store.models import Seller

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _seller(shop: str, **extra: object) -> dict[str, object]:
    return {"platform": "sandbox", "shop_key": shop, "name": shop, "created_at": NOW,
            "updated_at": NOW, **extra}


def test_taken_ids_follow_the_stored_rows_and_the_database_carries_on(engine: Engine) -> None:
    writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    with Session(writer) as session, session.begin():
        session.execute(insert(Seller), [_seller("a"), _seller("b")])
    with Session(writer) as session, session.begin():
        ids = Ids(session)
        first = ids.take(Seller, 3)
        second = ids.take(Seller)
        assert ids.take(Seller, 0) == []
        stored = set(session.scalars(select(Seller.id)))
        assert len(set(first + second)) == 4 and not stored & set(first + second)
        assert min(first) > max(stored) and first == sorted(first) and second[0] > first[-1]
        session.execute(insert(Seller), [_seller(f"t{i}", id=i) for i in first + second])
    with Session(writer) as session, session.begin():
        # An insert that lets the database number the row gets a fresh id.
        session.execute(insert(Seller), [_seller("later")])
        later = session.scalar(select(Seller.id).where(Seller.shop_key == "later"))
        assert later is not None and later > max(first + second)
        assert session.scalar(select(func.count()).select_from(Seller)) == 7


def _durability(engine: Engine) -> str:
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            level = connection.exec_driver_sql("PRAGMA synchronous").scalar()
            return {1: "relaxed", 2: "full"}.get(int(level or 0), str(level))
        setting = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        return "relaxed" if setting == "off" else "full"


def test_only_the_crawls_engine_relaxes_commits(migrated_url: str) -> None:
    """The ingest process's commits do not wait for the disk; everyone else's do."""
    strict, relaxed = make_engine(migrated_url), make_engine(migrated_url, relaxed_commits=True)
    try:
        assert _durability(strict) == "full"
        assert _durability(relaxed) == "relaxed"
        with Session(relaxed) as session, session.begin():  # and it writes as usual
            session.execute(insert(Seller), [_seller("relaxed")])
        with Session(strict) as session:
            assert session.scalar(select(Seller.id).where(Seller.shop_key == "relaxed"))
    finally:
        strict.dispose()
        relaxed.dispose()
