"""The reference catalogs: the Lai Châu tree before and after the 2025 reform, lineage,
ethnic groups and religions, and the queries that answer "on a date"."""

from datetime import date

import pytest
import sqlalchemy as sa

from dantoc.catalogs import queries
from dantoc.catalogs.models import (
    UNKNOWN_START,
    AdminUnit,
    EthnicGroup,
    Religion,
    UnitLineage,
)
from dantoc.catalogs.reference import load_reference
from dantoc.extensions import db

BEFORE, AFTER = date(2025, 6, 30), date(2025, 7, 1)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _levels(roots) -> dict[str, int]:
    counts: dict[str, int] = {}
    stack = list(roots)
    while stack:
        node = stack.pop()
        counts[node.unit.level.code] = counts.get(node.unit.level.code, 0) + 1
        stack.extend(node.children)
    return counts


def test_tree_before_the_reform_has_8_districts_and_106_communes(app):
    roots = queries.tree_on(BEFORE)
    assert [root.unit.code for root in roots] == ["12"]
    assert _levels(roots) == {"province": 1, "district": 8, "commune": 106}
    districts = {node.unit.code: len(node.children) for node in roots[0].children}
    assert districts == {"105": 7, "106": 13, "107": 14, "108": 22, "109": 17, "110": 12,
                         "111": 10, "112": 11}


def test_tree_after_the_reform_has_38_communes_and_no_districts(app):
    roots = queries.tree_on(AFTER)
    assert _levels(roots) == {"province": 1, "commune": 38}
    types = sorted(node.unit.unit_type.name for node in roots[0].children)
    assert types.count("Phường") == 2 and types.count("Xã") == 36


@pytest.mark.parametrize(("day", "levels"), [
    (BEFORE, ["province", "district", "commune"]),
    (AFTER, ["province", "commune"]),
])
def test_levels_in_use_come_from_the_data(app, day, levels):
    assert [level.code for level in queries.levels_in_use(day)] == levels


@pytest.mark.parametrize(("day", "name"), [
    (BEFORE, "Phường Quyết Tiến"),
    (AFTER, "Phường Đoàn Kết"),
    (date(2030, 1, 1), "Phường Đoàn Kết"),
])
def test_code_03388_resolves_by_date(app, day, name):
    assert queries.resolve("03388", day).name == name


def test_a_district_code_does_not_resolve_after_the_reform(app):
    assert queries.resolve("105", BEFORE).name == "Thành phố Lai Châu"
    assert queries.resolve("105", AFTER) is None


def test_every_old_commune_maps_to_its_new_commune(app):
    expected = {}
    from dantoc.catalogs.reference import _rows

    for row in _rows("laichau_admin_units.csv"):
        if row["merged_into_code"]:
            expected[row["code"]] = row["merged_into_code"]
    old = queries.units_on(BEFORE, level="commune")
    assert len(old) == 106
    for unit in old:
        successor = queries.successor_on(unit, AFTER)
        assert successor is not None and successor.code == expected[unit.code], unit
        assert successor.valid_from == AFTER


def test_merge_into_doan_ket_and_its_predecessors(app):
    doan_ket = queries.resolve("03388", AFTER)
    predecessors = {step.unit.name for step in queries.predecessors(doan_ket)}
    assert predecessors == {"Phường Quyết Thắng", "Phường Quyết Tiến", "Phường Đoàn Kết",
                            "Xã Sùng Phài", "Xã Lả Nhì Thàng"}
    assert {step.link.kind for step in queries.predecessors(doan_ket)} == {"merge"}
    assert {u.code for u in queries.predecessors_on(doan_ket, BEFORE)} == {
        "03386", "03388", "03389", "03403", "03391"}


@pytest.mark.parametrize(("code", "kind"), [("03451", "transfer"), ("03463", "transfer"),
                                            ("03388", "merge"), ("03460", "merge")])
