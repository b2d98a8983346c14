"""Alembic environment: runs migrations on the connection ``store.db`` hands in.

Run through ``jingwang db upgrade`` (or ``store.db.upgrade``); the plain ``alembic``
command works too with ``alembic -c store/alembic.ini``, using the configured database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from store.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from store.db import make_engine

    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from jingwang.config import load_settings

        url = load_settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
_run_online()
