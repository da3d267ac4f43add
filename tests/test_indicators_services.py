"""Indicator services: validation with field-level errors, immutability, copying, periods,
and an audit row for every change."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.indicators import services
from dantoc.indicators.models import FormItem, FormVersion, Indicator, Period
from dantoc.refusal import FieldError
from tests.factories import (
    make_catalogue,
    make_form,
    make_group,
    make_household_catalogue,
    make_indicator,
)


def actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.like("indicators.%")).order_by(AuditEvent.id)))


def refused(field: str | None, call, *args, **kwargs) -> FieldError:
    with pytest.raises(FieldError) as error:
        call(*args, **kwargs)
    assert error.value.field == field
    assert error.value.message
    return error.value


# --- catalogue versions and groups ---

def test_catalogue_version_code_is_unique(app):
    make_catalogue("TT06-2025")
    refused("code", make_catalogue, "TT06-2025")


def test_catalogue_version_end_not_before_start(app):
    refused("valid_to", make_catalogue, valid_from=date(2025, 7, 1), valid_to=date(2025, 6, 30))


def test_catalogue_version_update_is_audited(app):
    version = make_catalogue("A1")
    services.update_catalogue_version(version, code="A2", name="Mới", valid_from=version.valid_from)
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "indicators.catalogue.update")).one()
    assert event.before["code"] == "A1" and event.after["code"] == "A2"


def test_group_code_is_unique_within_a_version_only(app):
    first, second = make_catalogue(), make_catalogue()
    make_group(first, "G01")
    make_group(second, "G01")
    refused("code", make_group, first, "G01")


# --- indicators ---

@pytest.mark.parametrize("code", ["1st", "two words", "hộ_nghèo", "a-b", "and", "sum", "__x",
                                  "", "x" * 41])
def test_indicator_code_must_be_an_identifier(app, code):
    group = make_group(make_catalogue())
    refused("code", make_indicator, group, code)


def test_indicator_code_unique_within_catalogue_version(app):
    version, _group, _ = make_household_catalogue()
    refused("code", make_indicator, make_group(version), "poor")
    make_indicator(make_group(make_catalogue()), "poor")  # another version: fine


@pytest.mark.parametrize("value_type, values, field", [
    ("integer", {"min_value": 10, "max_value": 5}, "max_value"),
    ("yes_no", {"min_value": 0}, "min_value"),
    ("choice", {"choices": [("a", "Một")]}, "choices"),
    ("choice", {}, "choices"),
    ("integer", {"choices": [("a", "A"), ("b", "B")]}, "choices"),
    ("yes_no", {"aggregation": "average"}, "aggregation"),
    ("text", {"aggregation": "max"}, "aggregation"),
    ("colour", {}, "value_type"),
    ("integer", {"aggregation": "median"}, "aggregation"),
])
def test_indicator_attributes_are_checked(app, value_type, values, field):
    group = make_group(make_catalogue())
    refused(field, make_indicator, group, "x", value_type, **values)
    assert db.session.scalar(sa.select(sa.func.count(Indicator.id))) == 0


def test_disaggregation_only_for_numbers(app):
    sex = services.create_disaggregation(code="sex", name="Giới tính",
                                         options=[("male", "Nam"), ("female", "Nữ")])
    group = make_group(make_catalogue())
    refused("disaggregations", make_indicator, group, "flag", "yes_no", disaggregations=[sex])
    indicator = make_indicator(group, "people", disaggregations=[sex])
    assert [d.code for d in indicator.disaggregations] == ["sex"]


def test_disaggregations_keep_their_order(app):
    sex = services.create_disaggregation(code="sex", name="Giới tính",
                                         options=[("male", "Nam"), ("female", "Nữ")])
    ethnic = services.create_disaggregation(code="ethnic_group", name="Dân tộc",
                                            source="ethnic_groups")
    indicator = make_indicator(make_group(make_catalogue()), "people",
                               disaggregations=[ethnic, sex])
    db.session.commit()
    db.session.expire_all()
    assert [d.code for d in db.session.get(Indicator, indicator.id).disaggregations] == [
        "ethnic_group", "sex"]


def test_update_indicator_keeps_choice_rows_and_audits(app):
    _, group, indicators = make_household_catalogue()
    health = indicators["health"]
    kept = health.choices[0].id
    services.update_indicator(health, group=group, code="health", name="Y tế",
                              value_type="choice", aggregation="none",
                              choices=[("a", "Rất gần"), ("c", "Rất xa")])
    assert [(c.code, c.label) for c in health.choices] == [("a", "Rất gần"), ("c", "Rất xa")]
    assert health.choices[0].id == kept
    assert actions()[-1] == "indicators.indicator.update"


def test_indicator_cannot_move_to_another_catalogue_version(app):
    _, _, indicators = make_household_catalogue()
    other = make_group(make_catalogue())
    refused("group", services.update_indicator, indicators["poor"], group=other, code="poor",
            name="x", value_type="integer", aggregation="sum")


@pytest.mark.parametrize("text, expected", [
    ("Gần\nXa", [("gan", "Gần"), ("xa", "Xa")]),
    ("1 | Có\n2 | Không\n\n", [("1", "Có"), ("2", "Không")]),
    ("Đường đất | Đường đất", [("duong_dat", "Đường đất")]),
])
def test_parse_choices(text, expected):
    assert services.parse_choices(text) == expected


def test_parse_choices_refuses_duplicates():
    with pytest.raises(FieldError, match="a"):
        services.parse_choices("a | A\na | B")


# --- rules ---

def test_rule_is_parsed_against_the_catalogue_version(app):
    version, _, _ = make_household_catalogue()
    rule = services.create_rule(catalogue_version=version, code="poor_le", message="Sai",
                                expression="poor + near_poor <= households")
    assert rule.id
    error = refused("expression", services.create_rule, catalogue_version=version, code="r2",
                    message="Sai", expression="poor <= missing_code")
    assert "missing_code" in error.message
    refused("expression", services.create_rule, catalogue_version=version, code="r3",
            message="Sai", expression="health == 1")
    refused("code", services.create_rule, catalogue_version=version, code="poor_le",
            message="Sai", expression="poor >= 0")


def test_rule_of_another_version_cannot_use_these_codes(app):
    make_household_catalogue()
    refused("expression", services.create_rule, catalogue_version=make_catalogue(), code="r",
            message="Sai", expression="poor <= households")


def test_indicator_named_by_a_rule_keeps_its_code(app):
    version, group, indicators = make_household_catalogue()
    services.create_rule(catalogue_version=version, code="r", message="Sai",
                         expression="poor <= households")
    refused("code", services.update_indicator, indicators["poor"], group=group,
            code="poor_households", name="Hộ nghèo", value_type="integer", aggregation="sum")


# --- forms, versions, sections, items ---

def build_form():
    version, _group, indicators = make_household_catalogue()
    form = make_form(version)
    draft = form.versions[0]
    first = services.add_section(draft, "Hộ")
    second = services.add_section(draft, "Trường học")
    items = [services.add_item(first, indicators[c]) for c in ("households", "poor", "near_poor")]
    services.add_item(second, indicators["has_school"])
    return form, draft, (first, second), items, indicators


def test_new_form_has_an_empty_draft_version_1(app):
    form = make_form(make_catalogue())
    assert [(v.number, v.status, v.published_at) for v in form.versions] == [(1, "draft", None)]


def test_form_code_unique(app):
    version = make_catalogue()
    make_form(version, "PT01")
    refused("code", make_form, version, "PT01")


def test_indicator_appears_once_per_version(app):
    _, _, (_first, second), _, indicators = build_form()
    refused("indicator", services.add_item, second, indicators["poor"])


def test_only_indicators_of_the_forms_catalogue_version(app):
    _, _, (first, _), _, _ = build_form()
    stranger = make_indicator(make_group(make_catalogue()), "stranger")
    refused("indicator", services.add_item, first, stranger)


def test_move_and_remove_items_keep_positions_dense(app):
    _, _, (first, _), items, _ = build_form()
    services.move_item(items[2], -1)
    db.session.expire_all()
    assert [i.indicator.code for i in first.items] == ["households", "near_poor", "poor"]
    services.move_item(first.items[0], -1)  # already first: nothing happens
    services.remove_item(first.items[0])
    db.session.expire_all()
    assert [(i.position, i.indicator.code) for i in first.items] == [(1, "near_poor"),
                                                                     (2, "poor")]


def test_move_and_remove_sections(app):
    _, draft, (_first, second), _, _ = build_form()
    services.move_section(second, -1)
    db.session.expire_all()
    assert [s.title for s in draft.sections] == ["Trường học", "Hộ"]
    services.remove_section(draft.sections[0])
    db.session.expire_all()
    assert [(s.position, s.title) for s in draft.sections] == [(1, "Hộ")]
    assert db.session.scalar(sa.select(sa.func.count(FormItem.id))) == 3


def test_publish_makes_the_version_immutable(app):
    _, draft, (first, _), items, _indicators = build_form()
    services.publish(draft)
    assert draft.status == "published" and draft.published_at is not None
    extra = make_indicator(make_group(draft.form.catalogue_version), "extra")
    for call, args in [(services.add_section, (draft, "Mới")),
                       (services.add_item, (first, extra)),
                       (services.move_item, (items[1], -1)),
                       (services.remove_item, (items[0],)),
                       (services.move_section, (first, 1)),
                       (services.remove_section, (first,)),
                       (services.rename_section, (first, "Khác")),
                       (services.publish, (draft,))]:
        refused(None, call, *args)
    refused(None, services.update_version, draft, fill_level=draft.fill_level,
            period_type="month")


def test_published_indicator_keeps_code_and_type(app):
    _, draft, _, _, indicators = build_form()
    services.publish(draft)
    group = indicators["poor"].group
    refused("value_type", services.update_indicator, indicators["poor"], group=group,
            code="poor", name="Hộ nghèo", value_type="decimal", aggregation="sum")
    services.update_indicator(indicators["poor"], group=group, code="poor", name="Số hộ nghèo",
                              value_type="integer", aggregation="sum")
    assert indicators["poor"].name == "Số hộ nghèo"


def test_empty_version_cannot_be_published(app):
    form = make_form(make_catalogue())
    refused(None, services.publish, form.versions[0])


def test_new_version_copies_the_published_one(app):
    form, draft, _, _, _ = build_form()
    services.publish(draft)
    copy = services.new_version(form)
    assert (copy.number, copy.status, copy.published_at) == (2, "draft", None)
    original = [(s.position, s.title, [(i.position, i.indicator_id) for i in s.items])
                for s in draft.sections]
    assert [(s.position, s.title, [(i.position, i.indicator_id) for i in s.items])
            for s in copy.sections] == original
    assert all(i.form_version_id == copy.id for s in copy.sections for i in s.items)
    refused(None, services.new_version, form)  # one draft at a time
    services.publish(copy)
    statuses = dict(db.session.execute(sa.select(
        FormVersion.number, FormVersion.status).where(FormVersion.form_id == form.id)).all())
    assert statuses == {1: "retired", 2: "published"}


def test_form_changes_are_audited(app):
    build_form()
    assert actions()[-8:] == [
        "indicators.form.create", "indicators.form_version.create",
        "indicators.section.create", "indicators.section.create",
        "indicators.item.create", "indicators.item.create", "indicators.item.create",
        "indicators.item.create"]


# --- periods ---

@pytest.mark.parametrize("period_type, count, code, start, end", [
    ("month", 12, "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
    ("month", 12, "2028-02", None, None),
    ("quarter", 4, "2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
    ("half_year", 2, "2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
    ("year", 1, "2026", date(2026, 1, 1), date(2026, 12, 31)),
])
def test_generate_periods(app, period_type, count, code, start, end):
    year = int(code[:4])
    made = services.generate_periods(period_type, year)
    assert len(made) == count
    period = next(p for p in made if p.code == code)
    if start:
        assert (period.start_date, period.end_date) == (start, end)
    else:  # 2028 is a leap year
        assert period.end_date == date(2028, 2, 29)
    assert (period.end_date - period.opens_on).days == 7
    assert (period.closes_on - period.end_date).days == 15
    assert services.generate_periods(period_type, year) == []  # idempotent


def test_generated_names(app):
    names = {p.code: p.name for p in services.generate_periods("quarter", 2026)}
    assert names["2026-Q4"] == "Quý 4/2026"
    assert services.generate_periods("half_year", 2026)[1].name == "6 tháng cuối năm 2026"


@pytest.mark.parametrize("args, field", [
    (("custom", 2026), "period_type"),
    (("year", 1999), "year"),
])
def test_generate_refuses(app, args, field):
    refused(field, services.generate_periods, *args)


def test_create_standard_period_takes_dates_from_the_code(app):
    period = services.create_period(period_type="quarter", code="2026-Q4",
                                    opens_on=date(2026, 11, 15), closes_on=date(2027, 1, 15))
    assert (period.start_date, period.end_date, period.cutoff_date) == (
        date(2026, 10, 1), date(2026, 12, 31), None)
    assert period.is_open(date(2026, 11, 27))
    refused("code", services.create_period, period_type="quarter", code="2026-Q4",
            opens_on=date(2026, 11, 15), closes_on=date(2027, 1, 15))


@pytest.mark.parametrize("values, field", [
    ({"period_type": "quarter", "code": "2026-Q5"}, "code"),
    ({"period_type": "month", "code": "2026-13"}, "code"),
    ({"period_type": "year", "code": "26"}, "code"),
    ({"period_type": "year", "code": "2026", "closes_on": date(2026, 10, 1)}, "closes_on"),
    ({"period_type": "year", "code": "2026", "opens_on": None}, "opens_on"),
    ({"period_type": "custom", "code": "DT-2026", "name": "Điều tra",
      "start_date": date(2026, 1, 1), "end_date": date(2026, 6, 30)}, "cutoff_date"),
    ({"period_type": "custom", "code": "DT-2026", "name": "Điều tra",
      "start_date": date(2026, 1, 1), "end_date": date(2026, 6, 30),
      "cutoff_date": date(2026, 7, 1)}, "cutoff_date"),
    ({"period_type": "custom", "code": "DT-2026", "name": "Điều tra",
      "start_date": date(2026, 1, 1), "cutoff_date": date(2026, 1, 1)}, "end_date"),
    ({"period_type": "weekly", "code": "2026-W1"}, "period_type"),
])
def test_create_period_refuses(app, values, field):
    values = {"opens_on": date(2026, 11, 1), "closes_on": date(2026, 12, 31)} | values
    refused(field, services.create_period, **values)
    assert db.session.scalar(sa.select(sa.func.count(Period.id))) == 0


def test_custom_period_with_cutoff(app):
    period = services.create_period(
        period_type="custom", code="DTKT-2026", name="Điều tra 53 DTTS",
        start_date=date(2026, 1, 1), end_date=date(2026, 7, 1), cutoff_date=date(2026, 7, 1),
        opens_on=date(2026, 7, 1), closes_on=date(2026, 9, 30))
    assert period.cutoff_date == date(2026, 7, 1)
    assert actions() == ["indicators.period.create"]


def test_update_period_window(app):
    period = services.create_period(period_type="year", code="2026", opens_on=date(2026, 11, 1),
                                    closes_on=date(2027, 1, 31))
    refused("closes_on", services.update_period, period, name=None, opens_on=date(2026, 12, 1),
            closes_on=date(2026, 11, 30))
    services.update_period(period, name=None, opens_on=date(2026, 12, 1),
                           closes_on=date(2027, 1, 31))
    assert period.opens_on == date(2026, 12, 1) and period.name == "Năm 2026"
    assert actions() == ["indicators.period.create", "indicators.period.update"]


def test_decimal_bounds_are_kept_exactly(app):
    group = make_group(make_catalogue())
    indicator = make_indicator(group, "distance", "decimal", min_value=Decimal("0.5"),
                               max_value=200)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Indicator, indicator.id).min_value == Decimal("0.5")
