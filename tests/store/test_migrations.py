"""Migrations are the only way tables appear; they go up, down and up again on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from store.db import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    upgrade,
)
from store.models import Base

TABLES = {"source", "crawl_run", "crawl_failure", "seller", "listing", "listing_version",
          "evidence", "finding", "lead", "lead_listing", "audit_event", "outbox"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    assert current_revision(database_url) is None
    assert not TABLES & _tables(database_url)

    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    assert _tables(database_url) >= TABLES

    # one step down: the newest revision is undone, the ones before it stay
    script = ScriptDirectory.from_config(alembic_config())
    previous = script.get_revision(head_revision()).down_revision
    downgrade(database_url, "-1")
    assert current_revision(database_url) == previous
    assert _tables(database_url) >= TABLES

    downgrade(database_url, "base")
    assert current_revision(database_url) is None
    assert not TABLES & _tables(database_url)

    upgrade(database_url, "head")
    assert current_revision(database_url) == head_revision()
    assert _tables(database_url) >= TABLES


def test_models_match_migrated_schema(database_url: str) -> None:
    """The ORM models and the migrations describe the same tables, columns and indexes."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_indexes_exist(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        names = {(table, index["name"]) for table in TABLES
                 for index in inspector.get_indexes(table)}
        uniques = {(table, u["name"]) for table in TABLES
                   for u in inspector.get_unique_constraints(table)}
    finally:
        engine.dispose()
    assert ("lead", "ix_lead_created") in names
    assert ("lead", "uq_lead_open_seller") in names
    assert ("outbox", "ix_outbox_due") in names
    assert ("listing", "uq_listing_platform_platform_listing_id") in uniques
    assert ("outbox", "uq_outbox_idempotency_key") in uniques
