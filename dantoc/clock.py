"""The one clock of the application: the moment in UTC, and the day in the province.

Every timestamp written is :func:`now` (timezone-aware, UTC); every date question (is the
period open, is the unit valid, is the report late) is asked of :func:`today`, the calendar
day in the province's time zone (``DANTOC_TIMEZONE``, Asia/Ho_Chi_Minh by default), so a
date filter does not flip at 17:00 UTC. Tests that need another moment set the period's
dates, not the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def now() -> datetime:
    """This moment, timezone-aware, in UTC (what every ``*_at`` column stores)."""
    return datetime.now(UTC)


def zone() -> ZoneInfo:
    """The province's time zone (``BABEL_DEFAULT_TIMEZONE``, set from ``DANTOC_TIMEZONE``)."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def today() -> date:
    """Today's date in the province's time zone."""
    return datetime.now(zone()).date()


def local_day(moment: datetime) -> date:
    """The calendar day of ``moment`` in the province's time zone (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone()).date()
