"""Quiet hours: no reminder leaves between, by default, 21:00 and 07:00 province time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import current_app

from .. import clock


def window() -> tuple[time, time] | None:
    """(start, end) of the quiet hours, or None when there are none (an empty setting or
    the same start and end)."""
    setting = (current_app.config.get("REMINDER_QUIET_HOURS") or "").strip()
    if not setting:
        return None
    start, _sep, end = setting.partition("-")
    start_at, end_at = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    return None if start_at == end_at else (start_at, end_at)


def is_quiet(moment: datetime) -> bool:
    quiet = window()
    if quiet is None:
        return False
    start, end = quiet
    local = moment.astimezone(clock.zone()).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(moment: datetime) -> datetime:
    """``moment`` itself, or the end of the quiet hours it falls in (UTC)."""
    if not is_quiet(moment):
        return moment
    _start, end = window()
    local = moment.astimezone(clock.zone())
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate.astimezone(UTC)
