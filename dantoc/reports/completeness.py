"""Completeness of one form for one period: who has not submitted, who is late, what is
returned, what is approved, and who to remind (DHIS2's reporting-rate summary, plus names).

For an area whose units directly below are villages (a commune officer's commune), one row
per village. For a higher area (the province; a district before 2025-07-01), one row per
unit that has a report, depth first (a district, then its communes), with the counts of its
villages per state, its own report's state, and a drill-down to its villages.

*Late*: not submitted by the period's closing day, or first submitted after it (the day
taken in the province's time zone).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..accounts.models import User
from ..catalogs.models import AdminLevel, AdminUnit
from ..catalogs.queries import valid_on
from ..extensions import db
from ..indicators.models import Period
from ..submissions import states as entry_states
from ..submissions.models import Submission, SubmissionVersion
from . import queries, states
from .models import UnitReport
from .queries import Target

#: Village states whose village head should be reminded.
REMIND = (entry_states.NOT_STARTED, entry_states.DRAFT, entry_states.RETURNED)


@dataclass
class VillageRow:
    unit: AdminUnit
    submission: Submission | None
    first_submitted: datetime | None
    late: bool
    heads: list[User]

    @property
    def state(self) -> str:
        return self.submission.state if self.submission else entry_states.NOT_STARTED

    @property
    def remind(self) -> bool:
        return self.state in REMIND


@dataclass
class UnitRow:
    unit: AdminUnit
    depth: int
    counts: Counter
    late: int
    villages: int
    report: UnitReport | None
    has_villages: bool

    @property
    def report_state(self) -> str:
        return self.report.state if self.report else states.OPEN


@dataclass
class Area:
    """One unit the viewer looks at, with its village rows or its unit rows."""

    target: Target
    report: UnitReport | None
    has_report: bool
    villages: list[VillageRow] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)
    totals: Counter = field(default_factory=Counter)

    @property
    def unit(self) -> AdminUnit:
        return self.target.unit

    @property
    def to_remind(self) -> list[VillageRow]:
        """The villages not submitted yet or returned (their heads, or none to enrol)."""
        return [row for row in self.villages if row.remind]


def is_late(period: Period, first_submitted: datetime | None, day: date) -> bool:
    if first_submitted is None:
        return day > period.closes_on
    return clock.local_day(first_submitted) > period.closes_on


def lateness(period: Period, day: date):
    """:func:`is_late` for the many villages of one period, the deadline worked out once: a
    first submission is late from the first moment of the day after ``closes_on`` in the
    province's time zone (10,000 villages converted one by one cost a third of the page)."""
    overdue = day > period.closes_on
    late_from = datetime.combine(period.closes_on + timedelta(days=1), time(0), clock.zone())

    def late(first_submitted: datetime | None) -> bool:
        if first_submitted is None:
            return overdue
        if first_submitted.tzinfo is None:
            first_submitted = first_submitted.replace(tzinfo=UTC)
        return first_submitted >= late_from

    return late


def _tree(t: Target):
    """Every unit below ``t.unit`` down to the fill level on the reference day, as columns
    (id, parent_id, level_id): one subquery per level (the depth is the difference of the
    levels' ranks), each an index lookup on ``parent_id``. Not a recursive query: the
    planner estimates a level from the column statistics, where it cannot see through a
    recursive query (PostgreSQL then guessed a million rows and compiled the plan)."""
    levels, parents = [], None
    for _ in range(max(t.fill_level.rank - t.unit.level.rank, 1)):
        unit = so.aliased(AdminUnit)
        level = sa.select(unit.id.label("id"), unit.parent_id.label("parent_id"),
                          unit.level_id.label("level_id"))
        on = unit.parent_id == t.unit.id if parents is None else unit.parent_id.in_(
            sa.select(parents.c.id))
        level = level.where(on, unit.valid_from <= t.day,
                            sa.or_(unit.valid_to.is_(None), unit.valid_to >= t.day))
        parents = level.subquery()
        levels.append(level)
    return sa.union_all(*levels).subquery("area_tree")


def _first_submitted():
    """When the submission's first version was submitted (a correlated subquery)."""
    return (sa.select(sa.func.min(SubmissionVersion.submitted_at))
            .where(SubmissionVersion.submission_id == Submission.id,
                   SubmissionVersion.submitted_at.is_not(None)).scalar_subquery())


