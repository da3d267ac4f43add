"""Reminder decisions and the outbox of messages they produce."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..extensions import db

SMS, EMAIL = "sms", "email"
CHANNELS = (SMS, EMAIL)
#: Outbox states: pending (waiting, maybe for a retry), sending (claimed by a worker), sent,
#: failed (gave up; shown to the commune), unsure (its worker died after handing it to the
#: gateway, which cannot tell whether it went out: not sent again, shown to the commune).
PENDING, SENDING, SENT, FAILED, UNSURE = "pending", "sending", "sent", "failed", "unsure"
STATES = (PENDING, SENDING, SENT, FAILED, UNSURE)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Reminder(db.Model):
    """The decision to remind one village of one form and period on one day: at most one a
    day (the unique constraint), whatever the number of workers deciding at once."""

    __tablename__ = "reminders"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    form_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("forms.id"))
    period_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("periods.id"))
    day: so.Mapped[date] = so.mapped_column(sa.Date)
    closes_on: so.Mapped[date] = so.mapped_column(sa.Date)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)

    unit = so.relationship("AdminUnit")
    form = so.relationship("Form")
    period = so.relationship("Period")
    messages: so.Mapped[list[ReminderMessage]] = so.relationship(back_populates="reminder")

    __table_args__ = (
        sa.UniqueConstraint("unit_id", "form_id", "period_id", "day",
                            name="uq_reminders_once_a_day"),
    )


class ReminderMessage(db.Model):
    """One message to send (the outbox row), written with its reminder; ``key`` is its
    idempotency key, sent to the gateway so that a retry after a crash is not a second SMS."""

    __tablename__ = "reminder_messages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    reminder_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("reminders.id"), index=True)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    channel: so.Mapped[str] = so.mapped_column(sa.String(10))
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    subject: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default=PENDING)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_try_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                        default=clock.now)
    claimed_by: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    claimed_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    #: Committed just before the gateway is given the message (SMTP: before DATA); set on a
    #: stale claim, the message may have left (docs/reminders.md).
    handed_over_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    provider_id: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    reminder: so.Mapped[Reminder] = so.relationship(back_populates="messages")
    user = so.relationship("User")

    __table_args__ = (
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(_in("state", STATES), name="state"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        sa.CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent"),
        sa.Index("ix_reminder_messages_due", "state", "next_try_at"),
    )
