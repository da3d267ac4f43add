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
from datetime import date, datetime

import sqlalchemy as sa

from .. import clock
from ..accounts.models import User
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators.models import Period
from ..submissions import states as entry_states
from ..submissions.models import Submission, SubmissionVersion
from . import queries, states
from .models import UnitReport
from .queries import Subtree, Target

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


def _first_submitted(submissions: dict[int, Submission]) -> dict[int, datetime]:
    """submission id → when its first version was submitted."""
    ids = [s.id for s in submissions.values()]
    if not ids:
        return {}
    rows = db.session.execute(sa.select(SubmissionVersion.submission_id,
                                        sa.func.min(SubmissionVersion.submitted_at))
                              .where(SubmissionVersion.submission_id.in_(ids),
                                     SubmissionVersion.submitted_at.is_not(None))
                              .group_by(SubmissionVersion.submission_id))
    return dict(rows.all())  # a Result has keys(): dict() would read it as a mapping


def _heads(unit_ids: list[int]) -> dict[int, list[User]]:
    """village id → its active village heads."""
    if not unit_ids:
        return {}
    found: dict[int, list[User]] = {}
    for user in db.session.scalars(sa.select(User).where(
            User.role_code == "village_head", User.unit_id.in_(unit_ids),
            User.active.is_(True)).order_by(User.full_name)):
        found.setdefault(user.unit_id, []).append(user)
    return found


def _village_rows(t: Target, villages: list[AdminUnit]) -> dict[int, VillageRow]:
    subs = queries.submissions_by_unit(t.form.id, t.period.id, (v.id for v in villages))
    first = _first_submitted(subs)
    heads = _heads([v.id for v in villages])
    day = clock.today()
    rows = {}
    for village in villages:
        submission = subs.get(village.id)
        moment = first.get(submission.id) if submission else None
        rows[village.id] = VillageRow(village, submission, moment,
                                      is_late(t.period, moment, day), heads.get(village.id, []))
    return rows


def _unit_rows(t: Target, tree: Subtree, rows: dict[int, VillageRow]) -> list[UnitRow]:
    fill = t.fill_level
    reporting = [(u, depth) for u, depth in tree.walk(t.unit.id) if u.level.rank < fill.rank]
    reports = queries.reports_by_unit(t.form.id, t.period.id, (u.id for u, _d in reporting))
    result = []
    for unit, depth in reporting:
        below = [rows[v.id] for v in tree.at_level(unit.id, fill.id)]
        counts = Counter(r.state for r in below)
        direct = any(c.level_id == fill.id for c in tree.below.get(unit.id, []))
        result.append(UnitRow(unit, depth, counts, sum(r.late for r in below), len(below),
                              reports.get(unit.id), direct))
    return result


def area(t: Target) -> Area:
    """The completeness of ``t.unit``'s area for the form and period of ``t``."""
    tree = Subtree.load([t.unit], t.day)
    villages = tree.at_level(t.unit.id, t.fill_level.id)
    rows = _village_rows(t, villages)
    result = Area(t, queries.report_for(t), queries.has_report(t.unit, t.fill_level))
    result.totals = Counter(r.state for r in rows.values())
    result.totals["late"] = sum(r.late for r in rows.values())
    direct = [u for u in tree.below.get(t.unit.id, []) if u.level_id == t.fill_level.id]
    result.villages = [rows[u.id] for u in direct]
    result.units = _unit_rows(t, tree, rows)
    return result
