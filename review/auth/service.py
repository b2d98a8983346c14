"""Accounts and sign-in: argon2 passwords, session tokens, CSRF tokens and API tokens.

No HTTP here: the views hand in names, passwords and raw tokens and get records back.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from review.auth.ratelimit import LoginLimiter
from store.accounts import Accounts, ApiTokenView, SessionView, UserView
from store.models_review import UserRole

log = logging.getLogger("jingwang.review.auth")

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "jw_"
ROLE_RANK = {UserRole.VIEWER: 0, UserRole.ANALYST: 1, UserRole.SUPERVISOR: 2, UserRole.ADMIN: 3}


class AccountError(ValueError):
    """A bad username, password or role, with a message for the operator."""


class LoginRefused(Exception):
    """Sign-in refused; ``reason`` is ``throttled`` or ``invalid``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str  # goes into the cookie; only its hash is stored
    session: SessionView


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def has_role(user: UserView, role: UserRole) -> bool:
    return ROLE_RANK[user.role] >= ROLE_RANK[role]


def parse_demo_admin(spec: str) -> tuple[str, str]:
    """``user:password`` → (user, password), or AccountError naming the problem."""
    name, sep, password = spec.partition(":")
    if not sep or not name or not password:
        raise AccountError("JINGWANG_DEMO_ADMIN must look like user:password")
    return name.strip(), password


class AuthService:
    def __init__(self, accounts: Accounts, *, hasher: PasswordHasher | None = None,
                 limiter: LoginLimiter | None = None,
                 lifetime: timedelta = timedelta(hours=12),
                 idle: timedelta = timedelta(hours=2)) -> None:
        self.accounts = accounts
        self.hasher = hasher or PasswordHasher()
        self.limiter = limiter or LoginLimiter()
        self.lifetime = lifetime
        self.idle = idle
        self._dummy: str | None = None

    @property
    def _dummy_hash(self) -> str:
        """Checked against when the name is unknown, so both failures take as long."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_hex(16))
        return self._dummy

    # -- accounts ---------------------------------------------------------------------

    def _check_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"password too short (at least {MIN_PASSWORD} characters)")

    def add_user(self, username: str, password: str, *, role: UserRole | str,
                 display_name: str = "") -> UserView:
        if not USERNAME.match(username):
            raise AccountError(f"bad username {username!r}: 2–64 letters, digits, _ . -")
        try:
            role = UserRole(role)
        except ValueError as exc:
            choices = ", ".join(r.value for r in UserRole)
            raise AccountError(f"unknown role {role!r} (choose {choices})") from exc
        self._check_password(password)
        return self.accounts.create_user(username=username, display_name=display_name,
                                         role=role, password_hash=self.hasher.hash(password))

    def set_password(self, username: str, password: str) -> None:
        self._check_password(password)
        self.accounts.set_password_hash(username, self.hasher.hash(password))

    def bootstrap(self, demo_admin: str | None) -> None:
        """On a database without users: create the demo admin if one is given, else say
        how to create the first account."""
        if self.accounts.count_users():
            return
        if demo_admin:
            name, password = parse_demo_admin(demo_admin)
            self.add_user(name, password, role=UserRole.ADMIN, display_name=name)
            log.warning("created demo admin %r from JINGWANG_DEMO_ADMIN (demo use only)", name)
            return
        log.warning("no user accounts yet: nobody can sign in to the web UI. "
                    "Create one with: jingwang user add NAME --role admin")

    # -- sessions ---------------------------------------------------------------------

    def verify(self, username: str, password: str, *, client: str) -> UserView:
        """The enabled user with this password, or LoginRefused (throttled or invalid)."""
        username = username.strip()
        if not self.limiter.allowed(username, client):
            raise LoginRefused("throttled")
        found = self.accounts.credentials(username) if username else None
        try:
            self.hasher.verify(found[1] if found else self._dummy_hash, password)
            ok = found is not None and not found[0].disabled
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or found is None:
            self.limiter.failed(username, client)
            raise LoginRefused("invalid")
        self.limiter.succeeded(username, client)
        user, stored = found
        if self.hasher.check_needs_rehash(stored):
            self.accounts.set_password_hash(user.username, self.hasher.hash(password),
                                            end_sessions=False)
        return user

    def login(self, username: str, password: str, *, client: str) -> LoginResult:
        user = self.verify(username, password, client=client)
        token = secrets.token_urlsafe(32)
        session = self.accounts.create_session(user_id=user.id, token_hash=token_hash(token),
                                               csrf_token=secrets.token_urlsafe(32),
                                               lifetime=self.lifetime)
        return LoginResult(token=token, session=session)

    def session(self, token: str) -> SessionView | None:
        if not token or len(token) > 200:
            return None
        return self.accounts.session(token_hash(token), idle=self.idle)

    def logout(self, token: str) -> None:
        self.accounts.end_session(token_hash(token))

    # -- API tokens -------------------------------------------------------------------

    def create_token(self, user: UserView, name: str) -> tuple[str, ApiTokenView]:
        """A new token for ``user``; the plain token is returned once and never stored."""
        name = name.strip()[:100] or "api"
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        view = self.accounts.create_token(user_id=user.id, name=name,
                                          token_hash=token_hash(token), prefix=token[:10])
        return token, view

    def user_by_token(self, token: str) -> UserView | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        return self.accounts.user_by_token(token_hash(token))
