"""Catalog services: writes are audited; bad input is refused with a field and a message
before the database triggers (the last line of defence) would see it."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.catalogs import queries, services
from dantoc.catalogs.models import AdminLevel, AdminUnit, Department, UnitLineage, UnitType
from dantoc.extensions import db
from dantoc.refusal import FieldError
from tests.factories import unit

AFTER = date(2025, 7, 1)


@pytest.fixture(autouse=True)
def english(app):
    """Messages in English, so the tests can read them."""
    with app.test_request_context("/?lang=en"):
        yield


def unit_type(code: str) -> UnitType:
    return db.session.scalar(sa.select(UnitType).filter_by(code=code))


def village(code="03388-01", parent_code="03388", **fields) -> AdminUnit:
    values = {"code": code, "name": "Bản Thử", "unit_type": unit_type("ban"),
              "parent": unit(parent_code), "valid_from": AFTER, "is_sample": True}
    values.update(fields)
    return services.create_unit(**values)


def audit_rows(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).filter_by(action=action)).all()


def units_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit))


def test_create_village_is_audited(app):
    created = village()
    db.session.commit()
    assert created.level.code == "village" and created.parent.name == "Phường Đoàn Kết"
    [event] = audit_rows("catalog.unit.create")
    assert event.object_id == str(created.id)
    assert event.after["code"] == "03388-01" and event.after["is_sample"] is True
    assert queries.children(unit("03388"), AFTER) == [created]


def test_update_records_before_and_after(app):
    created = village()
    services.update_unit(created, name="Bản Mới", aliases="Ban Moi")
    [event] = audit_rows("catalog.unit.update")
    assert (event.before["name"], event.after["name"]) == ("Bản Thử", "Bản Mới")
    assert db.session.scalars(queries.units_query(q="ban moi")).all() == [created]
    services.update_unit(created, name="Bản Mới")  # nothing changes: nothing to record
    assert len(audit_rows("catalog.unit.update")) == 1


BAD_UNITS = [
    pytest.param({"code": "03388", "unit_type": unit_type, "valid_from": date(2025, 6, 1)},
                 "valid_from", "overlap", id="overlapping-validity"),
    pytest.param({"code": "x y"}, "code", "letters", id="bad-code"),
    pytest.param({"name": "  "}, "name", "name", id="blank-name"),
    pytest.param({"valid_from": None}, "valid_from", "date", id="no-start"),
    pytest.param({"valid_to": date(2025, 1, 1)}, "valid_to", "before", id="end-before-start"),
    pytest.param({"parent": None}, "parent_code", "needs a parent", id="no-parent"),
    pytest.param({"parent_code": "03386"}, "parent_code", "exists only", id="parent-gone"),
    pytest.param({"valid_from": date(2024, 1, 1)}, "parent_code", "exists only",
                 id="starts-before-parent"),
    pytest.param({"level": "commune"}, "unit_type", "level", id="type-of-another-level"),
    pytest.param({"unit_type": "huyen", "parent_code": "12"}, "unit_type", "exists only",
                 id="district-level-abolished"),
]


@pytest.mark.parametrize(("changes", "field", "words"), BAD_UNITS)
def test_bad_units_are_refused(app, changes, field, words):
    fields = {"code": "V-1", "name": "Bản Thử", "unit_type": unit_type("ban"),
              "parent": unit("03388"), "valid_from": AFTER}
    for key, value in changes.items():
        if key == "parent_code":
            fields["parent"] = unit(value, on="2025-06-30")
        elif key == "level":
            fields["level"] = db.session.scalar(sa.select(AdminLevel).filter_by(code=value))
        elif key == "unit_type" and isinstance(value, str):
            fields["unit_type"] = unit_type(value)
        elif key == "unit_type":
            fields["unit_type"] = unit_type("phuong")
        else:
            fields[key] = value
    before = units_count()
    with pytest.raises(FieldError) as refused:
        services.create_unit(**fields)
    assert refused.value.field == field
    assert words in str(refused.value)
    assert units_count() == before
    assert audit_rows("catalog.unit.create") == []


def test_parent_must_be_at_a_higher_level(app):
    created = village()
    with pytest.raises(FieldError, match="cannot be placed under") as refused:
        village(code="V-2", unit_type=unit_type("thon"), parent=created)
    assert refused.value.field == "parent_code"


def test_cycles_are_refused(app):
    province = unit("12")
    with pytest.raises(FieldError, match="under itself") as refused:
        services.update_unit(province, parent=unit("03388"))
    assert refused.value.field == "parent_code"
    db.session.rollback()
    assert unit("12").parent_id is None


def test_unknown_parent_code(app):
    with pytest.raises(FieldError, match="99999") as refused:
        services.parent_for("99999", AFTER)
    assert refused.value.field == "parent_code"
    assert services.parent_for("03388", AFTER).name == "Phường Đoàn Kết"
    assert services.parent_for(" ", AFTER) is None


def test_closing_a_unit_with_living_children_is_refused(app):
    created = village()
    with pytest.raises(FieldError, match="Bản Thử"):
        services.close_unit(unit("03388"), date(2026, 1, 1))
    services.close_unit(created, date(2026, 1, 1))
    assert created.valid_to == date(2026, 1, 1)
    assert len(audit_rows("catalog.unit.close")) == 1
    assert queries.resolve("03388-01", date(2026, 1, 2)) is None


def test_the_database_is_the_last_line_of_defence(app):
    """Bypassing the services, the trigger still refuses an overlapping version."""
    clash = AdminUnit(code="03388", name="Clash", valid_from=date(2025, 8, 1),
                      unit_type=unit_type("phuong"), level=unit_type("phuong").level,
                      parent=unit("12"))
    db.session.add(clash)
    with pytest.raises(sa.exc.DatabaseError, match="overlaps"):
        db.session.flush()
    db.session.rollback()


# Lineage -----------------------------------------------------------------------------------

def _link(**fields):
    values = {"kind": "split", "from_unit": unit("03388"), "to_unit": None,
              "effective_date": date(2026, 1, 1), "share": Decimal("0.4")}
    values.update(fields)
    return services.add_lineage(**values)


def _split_target(code="03388-N"):
    return services.create_unit(code=code, name="Phường Mới", unit_type=unit_type("phuong"),
                                parent=unit("12"), valid_from=date(2026, 1, 1))


def test_split_link_is_recorded_and_audited(app):
    target = _split_target()
    link = _link(to_unit=target, legal_basis="NQ thử")
    assert link.id and link.share == Decimal("0.4")
    [event] = audit_rows("catalog.lineage.create")
    assert Decimal(event.after["share"]) == Decimal("0.4")
    assert queries.successors(unit("03388"))[0].unit == target


BAD_LINKS = [
    pytest.param({"to_unit": 987654}, "to_unit", id="unknown-target-id"),
    pytest.param({"from_unit": None}, "from_unit", id="unknown-source"),
    pytest.param({"kind": "annex"}, "kind", id="unknown-kind"),
    pytest.param({"share": Decimal("0")}, "share", id="share-zero"),
    pytest.param({"share": Decimal("1.5")}, "share", id="share-above-one"),
    pytest.param({"share": None}, "share", id="split-without-share"),
    pytest.param({"kind": "merge"}, "share", id="share-on-merge"),
    pytest.param({"from_unit": "old"}, "effective_date", id="source-gone-before"),
    pytest.param({"effective_date": date(2025, 7, 1)}, "effective_date", id="target-not-yet"),
    pytest.param({"from_unit": "self"}, "to_unit", id="same-unit"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_LINKS)
def test_bad_links_are_refused(app, changes, field):
    target = _split_target()
    special = {"self": target, "old": unit("03386", on="2025-06-30")}
    changes = {k: special.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    changes.setdefault("to_unit", target)
    with pytest.raises(FieldError) as refused:
        _link(**changes)
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UnitLineage)) == 106


def test_split_shares_may_not_exceed_one_and_links_not_repeat(app):
    first, second = _split_target("N-1"), _split_target("N-2")
    _link(to_unit=first, share=Decimal("0.7"))
    with pytest.raises(FieldError, match="more than 1"):
        _link(to_unit=second, share=Decimal("0.4"))
    with pytest.raises(FieldError, match="already recorded"):
        _link(to_unit=first, share=Decimal("0.1"))
    _link(to_unit=second, share=Decimal("0.3"))
    services.close_unit(unit("03388"), date(2025, 12, 31))
    found = queries.successors_on(unit("03388"), date(2026, 1, 1))
    assert {(u.code, s) for u, s in found} == {("N-1", Decimal("0.7")), ("N-2", Decimal("0.3"))}
    assert queries.successor_on(unit("03388"), date(2026, 1, 1)) is None  # a split: several


def test_a_link_back_in_time_is_refused(app):
    target = _split_target()
    _link(to_unit=target)
    with pytest.raises(FieldError, match="earlier form") as refused:
        services.add_lineage(kind="split", from_unit=target, to_unit=unit("03388"),
                             effective_date=date(2026, 2, 1), share=Decimal("0.1"))
    assert refused.value.field == "to_unit"


# Other catalogs ---------------------------------------------------------------------------

def test_departments_and_ethnic_groups(app):
    department = services.create_department("P-KHTC", "Phòng Kế hoạch - Tài chính")
    assert db.session.get(Department, department.id).name.startswith("Phòng")
    with pytest.raises(FieldError) as refused:
        services.create_department("P-KHTC", "Again")
    assert refused.value.field == "code"
    with pytest.raises(FieldError) as refused:
        services.save_ethnic_group(None, code="55", code_2008="06", name="Thử")
    assert refused.value.field == "code_2008"
    assert len(audit_rows("catalog.department.create")) == 1
