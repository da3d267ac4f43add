"""Write operations on accounts."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from ..audit import services as audit
from ..extensions import db
from .models import Role, RoleVerb, User
from .passwords import hash_password, verify_password
from .permissions import DEFAULT_ROLES


def new_nonce() -> str:
    return secrets.token_hex(16)


def seed_roles() -> None:
    """Create the default roles and their verbs where they are missing."""
    for code, (name, verbs) in DEFAULT_ROLES.items():
        if db.session.get(Role, code) is None:
            db.session.add(Role(code=code, name=name))
            db.session.flush()
            db.session.add_all(RoleVerb(role_code=code, verb=verb) for verb in verbs)
    db.session.flush()


def create_user(username: str, full_name: str, role_code: str, *, password: str | None = None,
                unit_id: int | None = None, department_id: int | None = None) -> User:
    """Create a user (audited).

    :raise ValueError: when the username is taken.
    """
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise ValueError("username taken")
    user = User(username=username, full_name=full_name, role_code=role_code, unit_id=unit_id,
                department_id=department_id, session_nonce=new_nonce(),
                password_hash=hash_password(password) if password else None)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, after=audit.snapshot(
        user, ("username", "full_name", "role_code", "unit_id", "department_id")))
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None (same cost either way)."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    return user if ok and user is not None and user.active else None


def end_sessions(user: User) -> None:
    """Invalidate every session of ``user`` (logout, password change, disabling)."""
    user.session_nonce = new_nonce()
