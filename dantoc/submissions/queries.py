"""Reads for data entry: what is due, the target of a form URL, last period's values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import has_request_context, request

from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators.models import DefinitionStamp, Form, FormStatus, FormVersion, Indicator, Period
from . import spec_cache, states
from .models import Submission, SubmissionValue, SubmissionVersion


@dataclass
class Due:
    """One form to fill for one period, with the village's submission if there is one."""

    form_version: FormVersion
    period: Period
    submission: Submission | None

    @property
    def status(self) -> str:
        return self.submission.state if self.submission else states.NOT_STARTED


def latest_published(form: Form) -> FormVersion | None:
    """The newest published version of ``form``."""
    return db.session.scalar(
        sa.select(FormVersion).where(FormVersion.form_id == form.id,
                                     FormVersion.status == FormStatus.PUBLISHED)
        .order_by(FormVersion.number.desc()).limit(1))


def published_target(form_code: str,
                     period_code: str) -> tuple[FormVersion | None, Period | None]:
    """The newest published version of the form with this code (its form loaded) and the
    period of this code of the version's period type, in one statement: (None, None) when
    the form has no published version, (version, None) when there is no such period."""
    row = db.session.execute(_published_target(), {"form_code": form_code,
                                                   "period_code": period_code}).first()
    return (row[0], row[1]) if row is not None else (None, None)


@dataclass(frozen=True)
class Loaded:
    """What a form URL names, read in one statement: the unit, the newest published version
    of the form (its form loaded), the period, the unit's submission of that form for the
    period, and the definition stamp (:mod:`.spec_cache`). None where there is no such row
    (no unit: everything is None)."""

    unit: AdminUnit | None
    version: FormVersion | None
    period: Period | None
    submission: Submission | None
    stamp: str


def entry_target(unit_id: int, form_code: str, period_code: str, *,
                 previous: bool = False) -> Loaded:
    """The target of an entry URL in one statement (it was four: the unit, the form with
    its period, the submission and the stamp). ``previous``: also find last period's
    submission of the unit (for a page that shows last period's values; a submit shows
    none), which :func:`previous_values` then needs not look for."""
    row = db.session.execute(_entry_target(previous), {
        "unit_id": unit_id, "form_code": form_code, "period_code": period_code}).first()
    if row is None:
        return Loaded(None, None, None, None, "")
    loaded = Loaded(row[0], row[1], row[2], row[3], row[4] or "")
    if previous and loaded.version is not None and loaded.period is not None:
        request.environ.setdefault(_PREVIOUS, {})[
            (loaded.version.form_id, unit_id, loaded.period.id)] = row[5]
    return loaded


#: Last period's submission id (or None) of the targets this request read with
#: :func:`entry_target`, by (form, unit, period), in the request's WSGI environ.
_PREVIOUS = "dantoc.previous_submission"


# The statements of every form page, built once (their parameters bound when they run):
# building a statement's expressions costs more than running it on a small table.
@cache
def _entry_target(previous: bool) -> sa.Select:
    stamp = (sa.select(DefinitionStamp.stamp).where(DefinitionStamp.name == spec_cache.NAME)
             .scalar_subquery())
    version = (sa.select(FormVersion.id).join(FormVersion.form)
               .where(Form.code == sa.bindparam("form_code"),
                      FormVersion.status == FormStatus.PUBLISHED)
               .order_by(FormVersion.number.desc()).limit(1).scalar_subquery())
    columns = [AdminUnit, FormVersion, Period, Submission, stamp]
    if previous:
        columns.append(_previous_id())
    return (sa.select(*columns)
            .select_from(AdminUnit)
            .outerjoin(FormVersion, FormVersion.id == version)
            .outerjoin(Form, Form.id == FormVersion.form_id)
            .outerjoin(Period, sa.and_(Period.period_type == FormVersion.period_type,
                                       Period.code == sa.bindparam("period_code")))
            .outerjoin(Submission, sa.and_(Submission.form_id == FormVersion.form_id,
                                           Submission.unit_id == AdminUnit.id,
                                           Submission.period_id == Period.id))
            .where(AdminUnit.id == sa.bindparam("unit_id"))
            .options(so.contains_eager(FormVersion.form)))


