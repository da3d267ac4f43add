"""The audit table. The database refuses UPDATE and DELETE on it (triggers in migrations)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..extensions import db


class AuditEvent(db.Model):
    """Who did what to which object, with the state before and after."""

    __tablename__ = "audit_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True), default=clock.now)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.Integer, index=True)
    actor_name: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    actor_role: so.Mapped[str | None] = so.mapped_column(sa.String(30))
    action: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    object_type: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    object_id: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    before: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    after: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))

    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)
