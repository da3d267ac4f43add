"""The audit trail as a hash chain: each row carries the SHA-256 of the previous row's hash
and its own content, so that a row deleted, edited or moved is found by :func:`verify`
(``flask audit verify``) — even by someone who could switch the append-only triggers off.

One chain for the whole table. ``audit_chain_head`` holds the last link (its sequence number
and hash); :func:`link` reads it *for update* in the transaction that writes the audit row,
so concurrent transactions take their turns (PostgreSQL: the row lock, held until commit;
SQLite: the write lock every writing transaction holds). The head also lets :func:`verify`
see rows deleted at the end of the chain.

What a chain without a secret cannot show: someone with write access to the database who
rewrites every row after the one they changed, and the head. Keep the head that
``flask audit verify`` prints somewhere else (the backup log, a daily mail): a later head
must extend it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from .models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
#: The columns a link covers (not ``id``: it is given by the database at insert; the order of
#: ids is checked separately).
FIELDS = ("seq", "at", "actor_id", "actor_name", "actor_role", "action", "object_type",
          "object_id", "before", "after", "ip")


def _moment(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite gives back the UTC wall time it stored
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _json(value: Any) -> Any:
    """The value as it comes back from a JSON column."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def digest(previous: str, row: Any) -> str:
    """The hash of ``row`` (an :class:`AuditEvent` or a row with the same attributes) linked
    to the hash before it."""
    payload = {name: getattr(row, name) for name in FIELDS}
    payload["at"] = _moment(row.at)
    payload["before"], payload["after"] = _json(row.before), _json(row.after)
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()


def link(event: Any) -> None:
    """Give ``event`` (an audit row's values as attributes) the next sequence number and its
    hash, and move the head (in the current transaction, which holds the head's lock until
    it ends)."""
    # Read and moved by SQL, not through the session's copy: a caller that expires or
    # refreshes objects before its next audit row must not see (or lose) a stale head.
    seq, previous = db.session.execute(_read_head()).one()
    event.seq, event.prev_hash = seq + 1, previous
    event.hash = digest(previous, event)
    db.session.execute(_move_head(), {"seq": event.seq, "hash": event.hash})


# Every audited write runs these two: built once, their parameters bound when they run.
@cache
def _read_head() -> sa.Select:
    head = AuditChainHead.__table__
    return sa.select(head.c.seq, head.c.hash).where(head.c.id == 1).with_for_update()


@cache
def _move_head() -> sa.Update:
    head = AuditChainHead.__table__
    return head.update().where(head.c.id == 1).values(seq=sa.bindparam("seq"),
                                                      hash=sa.bindparam("hash"))


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found: whether the chain holds, how many links it checked up to
    the first fault (or all of them), the hash it reached, and the fault in words."""

    ok: bool
    links: int
    head: str
    problem: str | None = None


def verify() -> Verdict:
    """Walk the chain in order; stop at the first broken or missing link."""
    unlinked = db.session.scalar(sa.select(sa.func.min(AuditEvent.id)).where(
        AuditEvent.seq.is_(None)))
    previous, expected, last_id = GENESIS, 1, 0

    def broken(problem: str) -> Verdict:
        return Verdict(False, expected - 1, previous, problem)

    if unlinked is not None:
        return broken(f"row {unlinked} is not in the chain (no link number): it was inserted "
                      "around the application")
    rows = db.session.execute(sa.select(AuditEvent).where(AuditEvent.seq.is_not(None))
                              .order_by(AuditEvent.seq)).scalars()
    for row in rows:
        if row.seq != expected:
            return broken(f"link {expected} is missing: after link {expected - 1} comes link "
                          f"{row.seq} (row {row.id})")
        if row.prev_hash != previous:
            return broken(f"link {row.seq} (row {row.id}) does not follow link {expected - 1}:"
                          " rows were moved or replaced")
        if digest(previous, row) != row.hash:
            return broken(f"link {row.seq} (row {row.id}) was changed after it was written")
        if row.id <= last_id:
            return broken(f"link {row.seq} (row {row.id}) is out of order: row ids must grow "
                          "along the chain")
        previous, expected, last_id = row.hash, expected + 1, row.id
    head = db.session.get(AuditChainHead, 1)
    if head is None or head.seq != expected - 1 or head.hash != previous:
        told = f"link {head.seq}" if head is not None else "no head"
        return broken(f"the chain ends at link {expected - 1} but its head says {told}: the "
                      "last rows were deleted")
    return Verdict(True, expected - 1, previous)