@cache
def _published_target() -> sa.Select:
    return (sa.select(FormVersion, Period).join(FormVersion.form)
            .outerjoin(Period, sa.and_(Period.period_type == FormVersion.period_type,
                                       Period.code == sa.bindparam("period_code")))
            .where(Form.code == sa.bindparam("form_code"),
                   FormVersion.status == FormStatus.PUBLISHED)
            .options(so.contains_eager(FormVersion.form))
            .order_by(FormVersion.number.desc()).limit(1))


def _previous_id() -> sa.ScalarSelect:
    """Last period's submission of the outer query's unit (by code: a unit re-created by a
    merge keeps it) and form, as :func:`_previous_submission` finds it."""
    period, submission, unit = so.aliased(Period), so.aliased(Submission), so.aliased(AdminUnit)
    before = (sa.select(period.id).where(period.period_type == Period.period_type,
                                         period.end_date < Period.start_date)
              .order_by(period.end_date.desc()).limit(1).correlate(Period).scalar_subquery())
    return (sa.select(submission.id).join(unit, submission.unit_id == unit.id)
            .where(submission.form_id == FormVersion.form_id,
                   submission.period_id == before, unit.code == AdminUnit.code,
                   submission.current_version > 0)
            .order_by(submission.id.desc()).limit(1)
            .correlate(AdminUnit, FormVersion, Period).scalar_subquery())


@cache
def _previous_submission() -> sa.Select:
    before = (sa.select(Period.id).where(Period.period_type == sa.bindparam("period_type"),
                                         Period.end_date < sa.bindparam("start"))
              .order_by(Period.end_date.desc()).limit(1).scalar_subquery())
    return (sa.select(Submission.id).join(Submission.unit)
            .where(Submission.form_id == sa.bindparam("form_id"),
                   Submission.period_id == before,  # found in the same statement
                   AdminUnit.code == sa.bindparam("unit_code"),
                   Submission.current_version > 0)
            .order_by(Submission.id.desc()).limit(1))


@cache
def _keys_nearby() -> sa.Select:
    value, version = SubmissionValue.__table__, SubmissionVersion.__table__
    submission, indicator, unit = (Submission.__table__, Indicator.__table__,
                                   AdminUnit.__table__)
    return (sa.select(indicator.c.code, value.c.disaggregation).distinct()
            .select_from(value.join(indicator, value.c.indicator_id == indicator.c.id)
                         .join(version, value.c.version_id == version.c.id)
                         .join(submission, version.c.submission_id == submission.c.id)
                         .join(unit, submission.c.unit_id == unit.c.id))
            .where(unit.c.parent_id == sa.bindparam("parent_id"),
                   indicator.c.code.in_(sa.bindparam("codes", expanding=True)),
                   value.c.disaggregation != ""))


def published_for_level(level_id: int) -> list[FormVersion]:
    """The newest published version of every form filled at this level."""
    newest = (sa.select(FormVersion.form_id, sa.func.max(FormVersion.number).label("n"))
              .where(FormVersion.status == FormStatus.PUBLISHED).group_by(FormVersion.form_id)
              .subquery())
    return list(db.session.scalars(
        sa.select(FormVersion).join(newest, sa.and_(FormVersion.form_id == newest.c.form_id,
                                                    FormVersion.number == newest.c.n))
        .join(FormVersion.form).where(FormVersion.fill_level_id == level_id)
        .order_by(Form.code)))


def open_periods(period_type: str, day: date) -> list[Period]:
    return list(db.session.scalars(
        sa.select(Period).where(Period.period_type == period_type, Period.opens_on <= day,
                                Period.closes_on >= day).order_by(Period.closes_on)))


