"""The demo API client: a fixed, printed token, like the demo passwords (sample data only)."""

from __future__ import annotations

import sqlalchemy as sa

from ..accounts.passwords import sha256
from ..api.clients import TOKEN_PREFIX, create_client
from ..api.models import ApiClient
from ..extensions import db
from .accounts import PROVINCE_CODE, _valid_unit

NAME = "demo-api"
#: Printed by ``flask seed-demo`` (and so by scripts/run); never use outside a demo.
TOKEN = TOKEN_PREFIX + "demo-ketnoi-2026-mau"


def seed_api_client() -> tuple[str, str]:
    """Create the demo client if missing, bound to the demo province (so that it reads the
    province's approved reports), flushed, not committed; return (name, token)."""
    client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == NAME))
    if client is None:
        client, _random = create_client(NAME, unit=_valid_unit(PROVINCE_CODE))
        client.token_hash = sha256(TOKEN)
        db.session.flush()
    return NAME, TOKEN
