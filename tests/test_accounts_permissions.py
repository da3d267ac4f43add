"""can(): verbs from the role data, unit scope (with lineage), department limits, grants."""

from datetime import date

import pytest
import sqlalchemy as sa

from dantoc.accounts.models import RoleGrant, RoleVerb
from dantoc.accounts.permissions import DEFAULT_ROLES, VERBS, can
from dantoc.extensions import db
from dantoc.indicators.models import CatalogueVersion, Indicator, IndicatorGroup
from tests.security_tree import build_tree, make


@pytest.fixture
def tree(app):
    return build_tree()


@pytest.mark.parametrize("role", list(DEFAULT_ROLES))
def test_verbs_come_from_the_role_table(app, tree, role):
    user = make(role, tree["B"])
    stored = set(db.session.scalars(sa.select(RoleVerb.verb).where(RoleVerb.role_code == role)))
    assert stored == set(DEFAULT_ROLES[role][1])
    assert {verb for verb in VERBS if can(user, verb)} == stored


def test_a_verb_removed_from_the_table_is_refused(app, tree):
    user = make("commune_officer", tree["B"])
    db.session.execute(sa.delete(RoleVerb).where(RoleVerb.role_code == "commune_officer",
                                                 RoleVerb.verb == "report.view"))
    db.session.commit()
    from flask import g

    g.pop("_verbs", None)
    assert not can(user, "report.view")
    assert can(user, "catalog.view")


def test_anonymous_can_nothing(app):
    from flask_login import AnonymousUserMixin

    assert not any(can(AnonymousUserMixin(), verb) for verb in VERBS)


@pytest.mark.parametrize(("unit", "expected"), [
    ("B", True), ("C", True), ("D", False), ("A", False), ("Y", False), ("X", False),
])
def test_commune_officer_scope_is_the_subtree(app, tree, unit, expected):
    officer = make("commune_officer", tree["B"])
    assert can(officer, "report.view", tree[unit]) is expected


@pytest.mark.parametrize("unit", ["O", "OV"])
def test_old_units_map_to_their_successor_through_lineage(app, tree, unit):
    """Before 2025 commune O (and its village OV) existed; O merged into B."""
    assert can(make("commune_officer", tree["B"]), "report.view", tree[unit])
    assert not can(make("commune_officer", tree["D"]), "report.view", tree[unit])


def test_province_officer_sees_the_province_but_not_another(app, tree):
    officer = make("province_officer", tree["A"])
    assert all(can(officer, "report.view", tree[u]) for u in ("A", "B", "C", "D", "O"))
    assert not can(officer, "report.view", tree["Y"])


def test_admin_without_unit_is_unrestricted_but_others_without_unit_are_not(app, tree):
    assert can(make("admin", None), "report.view", tree["X"])
    assert not can(make("province_officer", None), "report.view", tree["B"])


def _group(department):
    version = CatalogueVersion(code="zz-v", name="v", valid_from=date(2025, 7, 1))
    db.session.add(version)
    db.session.flush()
    group = IndicatorGroup(catalogue_version_id=version.id, code="G1", name="Nhóm",
                           department_id=department.id if department else None)
    db.session.add(group)
    db.session.flush()
    indicator = Indicator(catalogue_version_id=version.id, group_id=group.id, code="I1",
                          name="Chỉ tiêu", value_type="integer")
    db.session.add(indicator)
    db.session.commit()
    return group, indicator


@pytest.mark.parametrize(("staff_department", "expected"), [("d1", True), ("d2", False),
                                                            (None, True)])
def test_department_staff_see_only_their_departments_groups(app, tree, staff_department,
                                                             expected):
    group, indicator = _group(tree.departments["d1"])
    department = tree.departments[staff_department] if staff_department else None
    officer = make("department_officer", tree["A"], department)
    assert can(officer, "report.view", group) is expected
    assert can(officer, "report.view", indicator) is expected
    assert can(officer, "report.view", tree.departments["d1"]) is expected


def test_department_staff_do_not_see_unowned_groups(app, tree):
    group, _indicator = _group(None)
    assert not can(make("department_officer", tree["A"], tree.departments["d1"]),
                   "report.view", group)


@pytest.mark.parametrize(("target_role", "target_unit", "expected"), [
    ("village_head", "C", True),
    ("village_head", "B", True),
    ("village_head", "X", False),
    ("village_head", "D", False),
    ("commune_officer", "B", False),  # a role the commune officer may not grant
    ("province_officer", "C", False),
])
def test_commune_officers_manage_only_village_heads_of_their_commune(
        app, tree, target_role, target_unit, expected):
    officer = make("commune_officer", tree["B"])
    target = make(target_role, tree[target_unit])
    assert can(officer, "user.manage", target) is expected


def test_admin_manages_every_role_in_scope_but_not_themself(app, tree):
    admin = make("admin", tree["A"])
    assert can(admin, "user.manage", make("province_officer", tree["A"]))
    assert not can(admin, "user.manage", make("commune_officer", tree["Y"]))
    assert not can(admin, "user.manage", admin)


def test_grants_are_data(app, tree):
    db.session.add(RoleGrant(role_code="commune_officer", grantable_code="commune_officer"))
    db.session.commit()
    officer = make("commune_officer", tree["B"])
    assert can(officer, "user.manage", make("commune_officer", tree["C"]))
