"""Server side of the offline outbox: who owns a phone's items, their key, the quarantine.

See docs/offline.md. Services flush, never commit, except :func:`quarantine_refusal`, which
runs after the refused request was rolled back and keeps its row in a transaction of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

import sqlalchemy as sa
from flask import current_app, request
from sqlalchemy.exc import IntegrityError

from .. import database
from ..accounts.models import User
from ..audit import services as audit
from ..extensions import db
from .models import SubmissionQuarantine

#: Refusals of a submit worth a server copy: the user's data is fine, but the state or scope
#: changed while it waited on the phone. ``in_flight`` (retried) and ``invalid`` (the draft
#: was saved with its errors) are not among them.
QUARANTINED = frozenset({"locked", "stale", "uuid_conflict", "already_started", "forbidden"})
#: The form fields that are not content (the CSRF token changes on every replay).
NOT_CONTENT = frozenset({"csrf_token"})


def owner_id(user) -> str:
    """The opaque id that binds a phone's outbox items and cached pages to their owner.

    Stable for a user, different between users, not guessable without the secret key, and
    revealing nothing about the account: hex HMAC-SHA256(secret, "owner:" + user id)[:24].
    """
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, f"owner:{user.id}".encode(), hashlib.sha256).hexdigest()[:24]


def outbox_key(user) -> str:
    """The user's outbox key (base64 of 32 random bytes), created once on first use (audited;
    the key itself is never written to the audit trail). Commits when it creates the key.

    Parallel first requests (a phone's tabs and its worker) must all get the same key: an
    item encrypted with a key the server no longer has cannot be read back. So the key is
    set by a conditional UPDATE (``… WHERE outbox_key IS NULL``) in a write transaction of
    its own: one request wins, writes the one audit row, and everyone reads the winner's key.
    On PostgreSQL the losers' UPDATE waits on the row lock and then matches nothing; on
    SQLite the transaction takes the write lock first (``database.writing``).
    """
    key = db.session.scalar(sa.select(User.outbox_key).where(User.id == user.id))
    if key:
        return key
    user_id = user.id
    db.session.rollback()  # end the read snapshot before writing (SQLite: no lock upgrade)
    with database.writing():
        created = db.session.execute(
            sa.update(User).where(User.id == user_id, User.outbox_key.is_(None))
            .values(outbox_key=base64.b64encode(secrets.token_bytes(32)).decode())
            .execution_options(synchronize_session=False))
        if created.rowcount == 1:
            audit.record("user.outbox_key", db.session.get(User, user_id),
                         after={"created": True})
        db.session.commit()
    return db.session.scalar(sa.select(User.outbox_key).where(User.id == user_id))


def _payload() -> dict[str, list[str]]:
    return {name: request.form.getlist(name) for name in sorted(request.form)
            if name not in NOT_CONTENT}


def _digest(payload: dict[str, list[str]]) -> str:
    text = "&".join(f"{name}={value}" for name, values in payload.items() for value in values)
    return hashlib.sha256(text.encode()).hexdigest()


def refused_submit(response) -> tuple[uuid.UUID, str, str] | None:
    """(client UUID, error code, message) when ``response`` refuses a JSON submit in a way
    the quarantine keeps; None otherwise."""
    if request.method != "POST" or response.status_code not in (403, 409, 422):
        return None  # a 413's form cannot be read: it is too large
    if not response.is_json or request.form.get("action") != "submit":
        return None
    problem = response.get_json(silent=True) or {}
    code = "forbidden" if response.status_code == 403 else problem.get("code")
    try:
        key = uuid.UUID(request.form.get("uuid", ""))
    except ValueError:
        return None
    if code not in QUARANTINED:
        return None
    return key, code, str(problem.get("detail") or "")


def quarantine_refusal(user, key: uuid.UUID, code: str, message: str) -> bool:
    """Keep a copy of the refused submit of the current request (once per user, UUID and
    content), audited, and commit it. True when a new row was written.

    Called after the request's own work was rolled back, so nothing else is committed.
    """
    payload = _payload()
    args = request.view_args or {}
    row = SubmissionQuarantine(
        client_uuid=key, user_id=user.id, path=request.path[:300],
        form_code=str(args.get("form_code") or "")[:60] or None, unit_id=args.get("unit_id"),
        period_code=str(args.get("period_code") or "")[:30] or None, payload=payload,
        content_hash=_digest(payload), error_code=code, message=message)
    exists = db.session.scalar(sa.select(SubmissionQuarantine.id).where(
        SubmissionQuarantine.user_id == user.id, SubmissionQuarantine.client_uuid == key,
        SubmissionQuarantine.content_hash == row.content_hash))
    if exists is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
            audit.record("outbox.quarantine", row,
                         after={"uuid": str(key), "code": code, "path": row.path})
            db.session.flush()
    except IntegrityError:  # a concurrent retry of the same content won
        db.session.rollback()
        return False
    db.session.commit()
    return True
