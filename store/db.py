"""Engines tuned per backend, and schema migrations run programmatically through Alembic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, Table, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session

from jingwang.clock import utcnow
from store.errors import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Execution option read by the SQLite "begin" hook: writers ask for IMMEDIATE so two
# writers queue on the busy timeout instead of failing when a read lock must upgrade.
SQLITE_BEGIN = "jingwang_sqlite_begin"
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, relaxed_commits: bool = False) -> Engine:
    """An engine for ``url``: SQLite gets its folder, foreign keys, WAL and a busy timeout;
    PostgreSQL gets pre-ping so a restarted server does not break the pool.

    ``relaxed_commits`` is for the crawl's writes (the ingest process): a commit returns
    without waiting for the disk (SQLite ``synchronous=NORMAL`` in WAL mode, PostgreSQL
    ``synchronous_commit=off``). A power cut or an operating-system crash may then lose
    the last commits of a second or so, never corrupt the database; the next crawl
    fetches those listings again. What people do (reviews, decisions, accounts) keeps
    waiting for the disk on every commit.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(parsed, pool_pre_ping=True)
        if relaxed_commits:
            event.listen(engine, "connect", _postgres_relaxed)
        return engine
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    event.listen(engine, "connect", _sqlite_relaxed if relaxed_commits else _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any, *, synchronous: str = "FULL") -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling defers it and commits
    # before DDL), which also keeps the PRAGMAs below outside any transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
    finally:
        cursor.close()


def _sqlite_relaxed(dbapi_connection: Any, record: Any) -> None:
    _sqlite_connect(dbapi_connection, record, synchronous="NORMAL")


def _postgres_relaxed(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET synchronous_commit TO off")
    finally:
        cursor.close()
    dbapi_connection.commit()  # psycopg opened a transaction for the SET


def _sqlite_begin(connection: Connection) -> None:
    mode = str(connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")).upper()
    if mode not in _BEGIN_MODES:
        raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration built in code; ``connection`` is handed to ``env.py``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _driver_execute(connection: Connection, sql: str) -> None:
    # Straight to the DB-API connection: a SQLAlchemy execute would open a transaction,
    # and PRAGMA foreign_keys is a no-op inside one.
    connection.connection.driver_connection.execute(sql)  # type: ignore[union-attr]


@contextmanager
def _migrating(url: str) -> Iterator[Connection]:
    """A connection in one transaction for a migration command.

    On SQLite, foreign keys are off while batch mode rebuilds tables (as Alembic
    advises) and checked before the transaction commits.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                _driver_execute(connection, "PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    yield connection
                    if sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise StoreError(f"migration broke foreign keys: {broken[:5]}")
            finally:
                if sqlite:
                    _driver_execute(connection, "PRAGMA foreign_keys=ON")
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    with _migrating(url) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``base``, ``-1``, an id)."""
    with _migrating(url) as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision the code ships."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StoreError(f"no migrations in {MIGRATIONS_DIR}")
    return head



class Transactions:
    """One transaction per call, as ``Store`` does: reads, and writers that take SQLite's
    write lock at BEGIN. The base of every store service class."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session


class Ids:
    """Primary keys for rows one write transaction inserts, known before the INSERT, so
    rows that name each other go out in one executemany each instead of one INSERT …
    RETURNING per row (SQLite cannot return ids of a multi-row insert in order).

    SQLite: one more than the largest id, as SQLite itself assigns them; safe because
    writers hold the database's write lock from BEGIN (``SQLITE_BEGIN``). Use it only
    for tables whose every insert in the transaction takes its id here. PostgreSQL:
    the column's own sequence.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._sqlite = session.get_bind().dialect.name == "sqlite"
        self._next: dict[str, int] = {}

    def take(self, model: type[DeclarativeBase], count: int = 1) -> list[int]:
        """``count`` new ids of ``model``'s table, in increasing order."""
        table = cast(Table, model.__table__)
        if count <= 0:
            return []
        if not self._sqlite:
            sequence = func.pg_get_serial_sequence(table.name, "id")
            return list(self.session.scalars(
                select(func.nextval(sequence)).select_from(func.generate_series(1, count))))
        if table.name not in self._next:
            largest = self.session.scalar(select(func.max(table.c.id)))
            self._next[table.name] = int(largest or 0) + 1
        first = self._next[table.name]
        self._next[table.name] = first + count
        return list(range(first, first + count))
