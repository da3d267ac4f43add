"""Send the outbox's due messages: claim, send, record — with retries and backoff.

A message is claimed (``state = 'sending'``, committed) before the gateway is called, so two
workers never send it at once. If the worker dies after the claim, the message is taken back
once ``REMINDER_CLAIM_SECONDS`` have passed and sent again with the same idempotency key,
which the gateway uses to drop a duplicate. A refusal or timeout is retried after
``REMINDER_BACKOFF_SECONDS`` × 2^(attempt − 1); after ``REMINDER_MAX_ATTEMPTS`` the message is
failed, audited, and listed on the commune's reminders page. Nothing leaves in quiet hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import clock
from ..audit import services as audit
from ..extensions import db
from . import gateways, quiet
from .models import FAILED, PENDING, SENDING, SENT, ReminderMessage


def _due(now: datetime):
    stale = now - timedelta(seconds=current_app.config["REMINDER_CLAIM_SECONDS"])
    return sa.or_(sa.and_(ReminderMessage.state == PENDING, ReminderMessage.next_try_at <= now),
                  sa.and_(ReminderMessage.state == SENDING, ReminderMessage.claimed_at < stale))


def _claim(message_id: int, worker: str, now: datetime) -> bool:
    taken = db.session.execute(
        sa.update(ReminderMessage).where(ReminderMessage.id == message_id, _due(now))
        .values(state=SENDING, claimed_by=worker, claimed_at=now,
                attempts=ReminderMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return taken.rowcount == 1


def _finish(message_id: int, worker: str, **values) -> bool:
    done = db.session.execute(
        sa.update(ReminderMessage).where(ReminderMessage.id == message_id,
                                         ReminderMessage.claimed_by == worker,
                                         ReminderMessage.state == SENDING)
        .values(claimed_by=None, claimed_at=None, **values)
        .execution_options(synchronize_session=False))
    return done.rowcount == 1


def send_due(worker: str, now: datetime | None = None, limit: int = 100) -> int:
    """Send up to ``limit`` due messages; the number sent."""
    now = now or clock.now()
    if quiet.is_quiet(now):
        return 0
    ids = list(db.session.scalars(sa.select(ReminderMessage.id).where(_due(now))
                                  .order_by(ReminderMessage.next_try_at, ReminderMessage.id)
                                  .limit(limit)))
    db.session.rollback()
    senders, sent = {}, 0
    for message_id in ids:
        if not _claim(message_id, worker, now):
            continue  # another worker took it
        message = db.session.get(ReminderMessage, message_id, populate_existing=True)
        sender = senders.setdefault(message.channel, gateways.for_channel(message.channel))
        outgoing = gateways.Outgoing(message.recipient, message.body, message.key,
                                     message.subject)
        try:
            provider_id = sender.send(outgoing)
        except gateways.NotConfigured as error:
            _retry(message, worker, str(error), now + timedelta(hours=1), count=False)
        except gateways.SendFailed as error:
            _failed_attempt(message, worker, str(error), now)
        else:
            if _finish(message_id, worker, state=SENT, sent_at=clock.now(),
                       provider_id=provider_id[:100], last_error=None):
                audit.record("reminder.sent", message, actor=None, after={
                    "channel": message.channel, "attempts": message.attempts,
                    "provider_id": provider_id[:100]})
                sent += 1
            db.session.commit()
    return sent


def _retry(message: ReminderMessage, worker: str, error: str, when: datetime,
           count: bool = True) -> None:
    values = {"state": PENDING, "next_try_at": quiet.next_allowed(when),
              "last_error": error[:500]}
    if not count:
        values["attempts"] = ReminderMessage.attempts - 1
    _finish(message.id, worker, **values)
    db.session.commit()


def _failed_attempt(message: ReminderMessage, worker: str, error: str, now: datetime) -> None:
    config = current_app.config
    if message.attempts < config["REMINDER_MAX_ATTEMPTS"]:
        delay = timedelta(seconds=config["REMINDER_BACKOFF_SECONDS"] * 2 ** (message.attempts - 1))
        _retry(message, worker, error, now + delay)
        return
    if _finish(message.id, worker, state=FAILED, last_error=error[:500]):
        audit.record("reminder.failed", message, actor=None, after={
            "channel": message.channel, "attempts": message.attempts, "error": error[:200]})
    db.session.commit()
