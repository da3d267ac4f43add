"""Reads of the audit trail for the viewer."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from .models import AuditEvent


def _start_of(day, tz) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def events(filters: dict, tz=UTC) -> sa.Select:
    """Audit events matching the viewer's filters, newest first.

    :param filters: ``actor`` (exact username), ``action`` (exact, or a prefix ending with
        "."), ``object_type``, ``object_id``, ``date_from`` and ``date_to`` (local days).
    """
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.get("actor"):
        query = query.where(AuditEvent.actor_name == filters["actor"].strip().lower())
    action = (filters.get("action") or "").strip()
    if action.endswith("."):
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    elif action:
        query = query.where(AuditEvent.action == action)
    for field in ("object_type", "object_id"):
        if filters.get(field):
            query = query.where(getattr(AuditEvent, field) == filters[field].strip())
    if filters.get("date_from"):
        query = query.where(AuditEvent.at >= _start_of(filters["date_from"], tz))
    if filters.get("date_to"):
        query = query.where(AuditEvent.at < _start_of(filters["date_to"] + timedelta(days=1),
                                                      tz))
    return query
