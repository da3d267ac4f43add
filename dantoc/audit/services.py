"""Write audit rows. Called by every service function that changes state."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from .. import clock
from ..extensions import db
from . import chain
from .models import AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: Any, fields: tuple[str, ...] | None = None) -> dict:
    """The column values of a model object, as JSON-safe data."""
    names = fields or tuple(c.key for c in obj.__table__.columns)
    return {name: _jsonable(getattr(obj, name)) for name in names}


def record(
    action: str,
    obj: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    actor: Any = None,
) -> SimpleNamespace:
    """Add one audit row to the current transaction (written at once, by one ``INSERT``
    of the table: no unit of work to flush at commit). Returns the row's values (with the
    link: ``seq``, ``prev_hash``, ``hash``) as plain attributes, not a mapped
    :class:`AuditEvent`: building one cost more than its ``INSERT`` (every submit writes a
    row).

    :param action: a dotted verb such as ``catalog.unit.create``.
    :param obj: the changed object; its table name and primary key are recorded.
    :param actor: defaults to the signed-in user, or the system when there is none.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    object_pk = getattr(obj, "id", None)
    event = SimpleNamespace(
        at=clock.now(),
        action=action,
        object_type=getattr(obj, "__tablename__", None),
        object_id=str(object_pk) if object_pk is not None else None,
        before=_jsonable(before),
        after=_jsonable(after),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or ("system" if actor is None else None),
        actor_role=getattr(actor, "role_code", None),
        ip=request.remote_addr if has_request_context() else None,
    )
    chain.link(event)
    db.session.execute(AuditEvent.__table__.insert(), vars(event))
    return event

