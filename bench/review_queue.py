"""The review queue at scale: first page and filtered pages over 1,000,000 listings and
200,000 findings on PostgreSQL, through the workbench's own query code.

Run: ``python3 -m uv run --frozen python bench/review_queue.py [--listings 1000000]
[--findings 200000] [--repeat 200] [--explain] [--keep]``; the server comes from
``JINGWANG_BENCH_DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).

It creates a database of its own, migrates it to head (so the indexes are the ones
the migrations ship), fills it with ``INSERT … SELECT generate_series`` (foreign key
triggers off while loading; a few minutes on 2 cores), ANALYZEs it, then times each
query ``--repeat`` times after a warm-up and prints p50/p95/p99 in milliseconds.
``--explain`` prints ``EXPLAIN ANALYZE`` of each query's page and count statements.
The database is dropped at the end unless ``--keep``. (Not ``bench/queue.py``: a file
of that name beside the other bench scripts would shadow the standard library's
``queue`` for all of them.)

Data shape: 50,000 sellers on 3 platforms, each listing with one version; findings
on a random tenth of the listings (two each); every seller with a flagged listing
has one lead (about 44,000), spread over the six statuses; half the leads have
workbench state (a unit of ten, an assignee of twenty).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from store.db import upgrade  # noqa: E402
from store.enums import LeadStatus  # noqa: E402
from store.review_queries import QueueFilter, ReviewQueries  # noqa: E402

SERVER = os.environ.get("JINGWANG_BENCH_DATABASE_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SELLERS = 50_000
PLATFORMS = ("taobao", "jd", "pdd")
CATEGORIES = ("fake_certificate", "false_advertising", "national_prefix_misuse",
              "missing_cert_fields", "unlicensed_service", "identifier_invalid")

FILL = [
    ("sellers", """
insert into seller (id, platform, shop_key, shop_id, name, credit_code, license_text,
                    shop_url, created_at, updated_at)
select s, (array['taobao','jd','pdd'])[1 + s % 3], 'shop-' || s, 'shop-' || s,
       '店铺' || s || '号', null, null, 'https://example.invalid/shop/' || s,
       now() - interval '1 day' * (s % 365), now()
from generate_series(1, :sellers) s"""),
    ("listings", """
insert into listing (id, platform, platform_listing_id, url, seller_id, content_hash,
                     current_version_id, first_seen_at, last_seen_at, removed_at)
select l, (array['taobao','jd','pdd'])[1 + (1 + l % :sellers) % 3], 'item-' || l,
       'https://example.invalid/item/' || l, 1 + l % :sellers, md5(l::text), null,
       now() - interval '1 minute' * (l % 500000), now(), null
from generate_series(1, :listings) l"""),
    ("versions", """
insert into listing_version (id, listing_id, content_hash, title, description, price,
                             seller_snapshot, images, image_texts, captured_at, run_id)
select l, l, md5(l::text), '商品标题 ' || l || ' 检测报告 认证 加急',
       '商品描述 ' || repeat('质量检测 认证服务 ', 6) || l, '199.00',
       '{}'::jsonb, '[]'::jsonb, '[]'::jsonb, now() - interval '1 minute' * (l % 500000),
       null
from generate_series(1, :listings) l"""),
    ("current versions", "update listing set current_version_id = id"),
    ("flagged", """
create temporary table flagged as
select l as listing_id, 1 + l % :sellers as seller_id
from (select setseed(0.42)) seed, generate_series(1, :listings) l
order by random() limit :flagged"""),
    ("findings", """
insert into finding (version_id, rule, category, field, start, "end", text, severity,
                     legal_basis, evasions, lexicon_version, detail)
select f.listing_id, 'rule-' || k, (array['fake_certificate','false_advertising',
       'national_prefix_misuse','missing_cert_fields','unlicensed_service',
       'identifier_invalid'])[1 + (f.listing_id + k) % 6], 'title', 5, 9, '检测报告',
       'high', '[]'::jsonb, '[]'::jsonb, 'bench', '{}'::jsonb
from flagged f cross join generate_series(1, 2) k"""),
    ("leads", """
insert into lead (id, seller_id, status, new_at, categories, score, created_at, updated_at)
select s.seller_id,
       s.seller_id,
       (array['new','new','new','new','in_review','in_review','confirmed','dismissed',
              'dismissed','referred','referred','closed'])[1 + s.seller_id % 12],
       now() - interval '1 minute' * (s.seller_id * 7 % 400000),
       to_jsonb(array[(array['fake_certificate','false_advertising',
              'national_prefix_misuse','missing_cert_fields','unlicensed_service',
              'identifier_invalid'])[1 + s.seller_id % 6]] ||
              case when s.seller_id % 3 = 0 then array['unlicensed_service'] else '{}' end),
       (s.seller_id % 100)::float,
       now() - interval '1 minute' * (s.seller_id * 7 % 400000),
       now() - interval '1 minute' * (s.seller_id * 3 % 400000)
from (select distinct seller_id from flagged) s"""),
    ("lead listings", """
insert into lead_listing (lead_id, listing_id, added_at)
select f.seller_id, f.listing_id, now() from flagged f"""),
    ("users", """
insert into app_user (id, username, display_name, password_hash, role, created_at,
                      updated_at)
select u, 'analyst' || u, '分析员' || u, 'x', 'analyst', now(), now()
from generate_series(1, 20) u"""),
    ("lead reviews", """
insert into lead_review (lead_id, assignee_id, claimed_at, unit, updated_at)
select id, 1 + id % 20, now(), '单位' || (id % 10), now() from lead where id % 2 = 0"""),
    ("sequences", """
