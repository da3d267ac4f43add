"""The demo data: idempotent, clearly marked as sample, and every demo account signs in."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from dantoc.accounts.models import User
from dantoc.accounts.passwords import password_problems
from dantoc.accounts.permissions import DEFAULT_ROLES
from dantoc.catalogs.models import AdminUnit, Department
from dantoc.demo import seed, seed_content, seed_history
from dantoc.demo.units import current_communes
from dantoc.extensions import db
from dantoc.indicators.models import (
    CatalogueVersion,
    Form,
    FormItem,
    Indicator,
    IndicatorGroup,
    Period,
    ValidationRule,
)
from dantoc.indicators.rules import parse
from dantoc.indicators.services import rule_codes
from tests.factories import ensure_reference

TODAY = date(2026, 11, 27)
TABLES = (AdminUnit, Department, CatalogueVersion, IndicatorGroup, Indicator, ValidationRule,
          Form, FormItem, Period, User)


@pytest.fixture
def demo(app):
    """The demo data, committed; returns the sign-ins."""
    ensure_reference()
    sign_ins = seed()
    db.session.commit()
    return sign_ins


@pytest.fixture
def content(app):
    """The demo data without the accounts (hashing six passwords is deliberately slow)."""
    ensure_reference()
    seed_content()
    db.session.commit()


def counts() -> dict:
    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in TABLES}


def test_seed_twice_changes_nothing(demo):
    before = counts()
    assert seed() == demo
    db.session.commit()
    assert counts() == before


def questionnaire(code="LC-DEMO-PT-NAM") -> Form:
    return db.session.scalar(sa.select(Form).where(Form.code == code))


def test_village_questionnaire_covers_the_content_groups(content):
    form = questionnaire()
    version = form.versions[-1]
    indicators = [i.indicator for s in version.sections for i in s.items]
    assert 14 <= len(indicators) <= 16
    assert (form.kind, version.status, version.period_type, version.fill_level.code) == (
        "phieu", "published", "year", "village")
    assert len({i.group_id for i in indicators}) >= 6
    codes = {i.code for i in indicators}
    assert {"population", "households", "poor_households", "near_poor_households",
            "households_with_power", "households_with_clean_water", "road_hardened",
            "distance_to_commune_km", "has_school", "health_access", "households_with_phone",
            "households_with_internet", "security_incidents"} <= codes
    by_code = {i.code: i for i in indicators}
    assert [d.code for d in by_code["population"].disaggregations] == ["ethnic_group", "sex"]
    assert by_code["road_hardened"].value_type == "yes_no"
    assert by_code["distance_to_commune_km"].value_type == "decimal"
    assert len(by_code["health_access"].choices) >= 3
    # the poor-household rate is derived from the form's figures, never asked on it
    rate = db.session.scalar(sa.select(Indicator).where(
        Indicator.code == "poor_household_rate",
        Indicator.catalogue_version_id == form.catalogue_version_id))
    assert rate.formula == "poor_households / households * 100"
    assert rate.unit_of_measure == "%" and "poor_household_rate" not in codes


def test_quarterly_short_form(content):
    version = questionnaire("LC-DEMO-PT-QUY").versions[-1]
    codes = {i.indicator.code for s in version.sections for i in s.items}
    assert version.period_type == "quarter" and version.status == "published"
    assert {"security_incidents", "poor_households"} <= codes


def test_invented_content_is_labelled_as_sample(content):
    catalogue = db.session.scalar(sa.select(CatalogueVersion).where(
        CatalogueVersion.code == "LC-DEMO"))
    assert "mẫu" in catalogue.name and "KHÔNG phải" in catalogue.legal_basis
    for form in db.session.scalars(sa.select(Form)):
        assert form.catalogue_version_id == catalogue.id and "(mẫu)" in form.name
    for group in db.session.scalars(sa.select(IndicatorGroup)):
        assert group.catalogue_version_id == catalogue.id and "(mẫu)" in group.name
    assert all("(mẫu)" in name for name in db.session.scalars(sa.select(Department.name).where(
        Department.code.like("demo-%"))))


def test_real_catalogue_versions_with_notes(content):
    versions = {v.code: v for v in db.session.scalars(sa.select(CatalogueVersion))}
    assert versions["TT06-2014"].valid_from == date(2015, 2, 1)
    assert "chưa thu thập" in versions["TT03-2019"].name
    assert versions["TT06-2025"].valid_from == date(2025, 7, 1)
    assert versions["TT06-2025"].valid_to is None
    official = {versions[c].id for c in ("TT06-2014", "TT03-2019", "TT06-2025")}
    assert db.session.scalar(sa.select(sa.func.count(Indicator.id)).where(
        Indicator.catalogue_version_id.in_(official))) == 0


def test_rules_parse_and_catch_bad_figures(content):
    catalogue = questionnaire().catalogue_version_id
    rules = {r.code: parse(r.expression, rule_codes(catalogue))
             for r in db.session.scalars(sa.select(ValidationRule))}
    assert {"poor_le_households", "near_poor_le_households", "poor_near_poor_le_households",
            "power_le_households", "water_le_households"} <= set(rules)
    figures = {"households": 40, "poor_households": 25, "near_poor_households": 20}
    assert rules["poor_le_households"].evaluate(figures) is True
    assert rules["poor_near_poor_le_households"].evaluate(figures) is False


def test_sample_villages_under_every_current_commune(content):
    villages = db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.code.like("%-B__"))).all()
    communes = current_communes()
    assert communes
    for commune in communes:
        children = [v for v in villages if v.parent_id == commune.id]
        assert 2 <= len(children) <= 3, commune.name
    for village in villages:
        assert village.is_sample is True
        assert village.name.endswith("(mẫu)")
        assert village.name.split()[0] in ("Bản", "Thôn")
        assert village.level.code == "village"
        assert village.unit_type.code in ("ban", "thon")
        assert village.valid_from == date(2025, 7, 1) and village.valid_to is None
        assert re.fullmatch(r"\d{5}-B\d\d", village.code)
    assert db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "03388-B01"))


def test_periods(content):
    periods = {(p.period_type, p.code): p for p in db.session.scalars(sa.select(Period))}
    assert periods["year", "2026"].is_open(TODAY)
    assert periods["quarter", "2026-Q4"].is_open(TODAY)
    assert periods["year", "2025"].closes_on < TODAY
    assert periods["quarter", "2026-Q4"].start_date == date(2026, 10, 1)


def test_every_role_has_a_demo_account(demo):
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    roles = {users[username].role_code for _label, username, _password in demo}
    assert roles == set(DEFAULT_ROLES)
    by_role = {users[username].role_code: users[username] for _l, username, _p in demo}
    assert by_role["commune_officer"].unit.code == "03388"
    assert by_role["commune_officer"].unit.valid_from == date(2025, 7, 1)
    village = by_role["village_head"].unit
    assert village.is_sample and village.parent_id == by_role["commune_officer"].unit_id
    assert by_role["department_officer"].department.code == "demo-csdt"
    label = next(label for label, username, _p in demo
                 if users[username].role_code == "department_officer")
    assert by_role["department_officer"].department.name in label
    assert by_role["province_officer"].unit.code == "12"
    for _label, username, password in demo:
        assert len(password) >= 12 and password_problems(password, username) == []


def test_every_printed_password_signs_in(demo, client):
    """One test for all roles: seeding hashes six passwords, which is deliberately slow."""
    for label, username, password in demo:
        response = client.post("/accounts/login", data={"username": username,
                                                         "password": password})
        assert response.status_code == 303, label
        assert "/accounts/login" not in response.headers["Location"], label


def test_cli_prints_the_sign_ins(app, runner):
    ensure_reference()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "demo-tinh" in result.output and "demo-tinh-2026" in result.output


def test_past_periods_have_approved_figures_on_the_units_of_their_time(demo, app):
    """2024 and the quarters up to 2025-Q2 on the old units, later periods on today's; the
    re-based series has the same province total; a second run adds nothing."""
    from dantoc.lookup import query
    from dantoc.reports.models import UnitReport
    from dantoc.submissions.models import Submission
    from tests.factories import signed_in

    counts = seed_history()
    db.session.commit()
    assert counts["villages"] == 212 and counts["submissions"] > 2000
    assert seed_history() == {}
    periods = {(p.period_type, p.code): p for p in db.session.scalars(sa.select(Period))}
    old_end = date(2025, 6, 30)
    for key, old in ((("year", "2024"), True), (("quarter", "2025-Q2"), True),
                     (("quarter", "2025-Q3"), False), (("year", "2025"), False)):
        units = db.session.scalars(sa.select(AdminUnit).join(
            Submission, Submission.unit_id == AdminUnit.id).where(
            Submission.period_id == periods[key].id, Submission.state == "approved")).all()
        assert units and all(u.is_sample and u.name.endswith("(mẫu)") for u in units)
        assert {u.valid_to == old_end for u in units} == {old}, key
    reports = db.session.scalars(sa.select(UnitReport).where(
        UnitReport.period_id == periods["quarter", "2024-Q4"].id)).all()
    levels = {r.unit.level.code for r in reports}
    assert levels == {"district", "commune"} and {r.state for r in reports} == {"approved"}
    # Each commune report has the cells a submission stores (the level above adds them up),
    # equal to what its villages' approvals rolled up.
    from dantoc.reports.models import UnitReportCell
    from dantoc.submissions.models import CommuneRollup
    for report in (r for r in reports if r.unit.level.code == "commune"):
        cells = {(c.indicator_id, c.disaggregation): c.total for c in db.session.scalars(
            sa.select(UnitReportCell).where(UnitReportCell.report_id == report.id,
                                            UnitReportCell.total.is_not(None)))}
        rolled = {(r.indicator_id, r.disaggregation): r.total for r in db.session.scalars(
            sa.select(CommuneRollup).where(CommuneRollup.commune_id == report.unit_id,
                                           CommuneRollup.period_id == report.period_id,
                                           CommuneRollup.total.is_not(None)))}
        assert cells and rolled and cells == rolled, report.unit.name
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(Submission).where(
        Submission.period_id.in_([periods["year", "2026"].id, periods["quarter", "2026-Q4"].id])))
    households = db.session.scalar(sa.select(Indicator).where(
        Indicator.code == "households", Indicator.catalogue_version_id == db.session.scalar(
            sa.select(CatalogueVersion.id).where(CatalogueVersion.code == "LC-DEMO"))))
    span = tuple(p for (kind, _c), p in sorted(periods.items(), key=lambda i: i[1].start_date)
                 if kind == "quarter" and p.end_date < date(2026, 10, 1))
    as_of = query.run(query.Request((households,), span, None))
    rebased = query.run(query.Request((households,), span, None, rebase=True,
                                      day=date(2026, 12, 6)))
    column = as_of.columns[0].key
    assert as_of.totals[column] == rebased.totals[column] > 0
    assert len({r.key[0] for r in rebased.rows}) == len(current_communes())
    officer = db.session.scalar(sa.select(User).where(User.username == "demo-tinh"))
    client = signed_in(app.test_client(), officer)
    html = client.get("/lookup/dashboard").get_data(as_text=True)
    assert "Quý 1/2025" in html and "Quý 3/2026" in html and "Tổng số hộ" in html
