"""Offline outbox support on the server: the quarantine of refused submissions.

A phone's outbox sends a submission that the user may have made days earlier, offline. When
the server refuses it for a reason of state or scope (the period closed, the report was
approved or changed meanwhile, the village is no longer the user's), the phone moves the item
to its "needs attention" list, and the server keeps the copy it refused here, so that nothing
the village head typed is lost even if the phone is lost next (reliability.md §4.2 rule 6).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..accounts.models import User
from ..extensions import db


class SubmissionQuarantine(db.Model):
    """A submit the server refused, kept as it was posted (one row per user, UUID and content:
    retries of the same refused content do not pile up)."""

    __tablename__ = "submission_quarantine"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    client_uuid: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    #: The URL the phone posted to (it names the unit, form and period).
    path: so.Mapped[str] = so.mapped_column(sa.String(300))
    form_code: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    #: The unit of the URL; no foreign key: the row must survive whatever happens to the unit.
    unit_id: so.Mapped[int | None] = so.mapped_column(index=True)
    period_code: so.Mapped[str | None] = so.mapped_column(sa.String(30))
    #: The posted fields without the CSRF token: field name → list of values.
    payload: so.Mapped[dict] = so.mapped_column(sa.JSON)
    #: SHA-256 of the payload (sorted fields), to recognise a retry of the same content.
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    #: The refusal's stable code (``locked``, ``stale``, ``uuid_conflict``,
    #: ``already_started``, ``forbidden``) and the message the user was shown.
    error_code: so.Mapped[str] = so.mapped_column(sa.String(30))
    message: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)

    user: so.Mapped[User] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "client_uuid", "content_hash",
                            name="uq_submission_quarantine_once"),
    )
