"""Reads for the commune's entry on a village's behalf (nhập thay) and its paper phiếu.

Where a village has no phone, its head fills the printed phiếu (:func:`paper`) and an officer
of the commune types it in on the village's form (``/entry/for/…``). The list of what is due
(:func:`villages_due`) reads the commune's villages, the forms and open periods once, and the
submissions of all its villages in one statement: the page costs the same few statements for
3 villages or 60.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..catalogs.models import AdminUnit
from ..catalogs.queries import children
from ..extensions import db
from ..indicators.models import Indicator
from . import formbuilder, queries
from .formbuilder import FormSpec, Grid
from .models import Submission, SubmissionValue, SubmissionVersion
from .queries import Due
from .services import Target

#: Empty rows printed under each ethnic-group grid, for groups not listed; more when the
#: commune has reported no group yet (a first period), so the grid still has room.
BLANK_ROWS = 3
FIRST_PERIOD_ROWS = 6


@dataclass
class VillageDue:
    """A village of the commune and its forms due in open periods."""

    village: AdminUnit
    items: list[Due]


def villages_due(commune: AdminUnit, day: date) -> list[VillageDue]:
    """The commune's villages valid on ``day``, each with the forms due in open periods."""
    villages = children(commune, on=day)
    if not villages:
        return []
    targets: dict[int, list] = {}
    for level_id in {v.level_id for v in villages}:
        targets[level_id] = [(version, period)
                             for version in queries.published_for_level(level_id)
                             for period in queries.open_periods(version.period_type, day)]
    period_ids = {p.id for pairs in targets.values() for _v, p in pairs}
    found = {}
    if period_ids:
        rows = db.session.scalars(
            sa.select(Submission).join(AdminUnit, Submission.unit_id == AdminUnit.id)
            .where(AdminUnit.parent_id == commune.id, Submission.period_id.in_(period_ids)))
        found = {(s.unit_id, s.form_id, s.period_id): s for s in rows}
    return [VillageDue(v, [Due(version, period, found.get((v.id, version.form_id, period.id)))
                           for version, period in targets[v.level_id]]) for v in villages]


@dataclass
class Paper:
    """What the paper phiếu prints for one village and period."""

    target: Target
    spec: FormSpec
    grids: dict[str, Grid]

    @staticmethod
    def blank_rows(grid: Grid) -> int:
        """Empty rows to write other groups in under ``grid``."""
        return BLANK_ROWS if grid.rows else FIRST_PERIOD_ROWS


def commune_keys(target: Target) -> dict[tuple[str, str], None]:
    """(indicator code, cell key) of the cells the commune's villages reported last period:
    the ethnic groups that live in the commune, pre-printed as grid rows."""
    before = queries.previous_period(target.period)
    if before is None or target.unit.parent_id is None:
        return {}
    villages = sa.select(AdminUnit.id).where(AdminUnit.parent_id == target.unit.parent_id)
    rows = db.session.execute(
        sa.select(Indicator.code, SubmissionValue.disaggregation).distinct()
        .join(SubmissionValue.version).join(SubmissionVersion.submission)
        .join(Indicator, SubmissionValue.indicator_id == Indicator.id)
        .where(Submission.form_id == target.form_version.form_id,
               Submission.period_id == before.id, Submission.unit_id.in_(villages),
               SubmissionVersion.number == Submission.current_version,
               SubmissionValue.disaggregation != ""))
    return dict.fromkeys(rows)


def paper(target: Target) -> Paper:
    """The fields, units of measure and grids (commune's groups first) of the phiếu."""
    spec = formbuilder.load_spec(target.form_version)
    own = queries.previous_values(target.form_version.form, target.unit, target.period)
    keys = commune_keys(target) | dict.fromkeys(own.values)
    return Paper(target, spec, formbuilder.layout(spec, [], keys))
