"""``Idempotency-Key`` on the API's POST routes: a client may send the same write again
(a timeout, a dropped answer, a restarted sync) and get the first answer, not a second write.

The first successful answer to a key is stored (status, body, where it points, the SHA-256
of the method, path and body) **in the same transaction as the write**: the decorated view
flushes and does not commit; :func:`idempotent` commits the write together with the key.
A request with a key already stored for the same client:

- with the same method, path and body: the stored answer, with ``Idempotent-Replayed: true``;
  nothing runs again;
- with anything else: 422 ``idempotency_key_reused``, nothing written.

Keys are per client (two clients may use the same key). A refused request (4xx) stores
nothing, so a corrected request may use its key again. Two requests with the same key at
the same moment: the table's unique constraint lets one store its answer; the other one's
write is rolled back and it answers with the winner's (replayed) answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import wraps

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, make_response, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..extensions import db
from ..web.errors import refuse
from .auth import current_client

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
#: Printable ASCII without spaces, 1 to 200 characters (a UUID, ``report-12-v3``, …).
KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
_KEY = re.compile(KEY_PATTERN)


class IdempotencyKey(db.Model):
    """The first successful answer a client got for one key."""

    __tablename__ = "idempotency_keys"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    client_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("api_clients.id"))
    key: so.Mapped[str] = so.mapped_column(sa.String(200))
    #: SHA-256 of method, path and body (JSON bodies in a canonical form).
    request_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    status: so.Mapped[int] = so.mapped_column()
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    content_type: so.Mapped[str] = so.mapped_column(sa.String(100))
    location: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)

    __table_args__ = (sa.UniqueConstraint("client_id", "key", name="uq_idempotency_keys_one"),)


def fingerprint() -> str:
    """The request's method, path and body, hashed; a JSON body is read canonically (key
    order and spacing do not make it another request)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        body = raw
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _stored(client_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(sa.select(IdempotencyKey).where(
        IdempotencyKey.client_id == client_id, IdempotencyKey.key == key))


def _replay(stored: IdempotencyKey, digest: str):
    if stored.request_hash != digest:
        return refuse("idempotency_key_reused")
    response = current_app.response_class(stored.body, status=stored.status,
                                          content_type=stored.content_type)
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers[REPLAYED] = "true"
    return response


def idempotent(view: Callable) -> Callable:
    """Decorator for API POST views under ``@require_token`` (see the module docstring).
    The view flushes; this commits a successful answer, with its key when one was sent."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            response = make_response(view(*args, **kwargs))
            if response.status_code < 300:
                db.session.commit()
            else:
                db.session.rollback()
            return response
        if not _KEY.fullmatch(key):
            return refuse("invalid", _("The Idempotency-Key header must be 1 to 200 "
                                       "printable characters without spaces."),
                          fields={HEADER: _("Not a valid value for this parameter.")})
        client, digest = current_client(), fingerprint()
        stored = _stored(client.id, key)
        if stored is not None:
            return _replay(stored, digest)
        try:
            response = make_response(view(*args, **kwargs))
            if response.status_code >= 300:
                db.session.rollback()
                return response
            db.session.add(IdempotencyKey(
                client_id=client.id, key=key, request_hash=digest,
                status=response.status_code, body=response.get_data(as_text=True),
                content_type=response.content_type,
                location=response.headers.get("Location")))
            db.session.commit()
        except IntegrityError:  # the same key, at the same moment, won by another request
            db.session.rollback()
            stored = _stored(client.id, key)
            if stored is None:
                raise
            return _replay(stored, digest)
        return response

    wrapper._idempotent = True
    return wrapper
