"""Who to remind today, decided in one transaction with the messages to send (the outbox).

A village is reminded when a form filled by villages is due in an open period that closes
within ``REMINDER_DAYS_BEFORE`` days and the village has not sent it (not started, draft
or returned: the same set as the completeness page's "to remind"). At most one reminder per
village, form, period and day — a unique constraint, so two workers planning at once cannot
both remind. Each village head with a phone gets an SMS in their language; a village with
no reachable head is reported by e-mail to its commune's officers, who can enter the report
on its behalf.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from .. import clock
from ..accounts.models import User
from ..audit import services as audit
from ..catalogs.models import AdminLevel, AdminUnit
from ..extensions import db
from ..i18n.content import tr
from ..i18n.selection import use_locale
from ..indicators.models import Period
from ..reports.completeness import REMIND
from ..submissions import queries as entry_queries
from ..submissions import states as entry_states
from ..submissions.models import Submission
from . import quiet
from .models import EMAIL, SMS, Reminder, ReminderMessage

DEFAULT_LOCALE = "vi"


def _village_level() -> AdminLevel | None:
    return db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == "village"))


def _villages(level_id: int, day: date) -> list[AdminUnit]:
    return list(db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.level_id == level_id, AdminUnit.valid_from <= day,
        sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= day))))


def late_villages(day: date) -> list[tuple[object, Period, AdminUnit]]:
    """(form version, period, village) for every village to remind on ``day``."""
    level = _village_level()
    if level is None:
        return []
    horizon = day + timedelta(days=current_app.config["REMINDER_DAYS_BEFORE"])
    villages = _villages(level.id, day)
    found = []
    for version in entry_queries.published_for_level(level.id):
        for period in entry_queries.open_periods(version.period_type, day):
            if period.closes_on > horizon:
                continue
            states = dict(db.session.execute(sa.select(Submission.unit_id, Submission.state)
                                             .where(Submission.form_id == version.form_id,
                                                    Submission.period_id == period.id)).all())
            found.extend((version, period, v) for v in villages
                         if states.get(v.id, entry_states.NOT_STARTED) in REMIND)
    return found


def _locale(user: User) -> str:
    registry = current_app.extensions["dantoc_locales"]
    return user.locale if user.locale and user.locale in registry else DEFAULT_LOCALE


def _sms_body(version, period: Period, village: AdminUnit, day: date) -> str:
    return _("Reminder: %(village)s has not sent \u201c%(form)s\u201d for %(period)s. "
             "Deadline %(deadline)s (%(days)s days left).", village=tr(village, "name"),
             form=version.form.name, period=period.name,
             deadline=period.closes_on.strftime("%d/%m/%Y"),
             days=(period.closes_on - day).days)


def _email(version, period: Period, village: AdminUnit, day: date) -> tuple[str, str]:
    subject = _("%(village)s has not sent its report", village=tr(village, "name"))
    body = _("%(village)s has not sent \u201c%(form)s\u201d for %(period)s; the deadline is "
             "%(deadline)s (%(days)s days left). No village head of it can be reached by "
             "SMS: call them, or enter the report on the village's behalf.",
             village=tr(village, "name"), form=version.form.name, period=period.name,
             deadline=period.closes_on.strftime("%d/%m/%Y"),
             days=(period.closes_on - day).days)
    return subject, body


def _recipients(village: AdminUnit) -> list[tuple[str, User, str]]:
    """(channel, user, address): the heads with a phone; else the commune's officers."""
    heads = db.session.scalars(sa.select(User).where(
        User.role_code == "village_head", User.unit_id == village.id, User.active.is_(True),
        User.phone.is_not(None)).order_by(User.id))
    found = [(SMS, user, user.phone) for user in heads if user.phone.strip()]
    if found or village.parent_id is None:
        return found
    officers = db.session.scalars(sa.select(User).where(
        User.role_code == "commune_officer", User.unit_id == village.parent_id,
        User.active.is_(True), User.email.is_not(None)).order_by(User.id))
    return [(EMAIL, user, user.email) for user in officers if user.email.strip()]


def _decide(version, period: Period, village: AdminUnit, day: date,
            send_at: datetime) -> Reminder | None:
    """The reminder and its messages, or None when the village was reminded today."""
    reminder = Reminder(unit_id=village.id, form_id=version.form_id, period_id=period.id,
                        day=day, closes_on=period.closes_on)
    try:
        with db.session.begin_nested():
            db.session.add(reminder)
            db.session.flush()
    except sa.exc.IntegrityError:
        return None  # another worker (or an earlier run) reminded this village today
    for channel, user, address in _recipients(village):
        locale = _locale(user)
        with use_locale(locale):
            if channel == SMS:
                subject, body = None, _sms_body(version, period, village, day)
            else:
                subject, body = _email(version, period, village, day)
        message = ReminderMessage(reminder=reminder, user_id=user.id, channel=channel,
                                  recipient=address.strip(), locale=locale, subject=subject,
                                  body=body, key=_key(),
                                  next_try_at=send_at)
        db.session.add(message)
        db.session.flush()
        audit.record("reminder.queued", message, actor=None, after={
            "village": village.code, "form": version.form.code, "period": period.code,
            "channel": channel, "user_id": user.id})
    return reminder


def _key() -> str:
    """The message's idempotency key (eSMS RequestId, e-mail Message-ID): random, so that
    no other message ever had it, on another installation sharing the eSMS account or after
    a database is restored (numbered keys would repeat, and eSMS would take a new message
    for a duplicate and drop it)."""
    return uuid.uuid4().hex


def plan(moment: datetime | None = None, *, commit: bool = True) -> int:
    """Decide today's reminders and write their messages; the count decided. ``commit``
    False leaves the commit to the caller (a job commits with its end state)."""
    moment = moment or clock.now()
    day = clock.local_day(moment)
    send_at = quiet.next_allowed(moment)
    count, done = 0, {}
    for version, period, village in late_villages(day):
        key = (version.form_id, period.id)
        if key not in done:  # reminded earlier today: skipped without a failing insert
            done[key] = set(db.session.scalars(sa.select(Reminder.unit_id).where(
                Reminder.form_id == version.form_id, Reminder.period_id == period.id,
                Reminder.day == day)))
        if village.id in done[key]:
            continue
        if _decide(version, period, village, day, send_at) is not None:
            count += 1
    if commit:
        db.session.commit()
    return count
