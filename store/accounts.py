"""Accounts of the workbench: users, browser sessions and API tokens, as plain records.

Secrets never reach this module in the clear: callers hash passwords (argon2) and
tokens (SHA-256) before storing or looking them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.db import Transactions
from store.errors import NotFound, StoreError
from store.models_review import ApiToken, AppUser, UserRole, UserSession

# A session seen again within this long is not written back: reads stay reads.
TOUCH_EVERY = timedelta(minutes=5)


class UserExists(StoreError):
    """A username that is already taken."""


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: UserRole
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionView:
    id: int
    user: UserView
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ApiTokenView:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None



def _user_view(row: AppUser) -> UserView:
    return UserView(id=row.id, username=row.username, display_name=row.display_name,
                    role=UserRole(row.role), disabled=row.disabled_at is not None,
                    created_at=row.created_at, last_login_at=row.last_login_at)


def _token_view(row: ApiToken) -> ApiTokenView:
    return ApiTokenView(id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at,
                        last_used_at=row.last_used_at, revoked_at=row.revoked_at)


class Accounts(Transactions):
    """Users, sessions and tokens in the store's database; the clock is injectable."""

    def _user_row(self, session: Session, username: str) -> AppUser:
        row = session.scalars(select(AppUser).where(AppUser.username == username)).one_or_none()
        if row is None:
            raise NotFound(f"no user named {username!r}")
        return row

    # -- users ------------------------------------------------------------------------

    def create_user(self, *, username: str, display_name: str, role: UserRole,
                    password_hash: str) -> UserView:
        now = self.clock()
        try:
            with self._write() as session:
                if session.scalars(select(AppUser.id).where(
                        AppUser.username == username)).first() is not None:
                    raise UserExists(f"user {username!r} already exists")
                row = AppUser(username=username, display_name=display_name or username,
                              role=UserRole(role), password_hash=password_hash,
                              created_at=now, updated_at=now)
                session.add(row)
                session.flush()
                return _user_view(row)
        except IntegrityError as exc:  # a concurrent create of the same name
            raise UserExists(f"user {username!r} already exists") from exc

    def count_users(self) -> int:
        with self._read() as session:
            return int(session.scalar(select(func.count()).select_from(AppUser)) or 0)

    def users(self) -> list[UserView]:
        with self._read() as session:
            return [_user_view(r) for r in session.scalars(select(AppUser).order_by(AppUser.id))]

    def user(self, username: str) -> UserView | None:
        with self._read() as session:
            row = session.scalars(
                select(AppUser).where(AppUser.username == username)).one_or_none()
            return _user_view(row) if row is not None else None

    def user_by_id(self, user_id: int) -> UserView | None:
        with self._read() as session:
            row = session.get(AppUser, user_id)
            return _user_view(row) if row is not None else None

    def credentials(self, username: str) -> tuple[UserView, str] | None:
        """The user and their password hash, for checking a login."""
        with self._read() as session:
            row = session.scalars(
                select(AppUser).where(AppUser.username == username)).one_or_none()
            return (_user_view(row), row.password_hash) if row is not None else None

    def set_password_hash(self, username: str, password_hash: str, *,
                          end_sessions: bool = True) -> None:
        """Replace the password hash; a new password ends every session of the user
        (``end_sessions=False`` only re-hashes the same password with new parameters)."""
        with self._write() as session:
            row = self._user_row(session, username)
            row.password_hash = password_hash
            row.updated_at = self.clock()
            if end_sessions:
                session.execute(delete(UserSession).where(UserSession.user_id == row.id))

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable (ending sessions; tokens stop working) or enable a user."""
        with self._write() as session:
            row = self._user_row(session, username)
            now = self.clock()
            row.disabled_at = (row.disabled_at or now) if disabled else None
            row.updated_at = now
            if disabled:
                session.execute(delete(UserSession).where(UserSession.user_id == row.id))

    def set_role(self, username: str, role: UserRole) -> None:
        with self._write() as session:
            row = self._user_row(session, username)
            row.role = UserRole(role)
            row.updated_at = self.clock()

    # -- sessions ---------------------------------------------------------------------

    def create_session(self, *, user_id: int, token_hash: str, csrf_token: str,
                       lifetime: timedelta) -> SessionView:
        now = self.clock()
        with self._write() as session:
            user = session.get(AppUser, user_id)
            if user is None:
                raise NotFound(f"unknown user {user_id}")
            user.last_login_at = now
            # Expired sessions of everyone are swept here, at the rare moment of a login.
            session.execute(delete(UserSession).where(UserSession.expires_at < now))
            row = UserSession(user_id=user_id, token_hash=token_hash, csrf_token=csrf_token,
                              created_at=now, last_seen_at=now, expires_at=now + lifetime)
            session.add(row)
            session.flush()
            return SessionView(id=row.id, user=_user_view(user), csrf_token=csrf_token,
                               expires_at=row.expires_at)

    def session(self, token_hash: str, *, idle: timedelta) -> SessionView | None:
        """The live session with this token, or None if unknown, expired, idle too long
        or its user is disabled."""
        now = self.clock()
        with self._read() as session:
            found = session.execute(
                select(UserSession, AppUser).join(AppUser, AppUser.id == UserSession.user_id)
                .where(UserSession.token_hash == token_hash)).one_or_none()
            if found is None:
                return None
            row, user = found[0], found[1]
            if (row.expires_at <= now or row.last_seen_at + idle <= now
                    or user.disabled_at is not None):
                return None
            view = SessionView(id=row.id, user=_user_view(user), csrf_token=row.csrf_token,
                               expires_at=row.expires_at)
            stale = row.last_seen_at + TOUCH_EVERY <= now
        if stale:
            with self._write() as session:
                session.execute(update(UserSession).where(UserSession.id == view.id)
                                .values(last_seen_at=now))
        return view

    def end_session(self, token_hash: str) -> None:
        with self._write() as session:
            session.execute(delete(UserSession).where(UserSession.token_hash == token_hash))

    # -- API tokens -------------------------------------------------------------------

    def create_token(self, *, user_id: int, name: str, token_hash: str,
                     prefix: str) -> ApiTokenView:
        with self._write() as session:
            if session.get(AppUser, user_id) is None:
                raise NotFound(f"unknown user {user_id}")
            row = ApiToken(user_id=user_id, name=name, token_hash=token_hash, prefix=prefix,
                           created_at=self.clock())
            session.add(row)
            session.flush()
            return _token_view(row)

    def tokens(self, user_id: int) -> list[ApiTokenView]:
        with self._read() as session:
            return [_token_view(r) for r in session.scalars(
                select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))]

    def revoke_token(self, *, user_id: int, token_id: int) -> bool:
        """Revoke one of the user's own tokens; False if they have no such live token."""
        with self._write() as session:
            row = session.get(ApiToken, token_id)
            if row is None or row.user_id != user_id or row.revoked_at is not None:
                return False
            row.revoked_at = self.clock()
            return True

    def user_by_token(self, token_hash: str) -> UserView | None:
        """The enabled user owning this live token (and note that it was used)."""
        now = self.clock()
        with self._read() as session:
            found = session.execute(
                select(ApiToken, AppUser).join(AppUser, AppUser.id == ApiToken.user_id)
                .where(ApiToken.token_hash == token_hash)).one_or_none()
            if found is None:
                return None
            token, user = found[0], found[1]
            if token.revoked_at is not None or user.disabled_at is not None:
                return None
            view = _user_view(user)
            stale = token.last_used_at is None or token.last_used_at + TOUCH_EVERY <= now
            token_id = token.id
        if stale:
            with self._write() as session:
                session.execute(update(ApiToken).where(ApiToken.id == token_id)
                                .values(last_used_at=now))
        return view
