"""Write operations on users and roles. Services flush and audit; views commit."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from .. import clock
from ..audit import services as audit
from ..extensions import db
from .models import Device, Role, RoleGrant, RoleVerb, User
from .passwords import configured_cost, hash_password, needs_rehash, verify_password
from .permissions import DEFAULT_GRANTS, DEFAULT_ROLES

#: The fields of a user that the audit trail shows before and after a change.
USER_FIELDS = ("username", "full_name", "role_code", "unit_id", "department_id", "active",
               "phone", "email")


def new_nonce() -> str:
    return secrets.token_hex(16)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def seed_roles() -> None:
    """Create the default roles, their verbs and grants where they are missing."""
    for code, (name, verbs) in DEFAULT_ROLES.items():
        if db.session.get(Role, code) is None:
            db.session.add(Role(code=code, name=name))
            db.session.flush()
            db.session.add_all(RoleVerb(role_code=code, verb=verb) for verb in verbs)
    db.session.flush()
    for code, grantable in DEFAULT_GRANTS.items():
        for target in grantable:
            if db.session.get(RoleGrant, (code, target)) is None:
                db.session.add(RoleGrant(role_code=code, grantable_code=target))
    db.session.flush()


def create_user(username: str, full_name: str, role_code: str, *, password: str | None = None,
                unit_id: int | None = None, department_id: int | None = None,
                phone: str | None = None, email: str | None = None) -> User:
    """Create a user (audited).

    :raise ValueError: when the username is taken.
    """
    username = normalise_username(username)
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise ValueError("username taken")
    user = User(username=username, full_name=full_name, role_code=role_code, unit_id=unit_id,
                department_id=department_id, session_nonce=new_nonce(), active=True,
                phone=phone or None, email=email or None,
                password_hash=hash_password(password) if password else None)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, after=audit.snapshot(user, USER_FIELDS))
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None (same cost either way)."""
    user = db.session.scalar(sa.select(User).where(User.username ==
                                                   normalise_username(username)[:60]))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        record_rehash(user, "password", actor=user)
    return user


def record_rehash(obj, secret: str, *, actor: User) -> None:
    """Audit that a password or PIN hash was replaced by one with the configured Argon2 cost
    (made with other parameters: an older default, or a test setting that must not stay)."""
    audit.record("auth.rehash", obj, actor=actor,
                 after={"secret": secret, "cost": list(configured_cost())})


def end_sessions(user: User) -> None:
    """Invalidate every session of ``user`` (logout, password change, disabling)."""
    user.session_nonce = new_nonce()


def revoke_all_devices(user: User) -> list[int]:
    """Revoke the user's active devices; returns their ids (the caller audits)."""
    devices = db.session.scalars(sa.select(Device).where(Device.user_id == user.id,
                                                         Device.revoked_at.is_(None))).all()
    for device in devices:
        device.revoked_at = clock.now()
    return [device.id for device in devices]


def update_user(user: User, data: dict[str, Any]) -> User:
    """Change name, role, scope unit and department; a new password ends the sessions.

    :param data: validated form data: ``full_name``, ``role_code``, ``unit_id``,
        ``department_id`` and optionally ``password``, ``phone`` and ``email`` (where
        reminders go, docs/reminders.md).
    """
    before = audit.snapshot(user, USER_FIELDS)
    for field in ("full_name", "role_code", "unit_id", "department_id"):
        setattr(user, field, data[field])
    for field in ("phone", "email"):
        if field in data:
            setattr(user, field, data[field] or None)
    changed_scope = (before["role_code"], before["unit_id"]) != (user.role_code, user.unit_id)
    if data.get("password"):
        user.password_hash = hash_password(data["password"])
    if data.get("password") or changed_scope:
        end_sessions(user)
    db.session.flush()
    after = audit.snapshot(user, USER_FIELDS) | {"password_changed": bool(data.get("password"))}
    audit.record("user.update", user, before=before, after=after)
    return user


def set_active(user: User, active: bool) -> User:
    """Enable or disable a user; disabling ends their sessions and revokes their devices."""
    before = audit.snapshot(user, USER_FIELDS)
    user.active = active
    revoked = []
    if not active:
        end_sessions(user)
        revoked = revoke_all_devices(user)
    db.session.flush()
    audit.record("user.enable" if active else "user.disable", user, before=before,
                 after=audit.snapshot(user, USER_FIELDS) | {"devices_revoked": revoked})
    return user


def change_password(user: User, new_password: str) -> User:
    """Set the user's own new password and end all their other sessions."""
    user.password_hash = hash_password(new_password)
    end_sessions(user)
    db.session.flush()
    audit.record("user.password_change", user, actor=user)
    return user
