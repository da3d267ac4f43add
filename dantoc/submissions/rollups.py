"""Approved village values rolled up per commune (issue #11 item 1): what the lookup and the
dashboards read for the province instead of every village value.

:class:`~.models.CommuneRollup` holds, per (period, commune, indicator, disaggregation key),
the count, sum, minimum, maximum and yes answers of the numbers and yes/no answers of the
current versions of approved village submissions: the figures the lookup's ``GROUP BY``
computed from the raw values at request time. "Commune" is the submitting unit's parent.
The table is kept right in the transaction of every change of that set of values:

- :func:`changed`, called by ``services.transition`` for every review decision (the one place
  approvals and un-approvals go through): an approval **adds** the submission's values (one
  ``INSERT … SELECT … ON CONFLICT DO UPDATE``: counts and sums added, bounds widened; about
  one row per value of the village, whatever the number of villages); an un-approval
  **recomputes** the commune-period's rows of the submission's indicators from the raw
  values (a minimum cannot be taken back). A return changes no approved value.
- a village moved under another commune (a correction of its parent in the catalog, an
  import or a sync, through the ORM): both communes' rows are recomputed for the periods in
  which it has approved data, on the flush that writes the new parent (:func:`_moved`).
- :func:`rebuild` recomputes the whole table (or some periods) set-based, one ``INSERT …
  SELECT … GROUP BY``: the generators (``flask demo scale``, ``seed-demo``'s past periods),
  the migration's backfill (the same statement) and the repair ``flask rollups rebuild``.
  :func:`differences` compares the table with a fresh ``GROUP BY`` (``flask rollups check``).

Writers never race. On PostgreSQL every change takes a transaction-level advisory lock per
commune before touching its rows, so an addition and a recomputation of the same commune run
one after the other and the second one's statements see the first's committed rows (review
decisions are also ordered by the audit chain's head, which each locks before this runs; a
moved village is recomputed during the flush, before its audit row);
:func:`rebuild` locks the table against them. SQLite serializes writers (``BEGIN
IMMEDIATE``). An approval is added exactly once: the workflow's conditional claim lets one
of two concurrent approvals of the same version through, the other is refused as stale.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from ..catalogs.models import AdminUnit
from ..extensions import db
from . import states
from .models import CommuneRollup, Submission, SubmissionValue, SubmissionVersion

TABLE = CommuneRollup.__table__
KEY = ("period_id", "commune_id", "indicator_id", "disaggregation")
FIGURES = ("villages", "total", "low", "high", "yes")
COLUMNS = (*KEY, *FIGURES)
#: The key of the PostgreSQL advisory lock of a commune's rows.
LOCK_KEY = "commune_rollups:{}"


def _figures() -> list:
    """count, sum, min, max and yes answers of the selected values."""
    value = SubmissionValue
    return [sa.func.count(), sa.func.sum(value.value_numeric), sa.func.min(value.value_numeric),
            sa.func.max(value.value_numeric),
            sa.func.sum(sa.case((value.value_bool.is_(True), 1), else_=0))]


def grouped(*where, communes: Iterable[int] | None = None) -> sa.Select:
    """The rows of the table computed from the raw values: the numbers and yes/no answers of
    the current versions of approved submissions, by the submitting unit's parent (with
    ``where`` on :class:`Submission` or :class:`SubmissionValue`; of ``communes`` only when
    given)."""
    village = so.aliased(AdminUnit, name="village")
    value = SubmissionValue
    if communes is not None:
        where = (*where, village.parent_id.in_(sorted(set(communes))))
    return (sa.select(Submission.period_id, village.parent_id, value.indicator_id,
                      value.disaggregation, *_figures())
            .select_from(value)
            .join(SubmissionVersion, SubmissionVersion.id == value.version_id)
            .join(Submission, sa.and_(Submission.id == SubmissionVersion.submission_id,
                                      SubmissionVersion.number == Submission.current_version))
            .join(village, village.id == Submission.unit_id)
            .where(Submission.state == states.APPROVED, village.parent_id.is_not(None),
                   value.value_text.is_(None), *where)
            .group_by(Submission.period_id, village.parent_id, value.indicator_id,
                      value.disaggregation))


def _lock(connection: sa.Connection, communes: Iterable[int]) -> None:
    """PostgreSQL: wait for any other transaction changing these communes' rows."""
    if connection.dialect.name != "postgresql":
        return  # SQLite: the writer holds the database's write lock
    for commune in sorted(set(communes)):
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                           {"key": LOCK_KEY.format(commune)})


def _commune_of(connection: sa.Connection, submission: Submission) -> int | None:
    return connection.scalar(sa.select(AdminUnit.parent_id)
                             .where(AdminUnit.id == submission.unit_id))


def _current_values(submission: Submission):
    """The numbers and yes/no answers of the submission's current version (a condition)."""
    return sa.and_(SubmissionVersion.submission_id == submission.id,
                   SubmissionVersion.number == submission.current_version,
                   SubmissionValue.value_text.is_(None))


