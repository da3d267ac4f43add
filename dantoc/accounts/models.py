"""Users and roles. Roles are data: a role is a set of permission verbs."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from .. import clock
from ..catalogs.models import AdminUnit, Department
from ..extensions import db


class Role(db.Model):
    """A named set of permission verbs (see :mod:`dantoc.accounts.permissions`)."""

    __tablename__ = "roles"

    code: so.Mapped[str] = so.mapped_column(sa.String(30), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))


class RoleVerb(db.Model):
    """One permission verb granted to a role."""

    __tablename__ = "role_verbs"

    role_code: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("roles.code", ondelete="CASCADE"), primary_key=True
    )
    verb: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)


class User(UserMixin, db.Model):
    """A person who signs in. Scope: the subtree of ``unit``; department staff are further
    limited to the indicator groups of their department."""

    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    full_name: so.Mapped[str] = so.mapped_column(sa.String(150))
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    role_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("roles.code"), index=True)
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    department_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("departments.id"), index=True
    )
    active: so.Mapped[bool] = so.mapped_column(default=True)
    #: Changes at logout, password change and disabling: every copied cookie stops working.
    session_nonce: so.Mapped[str] = so.mapped_column(sa.String(64))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(35))
    #: Base64 of a random 32-byte AES key that encrypts this user's offline outbox on their
    #: phones (docs/offline.md); created on first use by ``dantoc.pwa.services``.
    outbox_key: so.Mapped[str | None] = so.mapped_column(sa.String(44))
    #: Where reminders go (docs/reminders.md): a mobile number for SMS, an e-mail address.
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)

    role: so.Mapped[Role] = so.relationship()
    unit: so.Mapped[AdminUnit | None] = so.relationship()
    department: so.Mapped[Department | None] = so.relationship()

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active


class RoleGrant(db.Model):
    """Which roles a role may assign and manage (data, like the verbs): a commune officer
    manages village heads only; an administrator manages every role."""

    __tablename__ = "role_grants"

    role_code: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("roles.code", ondelete="CASCADE"), primary_key=True
    )
    grantable_code: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("roles.code", ondelete="CASCADE"), primary_key=True
    )


class ActivationCode(db.Model):
    """A one-time, expiring code a commune officer gives a village head to enrol a phone.

    Only the SHA-256 of the code is stored: the code is random (≥ 50 bits), so a fast hash
    is enough and a database leak does not reveal usable codes.
    """

    __tablename__ = "activation_codes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    issued_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    expires_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True))
    #: Set when the code is used, or when a newer code replaces it.
    used_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])


class Device(db.Model):
    """A phone enrolled by a village head: a long-lived secret in an HttpOnly cookie (only
    its SHA-256 is stored) that a PIN unlocks. Revoking it ends its sessions at once."""

    __tablename__ = "devices"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    pin_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    #: Wrong PINs in a row; the device is revoked when it reaches the limit.
    failed_pins: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    last_seen_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    user: so.Mapped[User] = so.relationship()

    __table_args__ = (sa.CheckConstraint("failed_pins >= 0", name="failed_pins"),)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ThrottleAttempt(db.Model):
    """One failed (or being evaluated) attempt under one throttle key."""

    __tablename__ = "throttle_attempts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: scope and key, e.g. ``login-account:<sha256 of the username>``.
    key: so.Mapped[str] = so.mapped_column(sa.String(120))
    #: Seconds since the epoch.
    at: so.Mapped[float] = so.mapped_column(sa.Float(precision=53))

    __table_args__ = (sa.Index("ix_throttle_attempts_key_at", "key", "at"),)
