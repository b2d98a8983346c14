"""Route dependencies: who is asking (session cookie or API token), CSRF on every state
change, role checks and the lead a route is about — declared on the route, Dispatch-style."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from review.auth.service import has_role
from review.context import Context
from store.accounts import UserView
from store.models_review import UserRole
from store.views import LeadView

SESSION_COOKIE = "jw_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotAuthenticated(Exception):
    """No valid session or token; HTML routes redirect to the login page, the API says 401."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this (or the CSRF token is wrong)."""

    def __init__(self, reason: str = "role") -> None:
        self.reason = reason
        super().__init__(reason)


class LeadNotFound(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user and how they came: ``session`` (with its CSRF token) or ``token``."""

    user: UserView
    via: str
    csrf: str = ""
    session_token: str = ""


def get_context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


Ctx = Annotated[Context, Depends(get_context)]


async def _csrf_ok(request: Request, expected: str) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded",
                                    "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    return bool(sent) and hmac.compare_digest(str(sent), expected)


def authenticate(context: Context, request: Request) -> Principal | None:
    """Who sent this request: an API token (Authorization: Bearer) or a session cookie.

    Runs in the gate middleware for every non-public path, so no route can forget it.
    """
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        user = context.auth.user_by_token(authorization[7:].strip())
        return Principal(user=user, via="token") if user is not None else None
    token = request.cookies.get(SESSION_COOKIE, "")
    session = context.auth.session(token) if token else None
    if session is None:
        return None
    return Principal(user=session.user, via="session", csrf=session.csrf_token,
                     session_token=token)


async def current_principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise NotAuthenticated()
    # Browsers send cookies on their own, so a cookie-authenticated state change must
    # also prove it came from our page; tokens are never sent implicitly.
    if (principal.via == "session" and request.method not in SAFE_METHODS
            and not await _csrf_ok(request, principal.csrf)):
        raise Forbidden("csrf")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require(role: UserRole):  # type: ignore[no-untyped-def]
    """A dependency that lets through users of ``role`` or above."""

    def check(principal: CurrentUser) -> Principal:
        if not has_role(principal.user, role):
            raise Forbidden("role")
        return principal

    return check


AnalystUser = Annotated[Principal, Depends(require(UserRole.ANALYST))]
SupervisorUser = Annotated[Principal, Depends(require(UserRole.SUPERVISOR))]
AdminUser = Annotated[Principal, Depends(require(UserRole.ADMIN))]


def current_lead(lead_id: int, principal: CurrentUser, context: Ctx) -> LeadView:
    lead = context.store.lead(lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    return lead


CurrentLead = Annotated[LeadView, Depends(current_lead)]