def test_lineage_kind(app, code, kind):
    old = queries.resolve(code, BEFORE)
    [step] = queries.successors(old)
    assert step.link.kind == kind
    assert step.link.effective_date == AFTER
    assert step.link.share is None
    assert step.link.legal_basis.startswith("NQ 1670")


def test_successors_on_gives_the_whole_unit_and_the_same_unit_when_still_valid(app):
    old = queries.resolve("03386", BEFORE)
    [(new, share)] = queries.successors_on(old, AFTER)
    assert (new.name, share) == ("Phường Đoàn Kết", 1)
    assert queries.successors_on(old, BEFORE) == [(old, 1)]
    assert queries.successor_on(new, BEFORE) is None  # only forward in time


def test_dates_of_reference_units(app):
    province = queries.resolve("12", AFTER)
    assert (province.valid_from, province.valid_to, province.parent_id) == (UNKNOWN_START, None,
                                                                             None)
    assert queries.resolve("12", BEFORE).id == province.id
    district = queries.resolve("110", BEFORE)
    assert (district.valid_from, district.valid_to) == (UNKNOWN_START, BEFORE)
    new = queries.resolve("03460", AFTER)
    assert (new.valid_to, new.parent_id, new.level.code) == (None, province.id, "commune")
    old = queries.resolve("03549", BEFORE)
    assert (old.unit_type.name, old.parent.code) == ("Thị trấn", "109")


@pytest.mark.parametrize(("code", "day", "alias"), [
    ("03460", BEFORE, "Xã Hua Bum"), ("03460", AFTER, "Xã Hua Bun"),
    ("03448", BEFORE, "Xã Pa Vệ Sủ"), ("03640", BEFORE, "Xã Ta Gia"),
    ("03442", BEFORE, "Xã Pa Ủ"), ("03391", BEFORE, "Xã Lản Nhì Thàng"),
])
def test_spelling_variants_are_aliases(app, code, day, alias):
    unit = queries.resolve(code, day)
    assert alias in unit.aliases.split("; ")
    assert unit.source


@pytest.mark.parametrize(("text", "day", "codes"), [
    ("doan ket", AFTER, {"03388"}),
    ("ĐOÀN KẾT", BEFORE, {"03389"}),
    ("hua bum", BEFORE, {"03460"}),
    ("03388", None, {"03388"}),
    ("muong te", BEFORE, {"107", "03433", "03445"}),
])
def test_search_ignores_accents_and_case(app, text, day, codes):
    found = db.session.scalars(queries.units_query(on=day, q=text))
    assert {unit.code for unit in found} == codes


def test_ethnic_groups_have_both_code_lists(app):
    groups = db.session.scalars(sa.select(EthnicGroup)).all()
    assert len(groups) == 54
    same = sorted(g.code for g in groups if g.code == g.code_2008)
    assert len(same) == 17
    assert same == ["01", "02", "03", "05", "07", "08", "09", "10", "20", "22", "28", "30",
                    "42", "44", "47", "50", "51"]
    by_name = {g.name: g for g in groups}
    assert (by_name["Hoa"].code, by_name["Hoa"].code_2008) == ("04", "06")
    assert sum(g.lives_in_community_in_province for g in groups) == 13
    assert by_name["HMông"].common_name == "Mông / H'Mông"
    assert by_name["Si La"].language_group == "Tạng-Miến"


def test_religions_sixteen_recognised(app):
    religions = db.session.scalars(sa.select(Religion)).all()
    recognised = [r for r in religions if r.recognised]
    assert len(recognised) == 16
    assert sum(1 for r in recognised if r.code) == 14
    assert sum(r.followers_census_2019 for r in religions) == 96_208_984
    mormon = next(r for r in religions if r.code == "14")
    assert mormon.name == "Mặc Môn" and "Mormon" in mormon.census_label


def test_load_reference_twice_changes_nothing(app):
    tables = (AdminUnit, UnitLineage, EthnicGroup, Religion)
    before = [_count(model) for model in tables]
    counts = load_reference()
    db.session.commit()
    assert set(counts.values()) == {0}
    assert [_count(model) for model in tables] == before == [153, 106, 54, 17]
