"""The sample village questionnaires (yearly and quarterly) and the demo periods."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..catalogs.models import AdminLevel
from ..extensions import db
from ..indicators import services
from ..indicators.models import CatalogueVersion, Form, Indicator, Period
from .catalogue import DEMO_CATALOGUE

NOT_OFFICIAL = "Mẫu để trình diễn, không phải biểu mẫu chính thức."

#: code, name, period type, sections: (title, indicator codes).
QUESTIONNAIRES = (
    ("LC-DEMO-PT-NAM", "Phiếu thông tin thôn, bản hằng năm (mẫu)", "year", (
        ("Dân số và hộ gia đình", ("households", "population")),
        ("Nghèo đói, an sinh xã hội", ("poor_households", "near_poor_households")),
        ("Cơ sở hạ tầng", ("households_with_power", "households_with_clean_water",
                           "road_hardened", "distance_to_commune_km", "households_with_phone",
                           "households_with_internet")),
        ("Giáo dục, y tế, văn hóa", ("has_school", "health_access", "has_cultural_house")),
        ("Tôn giáo và an ninh", ("religious_followers", "security_incidents")),
    )),
    ("LC-DEMO-PT-QUY", "Phiếu báo cáo nhanh hằng quý thôn, bản (mẫu)", "quarter", (
        ("Hộ nghèo", ("households", "poor_households")),
        ("An ninh, trật tự", ("security_incidents",)),
    )),
)

#: type, code, reporting opens, closes: 2025 is closed, 2026 and 2026-Q4 are open in late
#: November 2026.
PERIODS = (
    ("year", "2025", date(2025, 11, 1), date(2026, 1, 31)),
    ("year", "2026", date(2026, 11, 1), date(2027, 1, 31)),
    ("quarter", "2026-Q4", date(2026, 11, 15), date(2027, 1, 15)),
)


def _village_level() -> AdminLevel:
    return db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == "village"))


def _build(code: str, name: str, period_type: str, sections: tuple) -> Form:
    catalogue = db.session.scalar(sa.select(CatalogueVersion).where(
        CatalogueVersion.code == DEMO_CATALOGUE))
    form = services.create_form(code=code, kind="phieu", name=name, catalogue_version=catalogue,
                                fill_level=_village_level(), period_type=period_type,
                                legal_basis=NOT_OFFICIAL)
    version = form.versions[0]
    for title, codes in sections:
        section = services.add_section(version, title)
        for indicator_code in codes:
            services.add_item(section, db.session.scalar(sa.select(Indicator).where(
                Indicator.catalogue_version_id == catalogue.id,
                Indicator.code == indicator_code)))
    services.publish(version)
    return form


def seed_questionnaires() -> list[Form]:
    """The published sample questionnaires (created where missing)."""
    forms = []
    for code, name, period_type, sections in QUESTIONNAIRES:
        existing = db.session.scalar(sa.select(Form).where(Form.code == code))
        forms.append(existing or _build(code, name, period_type, sections))
    return forms


def seed_periods() -> list[Period]:
    """The demo reporting periods (created where missing)."""
    periods = []
    for period_type, code, opens_on, closes_on in PERIODS:
        existing = db.session.scalar(sa.select(Period).where(
            Period.period_type == period_type, Period.code == code))
        periods.append(existing or services.create_period(
            period_type=period_type, code=code, opens_on=opens_on, closes_on=closes_on))
    return periods
