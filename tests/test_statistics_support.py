"""Helpers for the statistics tests (no tests here): two communes whose reports are
approved through the report services, then published; a citizen's browser; the figures.

Population (ethnic group × sex) is small on purpose: commune 03388 has 3 Thái women and 12
Kinh men; commune 03637 has 40 Thái women and 22 Kinh men, so the public tables must hide
"3" and a second cell that would give it away.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.reports import queries, services
from dantoc.reports.models import UnitReport
from dantoc.statistics import services as publication
from dantoc.statistics.models import ReportPublication
from tests.factories import make_user
from tests.security_tree import fresh_client
from tests.test_reports_support import (
    COMMUNE,
    OTHER_COMMUNE,
    World,
    browser,
    make_world,
    put,
    village_values,
)


@dataclass
class Published:
    world: World
    reports: dict[str, UnitReport]
    province: object
    commune_officers: dict[str, object]

    @property
    def release_url(self) -> str:
        return f"/thong-ke/{self.world.version.form.code}/{self.world.period.code}/"

    def commune_url(self, code: str = COMMUNE) -> str:
        return f"{self.release_url}xa/{code}"

    def csv_url(self, table: str = "population") -> str:
        return f"{self.release_url}{table}.csv"


#: village index → (households, Kinh men, Thái women, poor households)
HERE = ((10, 5, 2, 1), (8, 7, 1, 2))
THERE = ((30, 10, 25, 6), (20, 12, 15, 4))


def approve_commune(w: World, unit, province) -> UnitReport:
    """Submit the commune report as its officer and approve it as the province."""
    officer = make_user("commune_officer", unit_code=unit.code)
    t = queries.target(w.version.form.code, w.period.code, unit.id)
    report = services.submit(t, officer, 0, {})
    db.session.commit()
    services.decide(report, "approve", province, report.version)
    db.session.commit()
    return report


def make_published(publish: bool = True) -> Published:
    """Two approved commune reports; both published unless ``publish`` is False."""
    w = make_world(villages=len(HERE), others=len(THERE), period_type="quarter")
    for villages, rows in ((w.villages, HERE), (w.others, THERE)):
        for village, (households, kinh_men, thai_women, poor) in zip(villages, rows,
                                                                     strict=True):
            put(w.version, village, w.period,
                village_values(households, kinh_men, thai_women, poor=poor))
    province = make_user("province_officer", unit_code="12")
    reports = {}
    for code, unit in ((COMMUNE, w.commune), (OTHER_COMMUNE, w.others[0].parent)):
        reports[code] = approve_commune(w, unit, province)
        if publish:
            publication.publish(reports[code], province, 0)
            db.session.commit()
    return Published(w, reports, province, {})


def publication_of(report: UnitReport) -> ReportPublication | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(ReportPublication).where(
        ReportPublication.report_id == report.id))


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.like("publication.%")).order_by(AuditEvent.id)))


def citizen(app):
    return fresh_client(app)


__all__ = ["browser", "citizen"]