def _of_form(t: Target):
    return sa.and_(Submission.form_id == t.form.id, Submission.period_id == t.period.id)


def _village_states(t: Target, tree) -> list[tuple[int, int, str | None, datetime | None]]:
    """(village id, parent id, submission state or None, first submitted) of every village
    below: one query, plain rows (not objects), whatever the number of villages."""
    return list(db.session.execute(
        sa.select(tree.c.id, tree.c.parent_id, Submission.state, _first_submitted())
        .select_from(tree)
        .outerjoin(Submission, sa.and_(Submission.unit_id == tree.c.id, _of_form(t)))
        .where(tree.c.level_id == t.fill_level.id)).tuples())


def _direct_villages(t: Target) -> sa.Select:
    return sa.select(AdminUnit).where(AdminUnit.parent_id == t.unit.id, valid_on(t.day),
                                      AdminUnit.level_id == t.fill_level.id)


def _heads(t: Target) -> dict[int, list[User]]:
    """village id → its active village heads, for the villages directly below."""
    found: dict[int, list[User]] = {}
    villages = _direct_villages(t).with_only_columns(AdminUnit.id).scalar_subquery()
    for user in db.session.scalars(sa.select(User).where(
            User.role_code == "village_head", User.unit_id.in_(villages),
            User.active.is_(True)).order_by(User.full_name)):
        found.setdefault(user.unit_id, []).append(user)
    return found


def _village_rows(t: Target, first: dict[int, datetime | None]) -> list[VillageRow]:
    """The rows of the villages directly below (with their objects and heads)."""
    heads, day = _heads(t), clock.today()
    rows = []
    for village, submission in queries.with_rows(
            Submission, t, _direct_villages(t).order_by(AdminUnit.code)):
        moment = first.get(village.id)
        rows.append(VillageRow(village, submission, moment, is_late(t.period, moment, day),
                               heads.get(village.id, [])))
    return rows


def _reporting(t: Target, tree) -> list[tuple[AdminUnit, UnitReport | None]]:
    """The units with a report below ``t.unit`` (communes, districts), with their report."""
    units = (sa.select(AdminUnit).join(tree, tree.c.id == AdminUnit.id)
             .join(AdminLevel, AdminUnit.level_id == AdminLevel.id)
             .where(AdminLevel.rank < t.fill_level.rank)
             .options(so.contains_eager(AdminUnit.level)).order_by(AdminUnit.code))
    return queries.with_rows(UnitReport, t, units)


def _unit_rows(t: Target, reporting, villages) -> list[UnitRow]:
    """One row per reporting unit, depth first, with the counts of the villages below."""
    parent = {unit.id: unit.parent_id for unit, _report in reporting}
    below: dict[int, list] = {}
    for unit, report in reporting:
        below.setdefault(unit.parent_id, []).append((unit, report))
    counts: dict[int, Counter] = {unit.id: Counter() for unit, _r in reporting}
    late: Counter = Counter()
    direct = set()
    late_ = lateness(t.period, clock.today())
    for _village, up, state, first in villages:
        direct.add(up)
        is_late_ = late_(first)
        node = up
        while node in counts:
            counts[node][state or entry_states.NOT_STARTED] += 1
            late[node] += is_late_
            node = parent[node]
    result = []

    def walk(unit_id: int, depth: int) -> None:
        for unit, report in below.get(unit_id, []):
            result.append(UnitRow(unit, depth, counts[unit.id], late[unit.id],
                                  sum(counts[unit.id].values()), report, unit.id in direct))
            walk(unit.id, depth + 1)

    walk(t.unit.id, 0)
    return result


def area(t: Target) -> Area:
    """The completeness of ``t.unit``'s area for the form and period of ``t``: a fixed
    number of statements; the villages below are counted from plain rows."""
    tree = _tree(t)
    villages = _village_states(t, tree)
    result = Area(t, queries.report_for(t), queries.has_report(t.unit, t.fill_level))
    day = clock.today()
    result.totals = Counter(state or entry_states.NOT_STARTED for _v, _p, state, _f in villages)
    late = lateness(t.period, day)
    result.totals["late"] = sum(late(first) for *_rest, first in villages)
    first = {village: moment for village, up, _s, moment in villages if up == t.unit.id}
    result.villages = _village_rows(t, first) if first else []
    result.units = _unit_rows(t, _reporting(t, tree), villages)
    return result
