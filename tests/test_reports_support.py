"""Helpers for the unit-report tests (no tests here): village submissions written straight
into the tables in any state, officers with a signed-in browser, a pre-2025 tree with a
district, and counters that prove a refused request changed nothing."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.catalogs.models import AdminLevel, AdminUnit, UnitLineage, UnitType
from dantoc.extensions import db
from dantoc.indicators.models import FormVersion, Period
from dantoc.reports.models import UnitReport, UnitReportSource
from dantoc.submissions import rollups
from dantoc.submissions.models import Submission, SubmissionValue, SubmissionVersion
from dantoc.submissions.services import typed
from tests.factories import (  # browser and officer: re-exported, report tests import them here
    browser,  # noqa: F401
    make_period,
    make_questionnaire,
    make_village,
    officer,
    unit,
)

_seq = itertools.count(1)
COMMUNE = "03388"  # Phường Đoàn Kết, under province 12 since 2025-07-01
OTHER_COMMUNE = "03637"  # Xã Mường Kim, another current commune of province 12
OLD_START, OLD_END = date(2000, 1, 1), date(2025, 6, 30)



def officer_at(app, role: str, scope: AdminUnit):
    """As :func:`officer`, for a unit that is not valid on 2025-07-01 (an old unit)."""
    return officer(app, role, scope=scope)

def put(version: FormVersion, village: AdminUnit, period: Period, values: dict | None = None,
        *, state: str = "approved", versions: int = 1) -> Submission:
    """A village submission in ``state`` with ``values`` on its current version.

    ``values`` maps "indicator_code" or "indicator_code|disaggregation key" to a value
    (Decimal, bool or text). A draft has one unsubmitted version and no values. Written
    straight into the tables, as the demo generators write, so the communes' rollups of
    approved values are rebuilt the way the generators rebuild them.
    """
    current = 0 if state == "draft" else versions
    submission = Submission(client_uuid=uuid.uuid4(), form_id=version.form_id,
                            form_version_id=version.id, unit_id=village.id,
                            period_id=period.id, state=state, current_version=current,
                            state_reason="Sai số liệu" if state == "returned" else None)
    db.session.add(submission)
    db.session.flush()
    for number in range(1, max(current, 1) + 1):
        add_version(submission, number, values, submitted=state != "draft")
    rollups.rebuild([period.id])
    db.session.commit()
    return submission


def add_version(submission: Submission, number: int, values: dict | None, *,
                submitted: bool = True) -> SubmissionVersion:
    """Add version ``number`` (with its typed values when submitted); flushed."""
    indicators = {i.indicator.code: i.indicator for s in submission.form_version.sections
                  for i in s.items}
    row = SubmissionVersion(submission_id=submission.id, number=number,
                            base_version=number - 1, payload={},
                            content_hash=f"{number:064d}" if submitted else None,
                            submitted_at=datetime.now(UTC) if submitted else None)
    db.session.add(row)
    db.session.flush()
    if submitted:
        for name, value in (values or {}).items():
            code, _sep, key = name.partition("|")
            db.session.add(SubmissionValue(version_id=row.id, indicator_id=indicators[code].id,
                                           disaggregation=key, **typed(value)))
        db.session.flush()
    return row


def village_values(households: int, kinh_male: int = 0, thai_female: int = 0, *,
                   poor: int = 0, road: bool = True, note: str = "") -> dict:
    """Values for :func:`tests.factories.make_questionnaire`'s indicators."""
    values = {"households": Decimal(households), "poor_households": Decimal(poor),
              "population|ethnic_group=01;sex=male": Decimal(kinh_male),
              "population|ethnic_group=03;sex=female": Decimal(thai_female),
              "road_hardened": road, "health_access": "b"}
    if note:
        values["note"] = note
    return values


