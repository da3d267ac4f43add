"""Helpers for the API write tests (no tests here): clients bound to a unit, a world of
approved commune reports, and the DHIS2 mapping of its indicators and communes."""

from __future__ import annotations

import itertools
from decimal import Decimal

import sqlalchemy as sa

from dantoc.api import clients
from dantoc.catalogs.models import AdminUnit
from dantoc.exchange import dhis2
from dantoc.extensions import db
from tests.test_reports_support import COMMUNE, OTHER_COMMUNE
from tests.test_statistics_support import make_published

_seq = itertools.count(1)
REPORTER = "api_reporter"


def unit_at(code: str) -> AdminUnit:
    """The unit version with ``code`` valid today."""
    return clients.unit_valid_today(code)


def bound_client(unit_code: str | None = "12", role: str = REPORTER,
                 name: str | None = None) -> tuple:
    """A committed API client bound to the unit ``unit_code`` and its header."""
    unit = unit_at(unit_code) if unit_code else None
    client, token = clients.create_client(name or f"reporter-{next(_seq)}", role, unit)
    db.session.commit()
    return client, {"Authorization": f"Bearer {token}"}


def element_csv(catalogue: str) -> str:
    """Data elements for the questionnaire's numeric indicators (and one disaggregation)."""
    return ("catalogue_version,indicator,disaggregation,data_element,category_option_combo\n"
            f"{catalogue},households,,deHouseho01,\n"
            f"{catalogue},poor_households,,dePoorHou01,\n"
            f"{catalogue},population,ethnic_group=03;sex=female,dePopulat01,cocThaiF001\n"
            f"{catalogue},population,ethnic_group=01;sex=male,dePopulat01,cocKinhM001\n")


def org_unit_csv() -> str:
    rows = [f"{u.code},{u.valid_from.isoformat()},OU{u.code}"
            for u in (unit_at(COMMUNE), unit_at(OTHER_COMMUNE))]
    return "unit_code,unit_valid_from,org_unit\n" + "\n".join(rows) + "\n"


def load_mappings(catalogue: str) -> None:
    dhis2.load_mapping(element_csv(catalogue))
    dhis2.load_mapping(org_unit_csv())
    db.session.commit()


def approved_world():
    """Two approved commune reports of a quarterly questionnaire (2026-Q4), not published."""
    return make_published(publish=False)


def numbers(figures) -> dict[tuple[str, str], Decimal]:
    """(indicator code, disaggregation) → number, of aggregate figures or received ones."""
    found = {}
    for f in figures:
        code = f.indicator.code
        key = getattr(f, "key", None)
        key = f.disaggregation if key is None else key
        if not isinstance(f.value, dict):
            found[(code, key)] = Decimal(f.value)
    return found


def unit_id(code: str) -> int:
    return db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.code == code))
