"""Machine accounts: create (the token is shown once), rotate, revoke, and authenticate a
request.

Services flush and audit; the caller (a CLI command, an admin screen) commits. A refused
input is a :class:`~dantoc.refusal.FieldError` naming its form field (``name``,
``role_code``, ``unit_id``), in the reader's language.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import clock
from ..accounts.models import Role
from ..accounts.passwords import sha256
from ..audit import services as audit
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..refusal import FieldError
from .models import ApiClient

#: The default role of a machine account (verbs: accounts/permissions.py DEFAULT_ROLES).
DEFAULT_ROLE = "api_client"
#: The roles the admin screen offers (the CLI takes any role, e.g. ``admin`` for a test).
API_ROLES = ("api_client", "api_reporter")
#: A prefix makes a leaked token recognisable to secret scanners and in logs.
TOKEN_PREFIX = "dtk_"  # noqa: S105  (a public prefix, not a secret)
NAME_MAX = 60
#: What the audit trail shows of a client: never its token, nor the token's hash.
FIELDS = ("name", "role_code", "unit_id", "revoked_at")


def new_token() -> str:
    """256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _taken() -> FieldError:
    return FieldError(_("An API client with this name exists already."), "name")


def create_client(name: str, role_code: str = DEFAULT_ROLE,
                  unit: AdminUnit | None = None) -> tuple[ApiClient, str]:
    """Create a client; returns it with its token, which is stored only as a hash.

    :raise FieldError: when the name is empty, too long or taken, or the role does not
        exist; nothing is written then.
    """
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise FieldError(_("The name must have 1 to %(max)s characters.", max=NAME_MAX),
                         "name")
    if db.session.scalar(sa.select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise _taken()
    if db.session.get(Role, role_code) is None:
        raise FieldError(_("There is no such role."), "role_code")
    token = new_token()
    client = ApiClient(name=name, token_hash=sha256(token), role_code=role_code,
                       unit_id=unit.id if unit else None)
    try:
        with db.session.begin_nested():  # a concurrent create with the same name loses here
            db.session.add(client)
    except sa.exc.IntegrityError:
        raise _taken() from None
    audit.record("api.client.create", client, after=audit.snapshot(client, FIELDS))
    return client, token


def _active(client: ApiClient) -> None:
    if not client.active:
        raise FieldError(_("The API client %(name)s is revoked already.",
                           name=client.name))


def rotate_client(client: ApiClient) -> str:
    """Give ``client`` a new token and return it (shown once); the old one stops working at
    once. Only the new token's hash is stored; the audit row names neither.

    :raise FieldError: when the client is revoked (a revoked client is never reactivated).
    """
    _active(client)
    token = new_token()
    client.token_hash = sha256(token)
    db.session.flush()
    snapshot = audit.snapshot(client, FIELDS)
    audit.record("api.client.rotate", client, before=snapshot,
                 after={**snapshot, "token_replaced": True})
    return token


def revoke_client(client: ApiClient | str) -> ApiClient:
    """Revoke a client's token at once (kept for the audit trail, never reactivated).

    :param client: the client, or its name (the CLI).
    :raise FieldError: when there is no such client or it is revoked already.
    """
    if isinstance(client, str):
        client = by_name(client)
    _active(client)
    before = audit.snapshot(client, FIELDS)
    client.revoked_at = clock.now()
    db.session.flush()
    audit.record("api.client.revoke", client, before=before,
                 after=audit.snapshot(client, FIELDS))
    return client


def by_name(name: str) -> ApiClient:
    """The client named ``name``.

    :raise FieldError: when there is none.
    """
    client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == name.strip()))
    if client is None:
        raise FieldError(_("There is no API client named %(name)s.", name=name))
    return client


def unit_valid_today(code: str) -> AdminUnit:
    """The unit version with ``code`` valid today (codes are reused: never by code alone).

    :raise FieldError: when there is none.
    """
    today = clock.today()
    unit = db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.code == code, AdminUnit.valid_from <= today,
        sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= today)))
    if unit is None:
        raise FieldError(_("No administrative unit with code %(code)s is valid today.",
                           code=code), "unit_id")
    return unit


def client_for_token(token: str | None) -> ApiClient | None:
    """The active client holding ``token``, or None (unknown, malformed or revoked)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    client = db.session.scalar(sa.select(ApiClient).where(
        ApiClient.token_hash == sha256(token)))
    return client if client is not None and client.active else None


def clients() -> list[ApiClient]:
    return list(db.session.scalars(sa.select(ApiClient).order_by(ApiClient.name)))
