"""Write operations on submissions: save a draft, submit (idempotently), review transitions.

Idempotency (reliability.md §4.2): the client UUID is the key. A resend of the same UUID
and the same content returns the stored original; the same UUID with other content is
refused (422) and overwrites nothing; an edit of a version that is no longer the current
one is refused (409). The database is the arbiter between concurrent requests: the unique
constraints on ``submissions`` and ``submission_versions`` and a conditional ``UPDATE …
WHERE current_version = :base AND state = :state`` (the claim of the shared workflow core,
:mod:`dantoc.workflow`) whose row count decides the winner; the loser rolls back to a
savepoint and re-reads. Refusals are :class:`~dantoc.refusal.Refusal` with stable codes
(docs/errors.md). Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from .. import clock
from ..audit import services as audit
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators.models import FormVersion, Period
from ..refusal import Refusal
from ..workflow import Lock
from . import rollups, states
from .checks import Cell
from .forms import plain
from .models import Submission, SubmissionValue, SubmissionVersion


@dataclass(frozen=True)
class Target:
    """What a form is filled for: a form version, a unit and a period."""

    form_version: FormVersion
    unit: AdminUnit
    period: Period


@dataclass(frozen=True)
class Result:
    submission: Submission
    version: SubmissionVersion
    replayed: bool


def _canonical(value: Decimal | str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return plain(value) if isinstance(value, Decimal) else str(value)


def content_hash(target: Target, base: int, cells: Iterable[Cell]) -> str:
    """SHA-256 of what is being submitted, independent of field order and number spelling."""
    values = sorted([c.item.indicator.code, c.key, _canonical(c.value)] for c in cells)
    document = {"form_version": target.form_version.id, "unit": target.unit.id,
                "period": target.period.id, "base": base, "values": values}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def find(form_id: int, key: uuid.UUID) -> Submission | None:
    """The submission with this client UUID, freshly read from the database."""
    return db.session.scalar(
        sa.select(Submission).where(Submission.form_id == form_id,
                                    Submission.client_uuid == key)
        .execution_options(populate_existing=True))


def find_for(target: Target) -> Submission | None:
    """The one submission of the target's form for this unit and period, if any."""
    return db.session.scalar(sa.select(Submission).where(
        Submission.form_id == target.form_version.form_id,
        Submission.unit_id == target.unit.id, Submission.period_id == target.period.id))


def version_of(submission: Submission, number: int) -> SubmissionVersion | None:
    return db.session.scalar(
        sa.select(SubmissionVersion).where(SubmissionVersion.submission_id == submission.id,
                                           SubmissionVersion.number == number)
        .execution_options(populate_existing=True))


def _create(target: Target, key: uuid.UUID, state: str, user) -> Submission | None:
    """Insert a new submission, or None when a concurrent request inserted it first (or its
    UUID is taken): the unique constraints decide, in one ``INSERT … ON CONFLICT DO NOTHING
    RETURNING id`` (no savepoint, no flush of the unit of work), and the caller reads the
    winner."""
    now = clock.now()
    values = {"client_uuid": key, "form_id": target.form_version.form_id,
              "form_version_id": target.form_version.id, "unit_id": target.unit.id,
              "period_id": target.period.id, "state": state,
              "current_version": 0 if state == states.DRAFT else 1, "state_reason": None,
              "created_by_id": user.id, "created_at": now, "updated_at": now}
    new_id = db.session.execute(_insert_new_submission(), values).scalar()
    return None if new_id is None else _persistent(Submission, id=new_id, **values)


@cache
def _insert_new_submission() -> sa.TextClause:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id``, the same on SQLite (3.35+) and
    PostgreSQL, written as text with the columns' own types: the dialects' ``insert()``
    constructs are never in SQLAlchemy's statement cache (compiled on every submit)."""
    table = Submission.__table__
    names = [column.key for column in table.columns if column.key != "id"]
    # The names come from the table's definition; every value is a bound parameter.
    return (sa.text(f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
                    f"VALUES ({', '.join(':' + name for name in names)}) "
                    "ON CONFLICT DO NOTHING RETURNING id")
            .bindparams(*(sa.bindparam(name, type_=table.c[name].type) for name in names))
            .columns(id=sa.Integer))


def _persistent(cls, **values):
    """A row just written by a Core ``INSERT``, as the session's own clean object (as if it
    had been read): what the answer shows of it needs no statement. Built as the ORM's
    loading builds an object, its values put in its state directly: the mapped constructor
    (an attribute event and history per column, all committed again at once) cost 60 µs of
    a submit's two."""
    row = cls.__mapper__.class_manager.new_instance()
    row.__dict__.update(values)
    so.make_transient_to_detached(row)
    db.session.add(row)
    return row


