"""Send the outbox's due messages: claim, hand over, send, record — with retries and backoff.

A message is claimed (``state = 'sending'``, ``claimed_by``, committed) before the gateway is
called, so two workers never send it at once; the claim is a lease of
``REMINDER_CLAIM_SECONDS``. Just before the message leaves (SMTP: once the server has taken
sender and recipient, before DATA; SMS: before the HTTP request) the worker commits
``handed_over_at``. If the worker dies, the message is taken back once its lease has run out,
and then:

- never handed over: the gateway never had it, it is sent normally;
- handed over, SMS: sent again with the same ``RequestId``, which eSMS refuses to send twice
  within 24 hours (its "duplicate" answer, ``SMS_ALREADY_SENT_CODES``, counts as sent); after
  ``SMS_DEDUPE_HOURS`` the RequestId is forgotten by eSMS and the message is ``unsure``;
- handed over, e-mail: SMTP cannot be asked whether it took the message, so it is **not sent
  again**: ``unsure``, audited and shown to the commune (docs/reminders.md).

A refusal or timeout is retried after ``REMINDER_BACKOFF_SECONDS`` × 2^(attempt − 1); after
``REMINDER_MAX_ATTEMPTS`` the message is failed, audited, and listed on the commune's
reminders page. Nothing leaves in quiet hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import clock
from ..audit import services as audit
from ..extensions import db
from . import gateways, quiet
from .models import EMAIL, FAILED, PENDING, SENDING, SENT, UNSURE, ReminderMessage


class LeaseLost(Exception):
    """Another worker took the message over (our lease ran out): hand nothing over."""


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


def _hand_over(message_id: int, worker: str):
    """The callback a gateway calls just before the message leaves: commit the moment
    (the first one is kept), or stop if another worker owns the message now."""
    def hand_over() -> None:
        recorded = db.session.execute(
            sa.update(ReminderMessage).where(ReminderMessage.id == message_id,
                                             ReminderMessage.claimed_by == worker,
                                             ReminderMessage.state == SENDING)
            .values(handed_over_at=sa.func.coalesce(ReminderMessage.handed_over_at,
                                                     clock.now()))
            .execution_options(synchronize_session=False))
        db.session.commit()
        if recorded.rowcount != 1:
            raise LeaseLost(message_id)
    return hand_over


def _may_resend(message: ReminderMessage, now: datetime) -> bool:
    """Whether a message handed over by an earlier attempt may be given to the gateway
    again without risking a second copy: only an SMS within eSMS's RequestId memory."""
    if message.handed_over_at is None:
        return True
    if message.channel == EMAIL:
        return False
    handed = message.handed_over_at
    handed = handed if handed.tzinfo else handed.replace(tzinfo=now.tzinfo)
    return now - handed < timedelta(hours=current_app.config["SMS_DEDUPE_HOURS"])


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
        if not _may_resend(message, now):
            _unsure(message, worker, "the worker stopped after handing the message over")
            continue
        sender = senders.setdefault(message.channel, gateways.for_channel(message.channel))
        outgoing = gateways.Outgoing(message.recipient, message.body, message.key,
                                     message.subject, message.handed_over_at is not None)
        try:
            provider_id = sender.send(outgoing, _hand_over(message_id, worker))
        except LeaseLost:
            db.session.rollback()
            continue
        except gateways.NotConfigured as error:
            _retry(message, worker, str(error), now + timedelta(hours=1), count=False)
        except gateways.SendFailed as error:
            if error.maybe_sent and message.channel == EMAIL:
                _unsure(message, worker, str(error))  # RFC 1047: no answer after DATA
            else:  # a clear refusal of a first hand-over: it did not leave
                forget = not (error.maybe_sent or outgoing.handed_before)
                _failed_attempt(message, worker, str(error), now, forget)
        else:
            if _finish(message_id, worker, state=SENT, sent_at=clock.now(),
                       provider_id=provider_id[:100], last_error=None):
                audit.record("reminder.sent", message, actor=None, after={
                    "channel": message.channel, "attempts": message.attempts,
                    "provider_id": provider_id[:100]})
                sent += 1
            db.session.commit()
    return sent


def _unsure(message: ReminderMessage, worker: str, error: str) -> None:
    """Handed over, outcome unknown: not sent again (no second copy), shown to the commune."""
    if _finish(message.id, worker, state=UNSURE, last_error=error[:500]):
        audit.record("reminder.unsure", message, actor=None, after={
            "channel": message.channel, "attempts": message.attempts, "error": error[:200]})
    db.session.commit()


def _retry(message: ReminderMessage, worker: str, error: str, when: datetime,
           count: bool = True, forget: bool = False) -> None:
    values = {"state": PENDING, "next_try_at": quiet.next_allowed(when),
              "last_error": error[:500]}
    if forget:
        values["handed_over_at"] = None
    if not count:
        values["attempts"] = ReminderMessage.attempts - 1
    _finish(message.id, worker, **values)
    db.session.commit()


def _failed_attempt(message: ReminderMessage, worker: str, error: str, now: datetime,
                    forget: bool = False) -> None:
    config = current_app.config
    if message.attempts < config["REMINDER_MAX_ATTEMPTS"]:
        delay = timedelta(seconds=config["REMINDER_BACKOFF_SECONDS"] * 2 ** (message.attempts - 1))
        _retry(message, worker, error, now + delay, forget=forget)
        return
    if _finish(message.id, worker, state=FAILED, last_error=error[:500]):
        audit.record("reminder.failed", message, actor=None, after={
            "channel": message.channel, "attempts": message.attempts, "error": error[:200]})
    db.session.commit()