@dataclass
class World:
    """A questionnaire, an open year period and villages under two current communes."""

    version: FormVersion
    period: Period
    villages: list[AdminUnit]
    others: list[AdminUnit]

    @property
    def commune(self) -> AdminUnit:
        return unit(COMMUNE)

    @property
    def province(self) -> AdminUnit:
        return unit("12")

    def report_url(self, target: AdminUnit, suffix: str = "") -> str:
        return f"/reports/{self.version.form.code}/{self.period.code}/{target.id}{suffix}"


def make_world(villages: int = 3, others: int = 2, **form_kwargs) -> World:
    version = make_questionnaire(**form_kwargs)
    period = make_period(period_type=version.period_type,
                         code="2026-Q4" if version.period_type == "quarter" else "2026")
    here = [make_village(f"{COMMUNE}-R{next(_seq):02d}") for _ in range(villages)]
    there = [make_village(f"{OTHER_COMMUNE}-R{next(_seq):02d}", commune_code=OTHER_COMMUNE)
             for _ in range(others)]
    db.session.commit()
    return World(version, period, here, there)


def _type(level_code: str, type_code: str) -> tuple[AdminLevel, UnitType]:
    level = db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == level_code))
    kind = db.session.scalar(sa.select(UnitType).where(UnitType.code == type_code))
    return level, kind


def old_unit(code: str, level_code: str, type_code: str, parent: AdminUnit) -> AdminUnit:
    """A unit valid 2000-01-01..2025-06-30 (before the two-level government)."""
    level, kind = _type(level_code, type_code)
    row = AdminUnit(code=code, name=f"{kind.name} {code} (mẫu)", level_id=level.id,
                    unit_type_id=kind.id, parent_id=parent.id, valid_from=OLD_START,
                    valid_to=OLD_END, is_sample=True)
    db.session.add(row)
    db.session.flush()
    return row


@dataclass
class OldWorld:
    """2025-Q1: province 12 → district ZZH → communes ZZH1 (merged into 03388), ZZH2 →
    villages; a quarterly questionnaire and the period 2025-Q1 (open now)."""

    version: FormVersion
    period: Period
    district: AdminUnit
    communes: list[AdminUnit]
    villages: dict[str, list[AdminUnit]]

    def report_url(self, target: AdminUnit, suffix: str = "") -> str:
        return f"/reports/{self.version.form.code}/{self.period.code}/{target.id}{suffix}"


def make_old_world() -> OldWorld:
    version = make_questionnaire(period_type="quarter")
    period = make_period("2025-Q1", period_type="quarter", start=date(2025, 1, 1),
                         end=date(2025, 3, 31))
    district = old_unit("ZZH", "district", "huyen", unit("12"))
    communes = [old_unit(f"ZZH{n}", "commune", "xa", district) for n in (1, 2)]
    villages = {c.code: [old_unit(f"{c.code}-V{n}", "village", "ban", c) for n in (1, 2)]
                for c in communes}
    db.session.add(UnitLineage(kind="merge", from_unit_id=communes[0].id,
                               to_unit_id=unit(COMMUNE).id, effective_date=date(2025, 7, 1)))
    db.session.commit()
    return OldWorld(version, period, district, communes, villages)


def report_of(version: FormVersion, target: AdminUnit, period: Period) -> UnitReport | None:
    return db.session.scalar(sa.select(UnitReport).where(
        UnitReport.form_id == version.form_id, UnitReport.unit_id == target.id,
        UnitReport.period_id == period.id).execution_options(populate_existing=True))


def audit_actions(prefix: str = "report.") -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.like(f"{prefix}%")).order_by(AuditEvent.id)))


def counts() -> dict[str, int]:
    """Rows in the report tables and report audit rows (to prove nothing changed)."""
    db.session.expire_all()
    return {"reports": db.session.scalar(sa.select(sa.func.count()).select_from(UnitReport)),
            "sources": db.session.scalar(sa.select(sa.func.count())
                                         .select_from(UnitReportSource)),
            "audit": len(audit_actions())}


def snapshot(report: UnitReport) -> tuple:
    db.session.expire_all()
    row = db.session.get(UnitReport, report.id)
    return row.state, row.version, row.state_reason, row.decided_by_id
