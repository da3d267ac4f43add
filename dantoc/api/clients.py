"""Machine accounts: create (the token is shown once), revoke, and authenticate a request.

Services flush and audit; the caller (a CLI command, later an admin screen) commits.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from .. import clock
from ..accounts.models import Role
from ..accounts.passwords import sha256
from ..audit import services as audit
from ..catalogs.models import AdminUnit
from ..extensions import db
from .models import ApiClient

#: The default role of a machine account (verbs: accounts/permissions.py DEFAULT_ROLES).
DEFAULT_ROLE = "api_client"
#: A prefix makes a leaked token recognisable to secret scanners and in logs.
TOKEN_PREFIX = "dtk_"  # noqa: S105  (a public prefix, not a secret)
FIELDS = ("name", "role_code", "unit_id", "revoked_at")


class ClientError(ValueError):
    """A client cannot be created or changed as asked (the message says why)."""


def new_token() -> str:
    """256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_client(name: str, role_code: str = DEFAULT_ROLE,
                  unit: AdminUnit | None = None) -> tuple[ApiClient, str]:
    """Create a client; returns it with its token, which is stored only as a hash.

    :raise ClientError: when the name is taken or empty, or the role does not exist.
    """
    name = name.strip()
    if not name or len(name) > 60:
        raise ClientError("the name must have 1 to 60 characters")
    if db.session.scalar(sa.select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise ClientError(f"a client named {name!r} exists already")
    if db.session.get(Role, role_code) is None:
        raise ClientError(f"no role {role_code!r}")
    token = new_token()
    client = ApiClient(name=name, token_hash=sha256(token), role_code=role_code,
                       unit_id=unit.id if unit else None)
    db.session.add(client)
    db.session.flush()
    audit.record("api.client.create", client, after=audit.snapshot(client, FIELDS))
    return client, token


def revoke_client(name: str) -> ApiClient:
    """Revoke a client's token at once (kept for the audit trail, never reactivated).

    :raise ClientError: when there is no such client or it is revoked already.
    """
    client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == name.strip()))
    if client is None:
        raise ClientError(f"no client named {name!r}")
    if not client.active:
        raise ClientError(f"{name!r} is revoked already")
    before = audit.snapshot(client, FIELDS)
    client.revoked_at = clock.now()
    db.session.flush()
    audit.record("api.client.revoke", client, before=before,
                 after=audit.snapshot(client, FIELDS))
    return client


def unit_valid_today(code: str) -> AdminUnit:
    """The unit version with ``code`` valid today (codes are reused: never by code alone).

    :raise ClientError: when there is none.
    """
    today = clock.today()
    unit = db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.code == code, AdminUnit.valid_from <= today,
        sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= today)))
    if unit is None:
        raise ClientError(f"no unit with code {code!r} is valid today")
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
