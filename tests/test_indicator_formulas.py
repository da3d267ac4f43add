"""Derived indicators (issue #11 item 3): a formula over other indicators, parsed by the rule
parser, computed from the aggregated figures of each unit (never averaged from village
rates), shown in the lookup and the dashboard with its unit, edited and checked on the
indicator screens."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import gettext

from dantoc.extensions import db
from dantoc.indicators import formulas, services
from dantoc.indicators.models import Indicator, IndicatorGroup
from dantoc.indicators.rules import RuleError, parse_formula
from dantoc.lookup import query
from dantoc.refusal import FieldError
from tests.factories import make_household_catalogue, make_user
from tests.test_reports_support import make_world, officer, put, village_values

RATE = "poor_households / households * 100"


def derived(group: IndicatorGroup, code: str, formula: str, name: str = "Tỷ lệ hộ nghèo",
            **extra) -> Indicator:
    indicator = services.create_indicator(group=group, code=code, name=name,
                                          value_type="percent", unit_of_measure="%",
                                          aggregation="none", formula=formula, **extra)
    db.session.commit()
    return indicator


@pytest.fixture(name="world")
def world_fixture(app):
    """03388: villages at 10 % (4 of 40) and 25 % (15 of 60), a third with no households;
    03637: 30 of 300 (10 %); a submitted, unapproved village at 90 % that never counts."""
    w = make_world(villages=4, others=1)
    put(w.version, w.villages[0], w.period, village_values(40, 50, 50, poor=4))
    put(w.version, w.villages[1], w.period, village_values(60, 70, 70, poor=15))
    put(w.version, w.villages[2], w.period, village_values(0, 0, 0, poor=0))
    put(w.version, w.villages[3], w.period, village_values(10, 9, 9, poor=9), state="submitted")
    put(w.version, w.others[0], w.period, village_values(300, 400, 400, poor=30))
    group = w.version.sections[0].items[0].indicator.group
    w.rate = derived(group, "poor_rate", RATE)
    return w


def test_the_parser_reads_a_formula_and_refuses_a_condition():
    formula = parse_formula(RATE, {"poor_households": "integer", "households": "integer"})
    assert formula.codes == ("poor_households", "households")
    assert formula.evaluate({"poor_households": 4, "households": 40}) == Decimal(10)
    assert formula.evaluate({"poor_households": 4, "households": 0}) is None  # ÷ 0
    assert formula.evaluate({"poor_households": 4}) is None  # missing
    with pytest.raises(RuleError):
        parse_formula("poor_households <= households", {"poor_households": "integer",
                                                         "households": "integer"})
    with pytest.raises(RuleError, match="Unknown indicator code"):
        parse_formula("poor / households", {"households": "integer"})
    with pytest.raises(RuleError):
        parse_formula("__import__('os')", {"households": "integer"})


def test_the_province_rate_comes_from_totals_not_from_village_rates(world):
    table = query.run(query.Request((world.rate,), (world.period,), None))
    by_row = {r.label.split(" · ")[0]: table.cell(r, table.columns[0]) for r in table.rows}
    assert by_row == {world.commune.name: Decimal("19.00"),  # 19 of 100
                      world.others[0].parent.name: Decimal("10.00")}
    # 49 of 400 households; the average of the commune rates would be 14.5, of the village
    # rates 15 (and 33.5 with the unapproved village's 90 %).
    assert table.totals[(world.rate.id, "")] == Decimal("12.25")
    assert table.columns[0].unit == "%"


def test_a_commune_table_has_each_villages_rate_and_division_by_zero_is_no_value(world):
    table = query.run(query.Request((world.rate,), (world.period,), world.commune))
    by_row = {r.label.split(" · ")[0]: table.cell(r, table.columns[0]) for r in table.rows}
    assert by_row == {world.villages[0].name: Decimal("10.00"),
                      world.villages[1].name: Decimal("25.00"),
                      world.villages[2].name: None}
    assert table.totals[(world.rate.id, "")] == Decimal("19.00")


def test_a_formula_may_use_another_derived_indicator(world):
    group = world.rate.group
    double = derived(group, "rate_doubled", "poor_rate * 2", name="Gấp đôi tỷ lệ")
    table = query.run(query.Request((double, world.rate), (world.period,), None))
    assert table.totals[(double.id, "")] == Decimal("24.50")
    assert table.totals[(world.rate.id, "")] == Decimal("12.25")


def test_a_rate_beside_broken_down_figures_and_swapped(world):
    population = next(i.indicator for s in world.version.sections for i in s.items
                      if i.indicator.code == "population")
    table = query.run(query.Request((population, world.rate), (world.period,), None,
                                    ("sex",), swap=True))
    labels = [r.label for r in table.rows]
    assert labels[-1] == "Tỷ lệ hộ nghèo" and any("Nữ" in label for label in labels)
    assert table.totals[(world.rate.id, "")] == Decimal("12.25")
    commune = next(c for c in table.columns if c.label.startswith(world.commune.name))
    assert table.cell(table.rows[-1], commune) == Decimal("19.00")


def test_the_lookup_page_and_its_csv_show_the_rate_with_its_unit(app, world):
    _user, client = officer(app, "province_officer", "12")
    url = (f"/lookup/?indicator={world.rate.id}&period_from={world.period.id}"
           f"&period_to={world.period.id}")
    page = client.get(url).get_data(as_text=True)
    assert "Tỷ lệ hộ nghèo" in page and "(%)" in page and "12.25" in page
    lines = list(csv.reader(io.StringIO(client.get(url + "&format=csv").get_data(
        as_text=True).lstrip("\ufeff"))))
    assert lines[0][1] == "Tỷ lệ hộ nghèo (%)"
    assert lines[-1] == ["Total", "12.25"]


def test_the_dashboard_follows_the_rate_from_the_totals(app, world):
    _user, client = officer(app, "province_officer", "12")
    page = client.get("/lookup/dashboard").get_data(as_text=True)
    rate = rate_figure(page)
    assert "Tỷ lệ hộ nghèo (%)" in rate and "Value (%)" in rate
    assert rate.endswith("Year 2026 12.25")
    commune = client.get(f"/lookup/dashboard?unit={world.commune.id}").get_data(as_text=True)
    assert rate_figure(commune).endswith("Year 2026 19")


def rate_figure(page: str) -> str:
    """The words of the dashboard's figure of the rate (its caption, chart and table)."""
    rate = page[page.index("Tỷ lệ hộ nghèo</span>"):]
    rate = re.sub(r"<[^>]+>", " ", rate[:rate.index("</figure>")])
    return " ".join(rate.replace(" )", ")").replace("( ", "(").split())


