"""Test factories with sensible defaults: ``make_user(role="province_officer")``."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from dantoc.accounts import services as accounts
from dantoc.accounts.passwords import hash_password
from dantoc.catalogs.models import AdminUnit
from dantoc.extensions import db
from tests.conftest import ARGON2_TEST_COST

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD, ARGON2_TEST_COST)  # the test apps' cost: no rehash at sign-in
_seq = itertools.count(1)


def unit(code: str, on: str = "2025-07-01") -> AdminUnit:
    """The unit with ``code`` valid on the given ISO date."""
    from datetime import date

    day = date.fromisoformat(on)
    return db.session.scalar(
        sa.select(AdminUnit).where(
            AdminUnit.code == code,
            AdminUnit.valid_from <= day,
            sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= day),
        )
    )


def make_user(role: str = "province_officer", *, unit_code: str | None = "12",
              department_id: int | None = None, username: str | None = None, commit=True):
    """Create a user with the shared test password."""
    scope = unit(unit_code) if unit_code else None
    user = accounts.create_user(
        username or f"{role}-{next(_seq)}", f"Test {role}", role,
        unit_id=scope.id if scope else None, department_id=department_id)
    user.password_hash = _HASH
    if commit:
        db.session.commit()
    return user