def _new(target: Target, key: uuid.UUID, state: str, period_open: bool, user, *,
         looked: bool = False):
    """A new submission for ``key``, or None when a concurrent request created one first.

    ``looked``: the target's submission was just read in this transaction, and there was
    none (no second lookup).

    :raise Refusal: ``locked`` (period closed) or ``already_started`` when the unit
        already has a submission of this form for the period under another UUID.
    """
    if not period_open:
        raise Refusal("locked", lock=Lock.PERIOD_CLOSED)
    other = None if looked else find_for(target)
    if other is not None:
        raise Refusal("already_started", other)
    return _create(target, key, state, user)


#: ``found`` of :func:`submit` and :func:`save_draft` when the caller did not read the
#: target's submission.
NOT_READ = object()


def _lookup(target: Target, key: uuid.UUID, found) -> tuple[Submission | None, bool]:
    """(the submission for ``key`` or None, whether the target is known to have none).

    ``found``: the target's submission as the caller read it in this transaction (or
    :data:`NOT_READ`). Its own UUID needs no second lookup; with none at all, a new one is
    inserted without looking for ``key`` first: a ``key`` used elsewhere, or a submission
    created concurrently, fails the insert on a unique constraint, and the next attempt
    reads as before.
    """
    if found is None:
        return None, True
    if found is not NOT_READ and found.client_uuid == key:
        return found, False
    return _existing(target, key), False


def _existing(target: Target, key: uuid.UUID) -> Submission | None:
    """The submission for ``key``; a UUID reused for another unit or period is refused.

    :raise Refusal: ``uuid_conflict``.
    """
    submission = find(target.form_version.form_id, key)
    if submission is not None and (submission.unit_id, submission.period_id) != (
            target.unit.id, target.period.id):
        raise Refusal("uuid_conflict", submission)
    return submission


def _claim(submission: Submission, base: int, **values) -> bool:
    """Only one request can move the submission on from version ``base`` (the shared
    conditional update of :data:`.states.FLOW`)."""
    return states.FLOW.claim(submission, submission.state, base, **values)


def _check_editable(submission: Submission, base: int, period_open: bool) -> None:
    lock = states.lock_reason(submission.state, period_open=period_open, authorized=True)
    if lock is not None:
        raise Refusal("locked", submission, lock=lock)
    if base != submission.current_version:
        raise Refusal("stale", submission)


def _draft_row(submission: Submission, number: int, payload: dict, source: str, *,
               new: bool = False, **columns) -> SubmissionVersion:
    """Write version ``number`` (the row in place when it exists: a draft), with ``columns``
    besides the payload, in one statement. ``new``: the submission was created in this
    transaction, so it has no version to look for."""
    version = None if new else version_of(submission, number)
    if version is None:  # one INSERT of the table, RETURNING its id (no unit of work)
        values = {"submission_id": submission.id, "number": number,
                  "base_version": number - 1, "content_hash": None, "payload": payload,
                  "created_at": clock.now(), "updated_at": clock.now(), "submitted_at": None,
                  "submitted_by_id": None, "source": source, **columns}
        new_id = db.session.execute(_insert_version(), values).scalar_one()
        return _persistent(SubmissionVersion, id=new_id, **values)
    version.payload, version.updated_at, version.source = payload, clock.now(), source
    for name, value in columns.items():
        setattr(version, name, value)
    db.session.flush()
    return version


@cache
def _insert_version() -> sa.Insert:
    table = SubmissionVersion.__table__
    return table.insert().returning(table.c.id)


def save_draft(target: Target, key: uuid.UUID, base: int, payload: dict, user, *,
               source: str = states.VILLAGE, found=NOT_READ) -> Submission:
    """Store the raw typed text as the draft on top of version ``base`` (audited).

    ``source``: who types it in (:data:`.states.SOURCES`; the commune on the village's
    behalf is ``COMMUNE``). ``found``: the target's submission (or None) as the caller read
    it in this transaction, which spares the lookups of a first attempt.

    :raise Refusal: ``locked`` (submitted, approved, period closed),
        ``stale``, ``already_started``, ``uuid_conflict`` or ``in_flight``.
    """
    period_open = target.period.is_open(clock.today())
    for attempt in range(2):
        submission, looked = _lookup(target, key, found if attempt == 0 else NOT_READ)
        new = submission is None
        if new:
            submission = _new(target, key, states.DRAFT, period_open, user, looked=looked)
            if submission is None:
                continue  # created concurrently: read it again
        else:
            _check_editable(submission, base, period_open)
            if not _claim(submission, base):
                continue
        version = _draft_row(submission, base + 1, payload, source, new=new)
        audit.record("submission.draft", submission,
                     after={"uuid": str(key), "state": submission.state, "draft": version.number,
                            "source": source})
        return submission
    raise Refusal("in_flight")


