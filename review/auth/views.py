"""Sign-in and sign-out, the account page (language, password, API tokens) and the
admin's user list."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from review.auth.service import AccountError, LoginRefused
from review.deps import SESSION_COOKIE, AdminUser, Ctx, CurrentUser
from review.rendering import LANG_COOKIE, request_locale, translator
from store.accounts import UserExists
from store.errors import NotFound
from store.models_review import UserRole

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "jw_login_csrf"
ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Only local paths: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(request: Request, context: Ctx, *, next_path: str, error: str = "",
                status_code: int = 200, username: str = "") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = context.renderer.page(request, "login.html", {
        "next": next_path, "error": error, "login_csrf": token, "username": username},
        status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=context.cookie_secure, path="/login")
    return response


@router.get("/login")
def login_form(request: Request, context: Ctx, next: str = "/", lang: str = "") -> Response:
    if lang:
        # The language choice is only a display preference, so a link may set it.
        response = RedirectResponse(f"/login?next={quote(safe_next(next), safe='')}",
                                    status_code=303)
        if lang in ("zh-CN", "en"):
            response.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, samesite="strict",
                                secure=context.cookie_secure)
        return response
    return _login_page(request, context, next_path=safe_next(next))


@router.post("/login")
def login(request: Request, context: Ctx, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/",
          csrf_token: Annotated[str, Form()] = "") -> Response:
    tr = translator(request_locale(request))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(request, context, next_path=safe_next(next),
                           error=tr("login.expired"), status_code=403, username=username)
    try:
        result = context.auth.login(username, password, client=_client(request))
    except LoginRefused as refused:
        if refused.reason == "throttled":
            return _login_page(request, context, next_path=safe_next(next),
                               error=tr("login.throttled"), status_code=429,
                               username=username)
        return _login_page(request, context, next_path=safe_next(next),
                           error=tr("login.invalid"), status_code=401, username=username)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, result.token, httponly=True, samesite="strict",
                        secure=context.cookie_secure, path="/",
                        max_age=int(context.auth.lifetime.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(principal: CurrentUser, context: Ctx) -> Response:
    if principal.session_token:
        context.auth.logout(principal.session_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _account_page(request: Request, principal: CurrentUser, context: Ctx, *,
                  new_token: str = "", error: str = "", status_code: int = 200) -> Response:
    return context.renderer.page(request, "account.html", {
        "tokens": context.auth.accounts.tokens(principal.user.id), "new_token": new_token,
        "error": error}, principal=principal, status_code=status_code)


@router.get("/account")
def account(request: Request, principal: CurrentUser, context: Ctx) -> Response:
    return _account_page(request, principal, context)


@router.post("/account/lang")
def set_language(principal: CurrentUser, context: Ctx,
                 lang: Annotated[str, Form()] = "zh-CN",
                 next: Annotated[str, Form()] = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in ("zh-CN", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, samesite="strict",
                            secure=context.cookie_secure)
    return response


@router.post("/account/tokens")
def create_token(request: Request, principal: CurrentUser, context: Ctx,
                 name: Annotated[str, Form()] = "api") -> Response:
    token, _ = context.auth.create_token(principal.user, name)
    return _account_page(request, principal, context, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: int, principal: CurrentUser, context: Ctx) -> Response:
    context.auth.accounts.revoke_token(user_id=principal.user.id, token_id=token_id)
    return RedirectResponse("/account?msg=token_revoked", status_code=303)


@router.post("/account/password")
def change_password(request: Request, principal: CurrentUser, context: Ctx,
                    current: Annotated[str, Form()] = "", new: Annotated[str, Form()] = "",
                    again: Annotated[str, Form()] = "") -> Response:
    tr = translator(request_locale(request))
    try:
        context.auth.verify(principal.user.username, current, client=_client(request))
    except LoginRefused:
        return _account_page(request, principal, context, error=tr("account.wrong_password"),
                             status_code=400)
    if new != again:
        return _account_page(request, principal, context, error=tr("account.mismatch"),
                             status_code=400)
    try:
        context.auth.set_password(principal.user.username, new)
    except AccountError:
        return _account_page(request, principal, context, error=tr("account.too_short"),
                             status_code=400)
    # Changing the password ended every session, this one included.
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/admin/users")
def users(request: Request, principal: AdminUser, context: Ctx, error: str = "") -> Response:
    return context.renderer.page(request, "users.html", {
        "users": context.auth.accounts.users(), "roles": list(UserRole), "error": error},
        principal=principal)


@router.post("/admin/users")
def add_user(request: Request, principal: AdminUser, context: Ctx,
             username: Annotated[str, Form()], password: Annotated[str, Form()],
             role: Annotated[str, Form()] = "analyst",
             display_name: Annotated[str, Form()] = "") -> Response:
    try:
        context.auth.add_user(username, password, role=role, display_name=display_name)
    except (AccountError, UserExists) as exc:
        return context.renderer.page(request, "users.html", {
            "users": context.auth.accounts.users(), "roles": list(UserRole),
            "error": str(exc)}, principal=principal, status_code=400)
    return RedirectResponse("/admin/users?msg=user_added", status_code=303)


@router.post("/admin/users/{username}/disable")
def disable_user(username: str, principal: AdminUser, context: Ctx,
                 disabled: Annotated[str, Form()] = "1") -> Response:
    if username == principal.user.username:
        return RedirectResponse("/admin/users?msg=not_yourself", status_code=303)
    try:
        context.auth.accounts.set_disabled(username, disabled == "1")
    except NotFound:
        return RedirectResponse("/admin/users?msg=no_user", status_code=303)
    return RedirectResponse("/admin/users?msg=user_changed", status_code=303)


@router.post("/admin/users/{username}/role")
def set_role(username: str, principal: AdminUser, context: Ctx,
             role: Annotated[str, Form()]) -> Response:
    if username == principal.user.username or role not in {r.value for r in UserRole}:
        return RedirectResponse("/admin/users?msg=not_yourself", status_code=303)
    try:
        context.auth.accounts.set_role(username, UserRole(role))
    except NotFound:
        return RedirectResponse("/admin/users?msg=no_user", status_code=303)
    return RedirectResponse("/admin/users?msg=user_changed", status_code=303)
