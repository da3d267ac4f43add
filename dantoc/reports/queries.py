"""Reads for unit reports: the unit tree of a period, the state of every unit below a report,
the reports in a user's scope.

**Which tree a period uses.** A period is reported on the units valid on its *reference day*:
the cut-off date of a custom period (the day the figures are taken), otherwise its end date.
2025-Q1 (ends 2025-03-31) is therefore reported province → district → commune → village, and
2025-Q3 or the year 2025 (ends 2025-12-31) province → commune → village. A period that ends
before the reform is reported on the units that existed then, whoever acts on it today.

**Which units have a report.** Every unit valid on the reference day that has a parent (the
province, the root, has none) and sits above the form's fill level: communes, and districts
before 2025-07-01. A report's *children* are the units directly below it on that day: the
villages (their submissions) for a commune, the communes (their reports) for a district.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..accounts.models import User
from ..accounts.scope import subtree
from ..catalogs.models import AdminLevel, AdminUnit
from ..catalogs.queries import predecessors_on, valid_on
from ..extensions import db
from ..indicators.models import Form, FormStatus, FormVersion, Period
from ..submissions import queries as entry_queries
from ..submissions import states as entry_states
from ..submissions.models import Submission
from . import states
from .models import UnitReport


def reference_day(period: Period) -> date:
    """The day whose unit tree a period is reported on (see the module docstring)."""
    return period.cutoff_date or period.end_date


@dataclass(frozen=True)
class Target:
    """What a report page is about: a form (its newest published version), a period, a unit."""

    form: Form
    form_version: FormVersion
    period: Period
    unit: AdminUnit

    @property
    def day(self) -> date:
        return reference_day(self.period)

    @property
    def fill_level(self) -> AdminLevel:
        return self.form_version.fill_level


def target(form_code: str, period_code: str, unit_id: int) -> Target | None:
    """The target of a report URL, or None when any part is unknown or does not fit."""
    unit = db.session.get(AdminUnit, unit_id)
    form = db.session.scalar(sa.select(Form).where(Form.code == form_code))
    version = form and entry_queries.latest_published(form)
    period = version and entry_queries.period_by_code(version.period_type, period_code)
    if unit is None or period is None or not unit.valid_on(reference_day(period)):
        return None
    if unit.level.rank >= version.fill_level.rank:
        return None
    return Target(form, version, period, unit)


def target_of(report: UnitReport) -> Target | None:
    version = entry_queries.latest_published(report.form)
    if version is None:
        return None
    return Target(report.form, version, report.period, report.unit)


def has_report(unit: AdminUnit, fill_level: AdminLevel) -> bool:
    """Whether ``unit`` has a report of a form filled at ``fill_level`` (not the root)."""
    return unit.parent_id is not None and unit.level.rank < fill_level.rank


def children(unit: AdminUnit, day: date) -> list[AdminUnit]:
    """The units directly below ``unit`` on ``day``, by code."""
    return list(db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.parent_id == unit.id, valid_on(day))
        .options(so.joinedload(AdminUnit.level)).order_by(AdminUnit.code)))


def find(form_id: int, unit_id: int, period_id: int) -> UnitReport | None:
    """The report row, freshly read (None while the report is open and never submitted)."""
    return db.session.scalar(
        sa.select(UnitReport).where(UnitReport.form_id == form_id,
                                    UnitReport.unit_id == unit_id,
                                    UnitReport.period_id == period_id)
        .execution_options(populate_existing=True))


def report_for(t: Target) -> UnitReport | None:
    return find(t.form.id, t.unit.id, t.period.id)


def parent_report(t: Target) -> UnitReport | None:
    """The report of the unit above (a district's, before the reform), if it has a row."""
    if t.unit.parent_id is None:
        return None
    return find(t.form.id, t.unit.parent_id, t.period.id)


def with_rows(model, t: Target, units: sa.Select) -> list[tuple[AdminUnit, object]]:
    """(unit, its row of ``model`` for the form and period, or None) for ``units``: one
    outer join, no list of ids."""
    return list(db.session.execute(
        units.add_columns(model).outerjoin(model, sa.and_(
            model.unit_id == AdminUnit.id, model.form_id == t.form.id,
            model.period_id == t.period.id))
        .execution_options(populate_existing=True)).tuples())


@dataclass
class Child:
    """One unit directly below a report, with its submission (village) or report."""

    unit: AdminUnit
    is_village: bool
    submission: Submission | None = None
    report: UnitReport | None = None

    @property
    def state(self) -> str:
        if self.is_village:
            return self.submission.state if self.submission else entry_states.NOT_STARTED
        return self.report.state if self.report else states.OPEN

    @property
    def approved(self) -> bool:
        return self.state == states.APPROVED


def child_states(t: Target) -> list[Child]:
    """Every unit directly below the target on its reference day, with its state.

    Units at the fill level are villages (their submission counts); units above it have
    reports; units at other levels (deeper than the fill level) do not take part. Two
    statements, whatever the number of units below.
    """
    below = (sa.select(AdminUnit).join(AdminLevel, AdminUnit.level_id == AdminLevel.id)
             .where(AdminUnit.parent_id == t.unit.id, valid_on(t.day))
             .options(so.contains_eager(AdminUnit.level)).order_by(AdminUnit.code))
    villages = with_rows(Submission, t, below.where(AdminUnit.level_id == t.fill_level.id))
    reporting = with_rows(UnitReport, t, below.where(AdminLevel.rank < t.fill_level.rank))
    result = [Child(u, True, submission=sub) for u, sub in villages]
    result += [Child(u, False, report=rep) for u, rep in reporting]
    return sorted(result, key=lambda c: c.unit.code)


def pending(children_: list[Child]) -> list[Child]:
    """The children that are not approved (to be named, with a reason, to submit anyway)."""
    return [c for c in children_ if not c.approved]


# Scope -------------------------------------------------------------------------------------

def scope_roots(user: User, day: date) -> list[AdminUnit]:
    """The units a user answers for on ``day``: their unit, or the units it was made of then
    (commune 03388 of 2026 answers for the old communes merged into it); every root for the
    unscoped administrator."""
    if user.unit_id is None:
        return list(db.session.scalars(sa.select(AdminUnit).where(
            AdminUnit.parent_id.is_(None), valid_on(day)).order_by(AdminUnit.code)))
    return predecessors_on(user.unit, day)


def scope_roots_ids(user: User) -> list[int] | None:
    """The user's unit and the units that went into it (through lineage): the roots of
    their scope (None: unrestricted)."""
    if user.unit_id is None:
        return None
    from ..catalogs.queries import predecessors

    return [user.unit_id, *(step.unit.id for step in predecessors(user.unit))]


def listing(user: User, period_id: int | None = None, form_id: int | None = None,
            state: str | None = None) -> sa.Select:
    """The unit reports in ``user``'s scope, newest change first, filtered."""
    query = sa.select(UnitReport).options(so.joinedload(UnitReport.unit),
                                          so.joinedload(UnitReport.period),
                                          so.joinedload(UnitReport.form))
    query = filtered(query, UnitReport, user, period_id, form_id,
                     state if state in states.STATES else None)
    return query.order_by(UnitReport.updated_at.desc(), UnitReport.id.desc())


def filtered(query: sa.Select, model, user: User, period_id: int | None,
             form_id: int | None, state: str | None) -> sa.Select:
    """``query`` of a report ``model`` (unit reports, received reports) limited to ``user``'s
    scope and to the list filters' period, form and (already checked) state."""
    roots = scope_roots_ids(user)
    if roots is not None:
        query = query.where(model.unit_id.in_(subtree(*roots)))
    if period_id:
        query = query.where(model.period_id == period_id)
    if form_id:
        query = query.where(model.form_id == form_id)
    if state:
        query = query.where(model.state == state)
    return query


def filter_choices() -> tuple[list[Period], list[Form]]:
    """The periods (newest first) and the forms with a published version."""
    periods = db.session.scalars(sa.select(Period).order_by(Period.start_date.desc(),
                                                            Period.code))
    published = sa.select(FormVersion.form_id).where(FormVersion.status == FormStatus.PUBLISHED)
    forms = db.session.scalars(sa.select(Form).where(Form.id.in_(published))
                               .order_by(Form.code))
    return list(periods), list(forms)
