"""Users and signed-in clients: ``make_user(role="province_officer")`` and
``signed_in(client, user)``.

``signed_in`` writes Flask-Login's session keys (and the app's session clock) into the
client's cookie, as :func:`dantoc.accounts.sessions.start` does at a real sign-in: no sign-in
form, no password check. Only the sign-in tests post the real form (with :data:`PASSWORD`).
"""

from __future__ import annotations

import itertools
from datetime import date

import sqlalchemy as sa

from dantoc.accounts import services as accounts
from dantoc.accounts.models import User
from dantoc.accounts.passwords import hash_password
from dantoc.catalogs.models import AdminUnit, Department
from dantoc.extensions import db
from tests.client import FreshClient
from tests.conftest import ARGON2_TEST_COST

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD, ARGON2_TEST_COST)  # the test apps' cost: no rehash at sign-in
_seq = itertools.count(1)


def unit(code: str, on: str = "2025-07-01") -> AdminUnit:
    """The unit with ``code`` valid on the given ISO date."""
    day = date.fromisoformat(on)
    return db.session.scalar(
        sa.select(AdminUnit).where(
            AdminUnit.code == code,
            AdminUnit.valid_from <= day,
            sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= day),
        )
    )


def make_user(role: str = "province_officer", *, unit_code: str | None = "12",
              scope: AdminUnit | None = None, department: Department | None = None,
              department_id: int | None = None, username: str | None = None,
              password: bool = True, locale: str | None = None, commit=True) -> User:
    """Create a user of ``role`` scoped to ``scope`` (or to the unit ``unit_code`` valid on
    2025-07-01; ``unit_code=None`` and no ``scope``: unscoped), with the shared test password
    unless ``password=False``; ``locale="en"`` for pages the assertions read in English."""
    if scope is None and unit_code:
        scope = unit(unit_code)
    if department is not None:
        department_id = department.id
    user = accounts.create_user(
        username or f"{role}-{next(_seq)}", f"Test {role}", role,
        unit_id=scope.id if scope else None, department_id=department_id)
    if password:
        user.password_hash = _HASH
    if locale is not None:
        user.locale = locale
    if commit:
        db.session.commit()
    return user


def signed_in(client, user: User, device_id: int | None = None, *, ago: int = 0):
    """Put a signed-in session for ``user`` in ``client``'s cookie (no password check);
    ``ago`` seconds since sign-in, ``device_id`` for an enrolled phone's session. Returns the
    client."""
    from dantoc.accounts import sessions

    moment = int(sessions.now()) - ago
    with client.session_transaction() as session:
        session.clear()
        session.permanent = True
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["auth_at"] = session["seen_at"] = moment
        if device_id is not None:
            session["device_id"] = device_id
    return client


def fresh_client(app) -> FreshClient:
    """Another browser: a client with its own cookies."""
    return FreshClient(app, app.response_class, use_cookies=True)


def browser(app, user: User | None, *, locale: str | None = "en") -> FreshClient:
    """A new client signed in as ``user`` (anonymous for ``None``); English pages unless
    told otherwise (the assertions read the English msgids)."""
    client = fresh_client(app)
    if user is None:
        return client
    if locale is not None:
        user.locale = locale
        db.session.commit()
    return signed_in(client, user)


def officer(app, role: str = "commune_officer", unit_code: str | None = "03388", *,
            scope: AdminUnit | None = None) -> tuple[User | None, FreshClient]:
    """(user, signed-in browser) of ``role`` scoped to ``scope`` or to the unit
    ``unit_code``; ``unit_code=None`` and no ``scope``: no user, an anonymous browser."""
    user = make_user(role, unit_code=unit_code, scope=scope) if scope or unit_code else None
    return user, browser(app, user)


def make_officer(app, unit_code: str = "03388", role: str = "commune_officer"):
    """(user, signed-in browser) of an officer scoped to ``unit_code``; English pages."""
    return officer(app, role, unit_code)


def sign_in_as(app, user: User) -> FreshClient:
    """A separate browser signed in as ``user``."""
    return signed_in(fresh_client(app), user)
