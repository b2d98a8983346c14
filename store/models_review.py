"""ORM models of the review workbench: accounts, sessions, API tokens and lead review state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models import KEY_LENGTH, Base


class UserRole(StrEnum):
    """Roles in increasing power: each one may do everything the ones before it may."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class ReferralKind(StrEnum):
    """Where a lead is handed: an enforcement unit, the platform, or the police."""

    UNIT = "unit"
    PLATFORM = "platform"
    POLICE = "police"


def _plain_enum(enum: type[StrEnum]) -> Enum:
    # Plain strings without a CHECK constraint, as in store.models: adding a value later
    # needs no table rebuild, and Python still refuses unknown ones.
    return Enum(enum, native_enum=False, create_constraint=False, length=32,
                values_callable=lambda members: [m.value for m in members])


class AppUser(Base):
    """A person who signs in to the workbench; never deleted, only disabled."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[UserRole] = mapped_column(_plain_enum(UserRole))
    password_hash: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UserSession(Base):
    """A signed-in browser; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    """A per-user bearer token for the REST API; shown once, stored as its SHA-256."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(KEY_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LeadReview(Base):
    """Workbench state of a lead beside its status: who works it, which unit, escalation.

    ``unit`` is the enforcement unit (承办单位) the lead belongs to; routing rules may
    fill it later, an analyst sets it when referring.
    """

    __tablename__ = "lead_review"

    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"),
                                         primary_key=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    claimed_at: Mapped[datetime | None]
    unit: Mapped[str | None] = mapped_column(String(64), index=True)
    escalated_at: Mapped[datetime | None]
    escalated_by: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    escalation_note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class LeadReferral(Base):
    """One hand-over of a lead (移送): to a unit, the platform or the police."""

    __tablename__ = "lead_referral"
    __table_args__ = (Index("ix_lead_referral_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    kind: Mapped[ReferralKind] = mapped_column(_plain_enum(ReferralKind))
    target: Mapped[str] = mapped_column(String(KEY_LENGTH))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(KEY_LENGTH))
    at: Mapped[datetime]


class LeadNote(Base):
    """An analyst's note on a lead; append-only like the audit trail."""

    __tablename__ = "lead_note"
    __table_args__ = (Index("ix_lead_note_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(KEY_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
