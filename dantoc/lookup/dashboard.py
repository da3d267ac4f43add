"""Dashboards for the province and for each commune (issue #11 item 3), computed by the
database: the completeness of the current period (villages by state, one GROUP BY) and the
trend of key indicators over the last periods (the lookup's own query). Charts are drawn as
inline SVG on the server from :class:`Chart` coordinates, always beside the table of their
numbers; there is no chart library and no JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..catalogs.models import AdminLevel, AdminUnit
from ..extensions import db
from ..i18n.formatting import format_period
from ..indicators import visibility
from ..indicators.models import FormItem, FormStatus, FormVersion, Indicator, Period
from ..submissions import queries as entry_queries
from ..submissions import states
from ..submissions.models import Submission
from . import query

#: How many periods a trend shows (two years of quarters), and how many key indicators.
TREND_PERIODS = 8
KEY_INDICATORS = 4
#: The chart's drawing box (SVG user units); the SVG scales to the screen's width.
WIDTH, HEIGHT, PAD = 320, 140, 24


@dataclass(frozen=True)
class Completeness:
    """Villages of the scope for one form and period, by state (``not_started`` included)."""

    version: FormVersion
    period: Period
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def bars(self) -> list[tuple[str, int, float, float]]:
        """(state, villages, x, width) of a 100 % stacked bar in SVG units."""
        x, out = 0.0, []
        for state in states.STATUSES:
            n = self.counts.get(state, 0)
            w = WIDTH * n / self.total if self.total else 0
            out.append((state, n, x, w))
            x += w
        return out


@dataclass(frozen=True)
class Trend:
    """One indicator's value in the scope for each of the last periods."""

    indicator: Indicator
    points: list[tuple[Period, Decimal | None]]
    #: Periods whose figure was apportioned from a split unit (estimated).
    estimated: frozenset[int] = frozenset()

    def line(self) -> tuple[str, list[tuple[float, float, Period, Decimal]]]:
        """The SVG polyline points and the dots (x, y, period, value)."""
        known = [v for _p, v in self.points if v is not None]
        top = max(known, default=Decimal(0)) or Decimal(1)
        step = (WIDTH - 2 * PAD) / max(len(self.points) - 1, 1)
        dots = [(PAD + i * step, HEIGHT - PAD - float(v / top) * (HEIGHT - 2 * PAD), p, v)
                for i, (p, v) in enumerate(self.points) if v is not None]
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _p, _v in dots), dots


def _villages_in(scope: AdminUnit | None, day: date):
    village = so.aliased(AdminUnit)
    level = sa.select(AdminLevel.id).where(AdminLevel.code == "village").scalar_subquery()
    where = [village.level_id == level, village.valid_from <= day,
             sa.or_(village.valid_to.is_(None), village.valid_to >= day)]
    if scope is not None:
        where.append(village.parent_id == scope.id)
    return village, where


def completeness(scope: AdminUnit | None, day: date) -> list[Completeness]:
    """For each village form, its newest open period: villages by state in the scope."""
    village, where = _villages_in(scope, day)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(village).where(*where))
    result = []
    levels = db.session.scalars(sa.select(AdminLevel.id).where(AdminLevel.code == "village"))
    for level_id in levels:
        for version in entry_queries.published_for_level(level_id):
            periods = entry_queries.open_periods(version.period_type, day)
            if not periods:
                continue
            period = periods[-1]
            rows = db.session.execute(
                sa.select(Submission.state, sa.func.count()).join(
                    village, village.id == Submission.unit_id)
                .where(Submission.form_id == version.form_id,
                       Submission.period_id == period.id, *where)
                .group_by(Submission.state))
            counts = dict(rows.tuples().all())
            counts[states.NOT_STARTED] = max(total - sum(counts.values()), 0)
            result.append(Completeness(version, period, counts))
    return result


def trend_type(day: date) -> str | None:
    """The period type a trend follows: the one with the most periods begun by ``day``; on a
    tie the shorter periods (months, then quarters, then years), so that the answer never
    depends on the order in which the database happens to group."""
    shorter = sa.case({"month": 0, "quarter": 1}, value=Period.period_type, else_=2)
    return db.session.scalar(
        sa.select(Period.period_type).where(Period.start_date <= day)
        .group_by(Period.period_type).order_by(sa.func.count().desc(), shorter).limit(1))


def key_indicators(user=None, chosen: list[Indicator] | None = None,
                   period_type: str | None = None) -> list[Indicator]:
    """The indicators a dashboard follows: those asked for, else the first numbers summed
    on the newest indicator catalogue (on a published form of ``period_type`` when given, so
    that the trend has figures) and its derived rates; of ``user``'s department's groups
    when they have one."""
    if chosen:
        return chosen
    seen = visibility.only_visible(Indicator.id, user)
    numbers = (Indicator.formula.is_(None), Indicator.aggregation == "sum",
               Indicator.value_type.in_(("integer", "decimal")), seen)
    if period_type is not None:
        numbers += (Indicator.id.in_(
            sa.select(FormItem.indicator_id)
            .join(FormVersion, FormVersion.id == FormItem.form_version_id)
            .where(FormVersion.period_type == period_type,
                   FormVersion.status == FormStatus.PUBLISHED)),)
    newest = sa.select(sa.func.max(Indicator.catalogue_version_id)).where(
        *numbers).scalar_subquery()
    order = (Indicator.catalogue_version_id.desc(), Indicator.group_id, Indicator.id)
    summed = db.session.scalars(
        sa.select(Indicator).where(*numbers).order_by(*order).limit(KEY_INDICATORS)).all()
    rates = db.session.scalars(
        sa.select(Indicator).where(Indicator.formula.is_not(None), seen,
                                   Indicator.catalogue_version_id == newest)
        .order_by(*order).limit(KEY_INDICATORS)).all()
    return [*summed, *rates]


def trends(scope: AdminUnit | None, indicators: list[Indicator],
           day: date) -> list[Trend]:
    """Each indicator over the last :data:`TREND_PERIODS` periods of the type it is most
    reported in (approved data)."""
    if not indicators:
        return []
    period_type = trend_type(day)
    periods = list(reversed(db.session.scalars(
        sa.select(Period).where(Period.period_type == period_type, Period.start_date <= day)
        .order_by(Period.start_date.desc()).limit(TREND_PERIODS)).all()))
    if not periods:
        return []
    # Re-based onto today's units: a series across the 2025 reform reads on today's communes.
    by_period, estimated = query.series(query.Request(tuple(indicators), tuple(periods), scope,
                                                      rebase=True, day=day))
    return [Trend(i, [(p, by_period.get((i.id, p.id))) for p in periods],
                  frozenset(p.id for p in periods if (i.id, p.id) in estimated))
            for i in indicators]


def period_label(period: Period) -> str:
    return format_period(period)