def _replay(submission: Submission, base: int, digest: str) -> SubmissionVersion | None:
    """The stored version when this exact content was already submitted on top of ``base``.

    :raise Refusal: ``uuid_conflict`` / ``stale`` for other content.
    """
    version = version_of(submission, base + 1)
    if version is None or version.submitted_at is None:
        return None
    if version.content_hash == digest:
        return version
    raise Refusal("uuid_conflict" if base == 0 else "stale", submission)


def _store(submission: Submission, base: int, payload: dict, cells: list[Cell], digest: str,
           user, source: str, new: bool) -> SubmissionVersion:
    version = _draft_row(submission, base + 1, payload, source, new=new,
                         content_hash=digest, submitted_at=clock.now(),
                         submitted_by_id=user.id)
    if cells:  # one statement for all values, not one per value (nothing reads their ids);
        # the table's own INSERT: the ORM's bulk insert splits the rows by the columns set
        db.session.execute(SubmissionValue.__table__.insert(), [
            {"version_id": version.id, "indicator_id": c.item.indicator.id,
             "disaggregation": c.key, **_columns(c.value)} for c in cells])
    return version


def typed(value: Decimal | str | bool) -> dict:
    """The value column a value goes into."""
    if isinstance(value, bool):
        return {"value_bool": value}
    if isinstance(value, Decimal):
        return {"value_numeric": value}
    return {"value_text": value}


def _columns(value: Decimal | str | bool) -> dict:
    """All three value columns (one set), so that every row of a multi-row INSERT has the
    same keys."""
    return {"value_numeric": None, "value_text": None, "value_bool": None, **typed(value)}


def submit(target: Target, key: uuid.UUID, base: int, payload: dict, cells: list[Cell],
           user, *, source: str = states.VILLAGE, found=NOT_READ) -> Result:
    """Submit version ``base + 1``; an identical resend returns the original (audited).

    ``source`` and ``found`` as :func:`save_draft`: the audit row and the version say who
    typed it in.

    :raise Refusal: ``uuid_conflict`` (422), ``stale``, ``locked``,
        ``already_started`` or ``in_flight`` (409).
    """
    digest = content_hash(target, base, cells)
    period_open = target.period.is_open(clock.today())
    for attempt in range(3):
        submission, looked = _lookup(target, key, found if attempt == 0 else NOT_READ)
        new = submission is None
        if new:
            before = None
            submission = _new(target, key, states.SUBMITTED, period_open, user,
                              looked=looked)
            if submission is None:
                continue  # created concurrently: read it again, it may be our replay
        else:
            original = _replay(submission, base, digest)
            if original is not None:
                return Result(submission, original, True)
            before = submission.state
            _check_editable(submission, base, period_open)
            if not _claim(submission, base, state=states.SUBMITTED, current_version=base + 1,
                          state_reason=None):
                continue  # a concurrent request moved it on: read it again
            db.session.refresh(submission)
        version = _store(submission, base, payload, cells, digest, user, source, new)
        audit.record("submission.submit", submission,
                     before={"state": before, "version": base},
                     after={"state": states.SUBMITTED, "version": base + 1, "uuid": str(key),
                            "content_hash": digest, "source": source})
        return Result(submission, version, False)
    raise Refusal("in_flight")


def transition(submission: Submission, action: str, user, reason: str | None = None, *,
               details: dict | None = None) -> Submission:
    """Return, approve or un-approve the current version (audited, one row).

    The one service function every review screen calls (the return with comments of
    :mod:`dantoc.review.services` wraps it), through the shared workflow core: the reason
    rule, the checks and the conditional update of :data:`.states.FLOW` decide, and the
    audit row goes into the same transaction. ``details`` is added to the audit row's
    ``after`` (for example the fields commented on with a return).

    :raise Refusal: ``reason_required`` (a return or un-approve without a reason),
        ``invalid_transition`` when the state does not allow ``action``, ``stale`` when
        another reviewer acted first, ``locked`` (``period_closed``) for an un-approve after
        the reporting period closed: the village could no longer correct it.
    """
    if action not in states.REVIEW_ACTIONS:
        raise ValueError(f"{action!r} is not a review action")
    lock = None
    if action == "unapprove" and not submission.period.is_open(clock.today()):
        lock = Lock.PERIOD_CLOSED
    elif action == "approve" and typed_in_by(submission, user):
        lock = Lock.OWN_SUBMISSION
    before = submission.state
    states.FLOW.transition(submission, action, user, reason=reason, lock=lock, details=details)
    rollups.changed(submission, before)  # the province's figures, in the same transaction
    return submission


def typed_in_by(submission: Submission, user) -> bool:
    """Four eyes (issue #14): the officer who typed the current version in for the village
    (on its behalf, or from a file) may not approve it, unless the province allows
    one-person communes (``DANTOC_ONE_PERSON_COMMUNES``)."""
    if current_app.config.get("ONE_PERSON_COMMUNES"):
        return False
    version = version_of(submission, submission.current_version)
    return (version is not None and version.source != states.VILLAGE
            and version.submitted_by_id == user.id)
