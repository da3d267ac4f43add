"""What the pulls of :mod:`.pull` and :mod:`.documents` share: the error of a pass, and how
a row is created, brought up to date or adopted (marked as the centre's), audited."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from ..audit import services as audit
from ..extensions import db

#: The peer of the pass under way: what :func:`upsert` marks its rows with.
PEER: ContextVar[str | None] = ContextVar("sync_peer", default=None)
#: The outcome of a unit kept for the end of the pass (its parent has not arrived yet).
PENDING = "pending"


class SyncError(RuntimeError):
    """A pass stopped; the message says why in words. Committed pages stay.

    ``kind`` (one of ``models.ERROR_KINDS``) and ``params`` are what the sync screen needs
    to say it again in the reader's language; the message stays the technical account
    printed by the command and kept with them.
    """

    def __init__(self, message: str, kind: str = "other", **params: Any):
        super().__init__(message)
        self.kind, self.params = kind, params


def _set(obj: Any, values: dict) -> bool:
    """Give ``obj`` the ``values``; True when something changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


_LOOK_UP = object()


def retiring(outcome: str, before: date | None, after: date | None) -> str:
    """``retired`` for a change that gave a row its end of validity."""
    return "retired" if outcome == "changed" and before is None and after is not None else outcome


def upsert(model, key: dict, values: dict, action: str, row: Any = _LOOK_UP
            ) -> tuple[Any, str]:
    """The row of ``model`` with ``key`` (``row``: already looked up, None = absent),
    created or brought up to ``values`` (audited)."""
    if row is _LOOK_UP:
        row = db.session.scalar(sa.select(model).filter_by(**key))
    peer = PEER.get() if hasattr(model, "synced_from") else None
    if row is None:
        row = model(**key, **values, **({"synced_from": peer} if peer else {}))
        db.session.add(row)
        db.session.flush()
        audit.record(f"{action}.create", row, after=audit.snapshot(
            row, (*key, *values, *(("synced_from",) if peer else ()))))
        return row, "added"
    before = audit.snapshot(row, (*key, *values))
    if not _set(row, values):
        _adopt(row, peer, action)
        return row, "unchanged"
    db.session.flush()
    audit.record(f"{action}.update", row, before=before,
                 after=audit.snapshot(row, (*key, *values)))
    _adopt(row, peer, action)
    return row, "changed"


def _adopt(row: Any, peer: str | None, action: str) -> None:
    """Mark a row that the peer also has as the peer's (a national record), audited. Not
    counted as a change: its content is the peer's already."""
    if peer is None or row.synced_from == peer:
        return
    before = {"synced_from": row.synced_from}
    row.synced_from = peer
    db.session.flush()
    audit.record(f"{action}.adopt", row, before=before, after={"synced_from": peer})


def day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def moment(text: str | None) -> datetime | None:
    """An instant from the peer's ISO text (UTC when it names no zone); None for none."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def same_moment(a: datetime | None, b: datetime | None) -> bool:
    """Equal instants, whether the engine gave them back with their zone (PostgreSQL) or
    without it (SQLite stores UTC)."""
    if a is None or b is None:
        return a is b
    return (a if a.tzinfo else a.replace(tzinfo=UTC)) == (b if b.tzinfo else
                                                           b.replace(tzinfo=UTC))
