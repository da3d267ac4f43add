"""The audit table. The database refuses UPDATE and DELETE on it (triggers in migrations),
and each row is a link of a hash chain (:mod:`dantoc.audit.chain`)."""

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
    #: The row's place in the hash chain (1, 2, …), the previous link's hash and its own.
    seq: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    prev_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),
                      sa.Index("uq_audit_events_seq", "seq", unique=True))


class AuditChainHead(db.Model):
    """The last link of the audit chain (one row, id 1): locked by each transaction that
    writes audit rows, so links are given out one at a time."""

    __tablename__ = "audit_chain_head"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    seq: so.Mapped[int] = so.mapped_column(sa.Integer)
    hash: so.Mapped[str] = so.mapped_column(sa.String(64))