# -- the indicator screens ----------------------------------------------------------------

@pytest.fixture(name="staff")
def staff_fixture(app, login):
    return login(make_user("province_officer", locale="en"))


def form_data(group, **values) -> dict:
    return {"group": group.id, "code": "rate", "name": "Tỷ lệ", "value_type": "percent",
            "aggregation": "none", "unit_of_measure": "%", "min_value": "", "max_value": "",
            "help_text": "", "choices": "", "formula": "poor / households * 100"} | values


def test_a_derived_indicator_is_created_and_edited_on_the_indicator_screen(staff):
    _version, group, _ = make_household_catalogue()
    db.session.commit()
    response = staff.post("/indicators/list/new", data=form_data(group))
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    rate = db.session.scalar(sa.select(Indicator).where(Indicator.code == "rate"))
    assert rate.formula == "poor / households * 100"
    page = staff.get(f"/indicators/{rate.id}/edit").get_data(as_text=True)
    assert "poor / households * 100" in page
    response = staff.post(f"/indicators/{rate.id}/edit",
                          data=form_data(group, formula="near_poor / households * 100"))
    assert response.status_code == 303
    db.session.expire_all()
    assert rate.formula == "near_poor / households * 100"


@pytest.mark.parametrize("formula, message", [
    ("poor / nobody * 100", "Unknown indicator code"),
    ("poor <= households", "must compute a number"),
    ("health + 1", "text or choice"),
    ("has_school * 100", "A number is needed"),
    ("rate + 1", "cycle"),
    ("poor / (households", "Expected"),
])
def test_a_bad_formula_is_refused_at_its_field(staff, formula, message):
    _version, group, _ = make_household_catalogue()
    db.session.commit()
    response = staff.post("/indicators/list/new", data=form_data(group, formula=formula))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="formula-err"' in html and message in html
    assert db.session.scalar(sa.select(Indicator).where(Indicator.code == "rate")) is None


def test_a_cycle_through_another_derived_indicator_is_refused(app):
    _version, group, _ = make_household_catalogue()
    first = derived(group, "first", "poor / households * 100")
    derived(group, "second", "first * 2")
    with pytest.raises(FieldError) as refused:
        services.update_indicator(first, group=group, code="first", name="Tỷ lệ",
                                  value_type="percent", aggregation="none",
                                  formula="second / 2")
    assert refused.value.field == "formula"
    assert str(refused.value.message) == gettext(
        "This formula refers back to itself (a cycle), directly or through another derived "
        "indicator.")
    db.session.rollback()
    # the code a formula uses cannot change under it
    with pytest.raises(FieldError) as renamed:
        services.update_indicator(first, group=group, code="first_rate", name="Tỷ lệ",
                                  value_type="percent", aggregation="none",
                                  formula="poor / households * 100")
    assert renamed.value.field == "code"


def test_a_derived_indicator_is_never_asked_on_a_form(app):
    from tests.factories import make_form

    _version, group, _ = make_household_catalogue()
    rate = derived(group, "rate", "poor / households * 100")
    form = make_form(group.catalogue_version)
    section = services.add_section(form.versions[0], title="Phần 1")
    with pytest.raises(FieldError) as refused:
        services.add_item(section, rate)
    assert refused.value.field == "indicator"
    assert formulas.plan([rate]).inputs and {i.code for i in formulas.plan([rate]).inputs} == {
        "poor", "households"}
