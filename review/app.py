"""The web workbench: FastAPI + Jinja2, server-rendered, HTMX for partial updates, Chinese
through the message catalogue; every path but login, health and static files needs a
session or an API token."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from jingwang.clock import utcnow
from jingwang.i18n import t
from review.auth.ratelimit import LoginLimiter
from review.auth.service import AuthService
from review.context import Context
from review.deps import Forbidden, LeadNotFound, NotAuthenticated, authenticate
from review.exports.service import ExportService
from review.leads.service import LeadService
from review.rendering import COMMON_HEADERS, HERE, PAGE_CSP, Renderer, request_locale
from review.stats.service import StatsService
from store.accounts import Accounts
from store.review_queries import ReviewQueries
from store.service import Store
from store.workbench import Workbench

log = logging.getLogger("jingwang.review")

# /readyz and /metrics are added by the daemon (jingwang.health); protect them at the
# network level (docs/deploy.md).
PUBLIC_PATHS = frozenset({"/login", "/healthz", "/readyz", "/metrics"})
PUBLIC_PREFIXES = ("/static/",)
API_PREFIXES = ("/api/", "/openapi.json")
DEMO_ADMIN_ENV = "JINGWANG_DEMO_ADMIN"


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _refuse(request: Request) -> Response:
    path = request.url.path
    if path.startswith(API_PREFIXES):
        return JSONResponse({"detail": "not authenticated"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    target = path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def create_app(*, store: Store, health: Callable[[], dict[str, Any]] | None = None,
               demo_admin: str | None = None,
               clock: Callable[[], datetime] = utcnow,
               password_hasher: PasswordHasher | None = None,
               login_limiter: LoginLimiter | None = None,
               cookie_secure: bool = False,
               letter_template: Path | None = None) -> FastAPI:
    """The workbench for one store.

    ``health`` adds the daemon's state to /healthz. On a database without users,
    ``demo_admin`` (``user:password``, default: env ``JINGWANG_DEMO_ADMIN``) creates an
    admin; without it a log line says how to create one. ``cookie_secure`` marks the
    session cookie Secure (set it when the workbench is served over HTTPS).
    """
    accounts = Accounts(store.engine, clock=clock)
    workbench = Workbench(store.engine, clock=clock)
    queries = ReviewQueries(store.engine)
    auth = AuthService(accounts, hasher=password_hasher, limiter=login_limiter)
    context = Context(
        store=store, auth=auth,
        leads=LeadService(store=store, workbench=workbench, queries=queries,
                          accounts=accounts),
        queries=queries,
        exports=ExportService(queries=queries, workbench=workbench,
                              evidence=store.evidence_store, clock=clock,
                              letter_template=letter_template),
        stats=StatsService(store.engine, clock=clock),
        renderer=Renderer(), clock=clock, cookie_secure=cookie_secure,
        letter_template=letter_template)
    auth.bootstrap(demo_admin if demo_admin is not None else os.environ.get(DEMO_ADMIN_ENV))

    app = FastAPI(title="净网 jingwang API", version="1", docs_url=None, redoc_url=None,
                  openapi_url=None,
                  description="Leads, listings, findings and exports of the 净网 workbench. "
                              "Authenticate with `Authorization: Bearer <token>`; create "
                              "tokens on the account page (/account).")
    app.state.context = context
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def gate(request: Request,
                   call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not _is_public(request.url.path):
            principal = await run_in_threadpool(authenticate, context, request)
            if principal is None:
                response = _refuse(request)
                response.headers.update(COMMON_HEADERS)
                return response
            request.state.principal = principal
        response = await call_next(request)
        for name, value in COMMON_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        if "cache-control" not in response.headers and not request.url.path.startswith(
                "/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        return _refuse(request)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        key = "error.csrf" if exc.reason == "csrf" else "error.forbidden"
        if request.url.path.startswith(API_PREFIXES):
            return JSONResponse({"detail": t(key, "en")}, status_code=403)
        return context.renderer.page(request, "error.html", {
            "message": t(key, request_locale(request)), "code": 403},
            principal=getattr(request.state, "principal", None), status_code=403)

    @app.exception_handler(LeadNotFound)
    async def lead_not_found(request: Request, exc: LeadNotFound) -> Response:
        if request.url.path.startswith(API_PREFIXES):
            return JSONResponse({"detail": "lead not found"}, status_code=404)
        return context.renderer.page(request, "error.html", {
            "message": t("error.no_lead", request_locale(request)), "code": 404},
            principal=getattr(request.state, "principal", None), status_code=404)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")}
                    for e in exc.errors()]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"status": "ok", **(health() if health else {})}

    from review.api.docs import router as docs_router
    from review.api.views import router as api_router
    from review.auth.views import router as auth_router
    from review.exports.views import router as exports_router
    from review.leads.views import router as leads_router
    from review.stats.views import router as stats_router

    for router in (auth_router, leads_router, exports_router, stats_router, api_router,
                   docs_router):
        app.include_router(router)
    return app