def _add(connection: sa.Connection, submission: Submission, commune: int) -> None:
    """Add the submission's values to its commune's rows (counts and sums added, bounds
    widened): one statement."""
    value = SubmissionValue
    rows = (sa.select(sa.literal(submission.period_id), sa.literal(commune), value.indicator_id,
                      value.disaggregation, *_figures())
            .select_from(value)
            .join(SubmissionVersion, SubmissionVersion.id == value.version_id)
            .where(_current_values(submission))
            .group_by(value.indicator_id, value.disaggregation))
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(TABLE).from_select(COLUMNS, rows)
    new, old = insert.excluded, TABLE.c

    def either(a, b, both):
        return sa.case((a.is_(None), b), (b.is_(None), a), else_=both)

    connection.execute(insert.on_conflict_do_update(index_elements=KEY, set_={
        "villages": old.villages + new.villages,
        "total": either(old.total, new.total, old.total + new.total),
        "low": either(old.low, new.low, sa.case((new.low < old.low, new.low), else_=old.low)),
        "high": either(old.high, new.high,
                       sa.case((new.high > old.high, new.high), else_=old.high)),
        "yes": old.yes + new.yes}))


def _recompute(connection: sa.Connection, period_id: int, communes: Iterable[int],
               indicators: sa.Select | None = None) -> None:
    """Replace the communes' rows of one period (of ``indicators`` only, a subquery of ids,
    when given) with those computed from the raw values."""
    communes = sorted(set(communes))
    where = [TABLE.c.period_id == period_id, TABLE.c.commune_id.in_(communes)]
    raw = [Submission.period_id == period_id]
    if indicators is not None:
        where.append(TABLE.c.indicator_id.in_(indicators))
        raw.append(SubmissionValue.indicator_id.in_(indicators))
    connection.execute(TABLE.delete().where(*where))
    connection.execute(TABLE.insert().from_select(COLUMNS, grouped(*raw, communes=communes)))


def changed(submission: Submission, before: str | None) -> None:
    """Bring the rollups up to date after ``submission`` went from state ``before`` to its
    current state (flushed, in the caller's transaction): an approval adds its values, a
    withdrawn approval recomputes its commune's rows of its indicators for the period."""
    after = submission.state
    if (before == states.APPROVED) == (after == states.APPROVED):
        return  # no approved value came or went (a return, a resubmission)
    connection = db.session.connection()
    commune = _commune_of(connection, submission)
    if commune is None:
        return  # a unit without a parent has no commune to be counted in
    _lock(connection, (commune,))
    if after == states.APPROVED:
        _add(connection, submission, commune)
        return
    touched = (sa.select(SubmissionValue.indicator_id)
               .join(SubmissionVersion, SubmissionVersion.id == SubmissionValue.version_id)
               .where(_current_values(submission)))
    _recompute(connection, submission.period_id, (commune,), touched)


def rebuild(periods: Iterable[int] | None = None) -> int:
    """Recompute the table (only ``periods``, ids, when given) from the raw values, set-based
    (flushed, not committed); the number of rows written."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # Approvals wait until this transaction ends, and this one for theirs.
        connection.execute(sa.text("LOCK TABLE commune_rollups IN SHARE ROW EXCLUSIVE MODE"))
    delete, raw = TABLE.delete(), []
    if periods is not None:
        periods = sorted(set(periods))
        delete = delete.where(TABLE.c.period_id.in_(periods))
        raw.append(Submission.period_id.in_(periods))
    connection.execute(delete)
    written = connection.execute(TABLE.insert().from_select(COLUMNS, grouped(*raw))
                                 .execution_options(preserve_rowcount=True))
    return written.rowcount


def _figures_of(row) -> tuple:
    return tuple(row[len(KEY):])


def differences() -> list[tuple]:
    """The keys whose stored figures differ from a fresh ``GROUP BY`` of the raw values
    (missing, extra or different rows); empty when the table is right."""
    stored = {tuple(row[:len(KEY)]): _figures_of(row) for row in db.session.execute(
        sa.select(*(TABLE.c[name] for name in COLUMNS)))}
    fresh = {tuple(row[:len(KEY)]): _figures_of(row) for row in db.session.execute(grouped())}
    return sorted(key for key in stored.keys() | fresh.keys()
                  if stored.get(key) != fresh.get(key))


@sa.event.listens_for(AdminUnit, "after_update")
def _moved(_mapper, connection: sa.Connection, unit: AdminUnit) -> None:
    """A unit given another parent: its approved values leave the old commune's rows and join
    the new one's, for every period in which it has some (same transaction as the change)."""
    history = sa.inspect(unit).attrs.parent_id.history
    if not history.has_changes():
        return
    communes = {p for p in (*history.deleted, *history.added) if p is not None}
    periods = connection.scalars(sa.select(Submission.period_id).distinct().where(
        Submission.unit_id == unit.id, Submission.state == states.APPROVED)).all()
    if not communes or not periods:
        return
    _lock(connection, communes)
    for period_id in sorted(periods):
        _recompute(connection, period_id, communes)
