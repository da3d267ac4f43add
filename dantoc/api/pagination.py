"""Cursor pagination: a page is the next ``limit`` rows in id order after the cursor.

The cursor is opaque to clients: the resource's name and the last id seen, signed with the
application's secret key, so a cursor from another resource (or a made-up one) is refused
instead of silently returning the wrong rows. Rows never move between pages when others
are added (new ids come after every cursor), which is what makes a sync resumable: a
client that stored the cursor of its last committed page continues from there.

The change feed (``?changed_since=``) pages in ``(updated_at, id)`` order instead
(:func:`changes_page`): a row changed while a client reads moves behind its cursor and
comes again, so nothing changed is missed; its cursor names the feed, not the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from ..extensions import db
from ..refusal import Refusal

SALT = "dantoc.api.cursor"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def encode(resource: str, last_id: int) -> str:
    return _serializer().dumps([resource, last_id])


def decode(resource: str, cursor: str | None) -> int:
    """The last id of the previous page (0 for the first page).

    :raise Refusal: ``bad_cursor`` when the cursor is not one this server gave for
        ``resource``.
    """
    if not cursor:
        return 0
    try:
        name, last_id = _serializer().loads(cursor)
    except (BadSignature, ValueError, TypeError):
        raise Refusal("bad_cursor", field="cursor") from None
    if name != resource or not isinstance(last_id, int) or last_id < 0:
        raise Refusal("bad_cursor", field="cursor")
    return last_id


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str | None

    @property
    def links(self) -> dict:
        """``next_cursor`` and the URL of the next page (same parameters, new cursor)."""
        if self.next_cursor is None:
            return {"next_cursor": None, "next": None}
        args = request.args.to_dict() | {"cursor": self.next_cursor}
        return {"next_cursor": self.next_cursor,
                "next": url_for(request.endpoint, **(request.view_args or {}), **args)}


def page(resource: str, query: sa.Select, id_column, *, limit: int,
         cursor: str | None) -> Page:
    """One page of ``query`` (which selects model objects) in ``id_column`` order."""
    after = decode(resource, cursor)
    rows = list(db.session.scalars(
        query.where(id_column > after).order_by(id_column).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, encode(resource, rows[-1].id))


def _moment(value: datetime) -> datetime:
    """Stored moments are UTC; SQLite gives them back without their zone."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def changes_page(resource: str, query: sa.Select, model, *, since: datetime, limit: int,
                 cursor: str | None) -> Page:
    """One page of the rows of ``model`` changed at or after ``since``, in
    ``(updated_at, id)`` order after the cursor (which names ``resource``'s feed)."""
    feed = f"{resource}:changes"
    after_moment, after_id = _moment(since), 0
    if cursor:
        try:
            name, moment, last_id = _serializer().loads(cursor)
            after_moment = datetime.fromisoformat(moment)
        except (BadSignature, ValueError, TypeError):
            raise Refusal("bad_cursor", field="cursor") from None
        if name != feed or not isinstance(last_id, int) or after_moment.tzinfo is None:
            raise Refusal("bad_cursor", field="cursor")
        after_id = last_id
    stamp, key = model.updated_at, model.id
    rows = list(db.session.scalars(
        query.where(sa.or_(stamp > after_moment, sa.and_(stamp == after_moment,
                                                          key > after_id)))
        .order_by(stamp, key).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, _serializer().dumps([feed, _moment(last.updated_at).isoformat(),
                                           last.id]))
