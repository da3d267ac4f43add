"""Machine accounts of the API."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..accounts.models import Role
from ..catalogs.models import AdminUnit
from ..extensions import db


class ApiClient(db.Model):
    """A system that calls the API with a bearer token (the ministry, another instance).

    Only the SHA-256 of the token is stored: the token is 256 random bits, so a fast hash
    is enough and a database leak reveals no usable token. What the client may do is the
    verbs of its role (``api_client`` by default), checked by ``can()`` like a person's.
    """

    __tablename__ = "api_clients"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    role_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("roles.code"), index=True)
    #: The unit whose data the client may push (scope of future write services).
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("admin_units.id"),
                                                      index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    role: so.Mapped[Role] = so.relationship()
    unit: so.Mapped[AdminUnit | None] = so.relationship()

    #: ``can()`` reads these of any actor: a client is authenticated, in no department.
    is_authenticated = True
    department_id = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def username(self) -> str:
        """The name the audit trail shows for the client's actions."""
        return f"api:{self.name}"