def due(unit: AdminUnit, day: date) -> list[Due]:
    """Forms for the unit's level, in periods of their type that are open on ``day``."""
    items = []
    for version in published_for_level(unit.level_id):
        for period in open_periods(version.period_type, day):
            submission = db.session.scalar(sa.select(Submission).where(
                Submission.form_id == version.form_id, Submission.unit_id == unit.id,
                Submission.period_id == period.id))
            items.append(Due(version, period, submission))
    return sorted(items, key=lambda d: (d.period.closes_on, d.form_version.form.code))


def period_by_code(period_type: str, code: str) -> Period | None:
    return db.session.scalar(sa.select(Period).where(Period.period_type == period_type,
                                                     Period.code == code))


def previous_period(period: Period) -> Period | None:
    """The period of the same type that ended last before ``period`` started."""
    return db.session.scalar(
        sa.select(Period).where(Period.period_type == period.period_type,
                                Period.end_date < period.start_date)
        .order_by(Period.end_date.desc()).limit(1))


@dataclass
class Previous:
    """Last period's values by (indicator code, disaggregation key)."""

    values: dict[tuple[str, str], object]
    approved: bool


def previous_values(form: Form, unit: AdminUnit, period: Period) -> Previous:
    """The last period's submitted values of this form for the same unit code: one
    statement (none when the request's target statement found no such submission)."""
    known = request.environ.get(_PREVIOUS, {}) if has_request_context() else {}
    key = (form.id, unit.id, period.id)
    submission_id = known[key] if key in known else db.session.scalar(
        _previous_submission(), {
            "period_type": period.period_type, "start": period.start_date,
            "form_id": form.id, "unit_code": unit.code})
    if submission_id is None:
        return Previous({}, False)
    values, approved = {}, False
    for code, key, numeric, text, flag, state in db.session.execute(
            _previous_values(), {"submission_id": submission_id}):
        values[(code, key)] = numeric if numeric is not None else (
            flag if flag is not None else text)
        approved = state == states.APPROVED
    return Previous(values, approved)


@cache
def _previous_values() -> sa.Select:
    """A submission's current values with its state (the tables' own columns: no ORM
    entities to build)."""
    value, version = SubmissionValue.__table__, SubmissionVersion.__table__
    submission, indicator = Submission.__table__, Indicator.__table__
    return (sa.select(indicator.c.code, value.c.disaggregation, value.c.value_numeric,
                      value.c.value_text, value.c.value_bool, submission.c.state)
            .select_from(value.join(version, value.c.version_id == version.c.id)
                         .join(submission, version.c.submission_id == submission.c.id)
                         .join(indicator, value.c.indicator_id == indicator.c.id))
            .where(submission.c.id == sa.bindparam("submission_id"),
                   version.c.number == submission.c.current_version))


def keys_nearby(unit: AdminUnit, codes: list[str]) -> dict[str, set[str]]:
    """Indicator code → the disaggregation keys that this village and the other villages of
    its commune have reported for it (any period): their ethnic groups, offered first when
    a village head adds a row to a grid."""
    if not codes or unit.parent_id is None:
        return {}
    rows = db.session.execute(_keys_nearby(), {"parent_id": unit.parent_id, "codes": codes})
    nearby: dict[str, set[str]] = {}
    for code, key in rows:
        nearby.setdefault(code, set()).add(key)
    return nearby


def find_by_uuid(key) -> Submission | None:
    """The submission with a client UUID (unique per form; UUIDs do not collide)."""
    return db.session.scalar(sa.select(Submission).where(Submission.client_uuid == key)
                             .order_by(Submission.id).limit(1))


def value_counts(version: SubmissionVersion) -> tuple[int, int]:
    """(values stored, indicators answered) of a version."""
    row = db.session.execute(
        sa.select(sa.func.count(SubmissionValue.id),
                  sa.func.count(sa.distinct(SubmissionValue.indicator_id)))
        .where(SubmissionValue.version_id == version.id)).one()
    return int(row[0]), int(row[1])