select setval(pg_get_serial_sequence(t, 'id'), (select coalesce(max(id), 1) from
       (select id from seller union all select id from listing) x))
from unnest(array['seller', 'listing', 'listing_version', 'lead']) t"""),
]

QUERIES: list[tuple[str, QueueFilter]] = [
    ("first page (newest)", QueueFilter()),
    ("filtered: status new+in_review, category, platform",
     QueueFilter(statuses=(LeadStatus.NEW, LeadStatus.IN_REVIEW),
                 category="fake_certificate", platform="taobao")),
    ("filtered: unit, min score, sorted by score",
     QueueFilter(unit="单位4", min_score=50.0, sort="score")),
    ("filtered: status referred, last 30 days",
     QueueFilter(statuses=(LeadStatus.REFERRED,),
                 created_from=datetime.now(UTC) - timedelta(days=30))),
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def fill(engine: Engine, *, listings: int, findings: int) -> None:
    flagged = findings // 2
    params = {"sellers": SELLERS, "listings": listings, "flagged": flagged}
    with engine.begin() as conn:
        conn.execute(text("set session_replication_role = replica"))  # FK triggers off
        for name, sql in FILL:
            started = time.perf_counter()
            used = {k: v for k, v in params.items() if f":{k}" in sql}
            conn.execute(text(sql), used)
            print(f"  {name}: {time.perf_counter() - started:.1f}s", flush=True)
        conn.execute(text("set session_replication_role = origin"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        started = time.perf_counter()
        conn.execute(text("vacuum analyze"))
        print(f"  vacuum analyze: {time.perf_counter() - started:.1f}s", flush=True)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: int(conn.execute(text(f"select count(*) from {t}")).scalar_one())
                for t in ("listing", "listing_version", "finding", "lead", "lead_listing")}


def explain(engine: Engine, flt: QueueFilter) -> None:
    """EXPLAIN ANALYZE of the statements ``ReviewQueries.queue`` runs for ``flt``."""
    statements: list[str] = []

    def capture(conn: object, cursor: object, statement: str, parameters: object,
                context: object, executemany: bool) -> None:
        if statement.lstrip().lower().startswith("select"):
            statements.append(statement)

    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", capture)
    try:
        ReviewQueries(engine).queue(flt, limit=25, offset=0)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    # Re-run the first two statements (count, page) with the filter's parameters
    # inlined by SQLAlchemy's literal compiler.
    from sqlalchemy import func, select

    from store.models import Lead, LeadListing, Seller
    from store.models_review import AppUser, LeadReview
    from store.review_queries import _conditions, _ordering

    where = _conditions(flt)
    page = (select(Lead, Seller, LeadReview, AppUser.username)
            .join(Seller, Seller.id == Lead.seller_id)
            .outerjoin(LeadReview, LeadReview.lead_id == Lead.id)
            .outerjoin(AppUser, AppUser.id == LeadReview.assignee_id)
            .where(*where).order_by(*_ordering(flt.sort)).limit(25))
    total = select(func.count()).select_from(Lead)
    if flt.platform or flt.text:
        total = total.join(Seller, Seller.id == Lead.seller_id)
    total = total.outerjoin(LeadReview, LeadReview.lead_id == Lead.id).where(*where)
    del LeadListing
    with engine.connect() as conn:
        for label, stmt in (("count", total), ("page", page)):
            sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = conn.execute(text(f"explain (analyze, buffers off) {sql}")).scalars().all()
            print(f"    -- {label}")
            for line in plan:
                print(f"    {line}")


def measure(engine: Engine, repeat: int, show_plans: bool) -> None:
    queries = ReviewQueries(engine)
    for label, flt in QUERIES:
        run: Callable[[], object] = lambda flt=flt: queries.queue(flt, limit=25, offset=0)  # noqa: E731
        for _ in range(5):
            run()
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            page = run()
            times.append((time.perf_counter() - started) * 1000)
        total = page.total  # type: ignore[attr-defined]
        print(f"{label:55s} total={total:6d}  p50={statistics.median(times):6.1f} ms  "
              f"p95={percentile(times, 95):6.1f} ms  p99={percentile(times, 99):6.1f} ms",
              flush=True)
        if show_plans:
            explain(engine, flt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--findings", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--database", help="reuse this (kept) bench database; no fill")
    args = parser.parse_args()

    server = make_url(SERVER)
    name = args.database or f"jw_bench_{uuid.uuid4().hex[:8]}"
    url = server.set(database=name).render_as_string(hide_password=False)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    if not args.database:
        with admin.connect() as conn:
            conn.execute(text(f'create database "{name}"'))
    engine = create_engine(url, pool_size=2)
    try:
        upgrade(url)  # also adds indexes of migrations newer than the kept database
        if not args.database:
            started = time.perf_counter()
            print(f"filling {name}: {args.listings:,} listings, {args.findings:,} findings",
                  flush=True)
            fill(engine, listings=args.listings, findings=args.findings)
            print(f"filled in {time.perf_counter() - started:.0f}s: {counts(engine)}",
                  flush=True)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("analyze"))
        measure(engine, args.repeat, args.explain)
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text("select pg_terminate_backend(pid) from pg_stat_activity "
                                  "where datname = :n"), {"n": name})
                conn.execute(text(f'drop database if exists "{name}"'))
        admin.dispose()
        print(f"database {name} {'kept' if args.keep else 'dropped'}")


if __name__ == "__main__":
    main()
