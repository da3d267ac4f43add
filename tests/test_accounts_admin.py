"""User administration: who sees whom, create / edit / disable, bad input, and one audit row
per change."""

import pytest
import sqlalchemy as sa

from dantoc.accounts.models import User
from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from tests.security_tree import build_tree, fresh_client, make, sign_in


@pytest.fixture
def tree(app):
    return build_tree()


def client_for(app, user):
    client = fresh_client(app)
    sign_in(client, user)
    return client


def audit_count(*where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*where))


def invalid(response) -> bool:
    return response.status_code == 200 and b'aria-invalid="true"' in response.data


def test_commune_officers_list_only_the_village_heads_of_their_commune(app, tree):
    officer = make("commune_officer", tree["B"])
    mine = [make("village_head", tree["C"], username="head-c"),
            make("village_head", tree["B"], username="head-b")]
    others = [make("village_head", tree["D"], username="head-d"),
              make("village_head", tree["X"], username="head-x"),
              make("commune_officer", tree["B"], username="colleague-b")]
    html = client_for(app, officer).get("/accounts/users").get_data(as_text=True)
    assert all(u.username in html for u in mine)
    assert not any(u.username in html for u in others)


def test_province_admin_lists_the_province_and_searches(app, tree):
    admin = make("admin", tree["A"])
    make("province_officer", tree["A"], username="tinh-nguyen")
    make("village_head", tree["C"], username="ban-c-lo")
    make("village_head", tree["X"], username="other-province")
    client = client_for(app, admin)
    html = client.get("/accounts/users").get_data(as_text=True)
    assert "tinh-nguyen" in html and "ban-c-lo" in html and "other-province" not in html
    found = client.get("/accounts/users?q=Bản C").get_data(as_text=True)  # by unit name
    assert "ban-c-lo" in found and "tinh-nguyen" not in found


def test_search_returns_rows_for_htmx_and_a_page_otherwise(app, tree):
    client = client_for(app, make("admin", None))
    make("village_head", tree["C"], username="ban-c-lo")
    fragment = client.get("/accounts/users?q=lo", headers={"HX-Request": "true"})
    boosted = client.get("/accounts/users?q=lo", headers={"HX-Request": "true",
                                                          "HX-Boosted": "true"})
    assert b"<html" not in fragment.data and b"ban-c-lo" in fragment.data
    assert b"<html" in boosted.data and b"ban-c-lo" in boosted.data


def test_the_list_is_paginated(app, tree):
    app.config["PAGE_SIZE"] = 2
    for i in range(5):
        make("village_head", tree["C"], username=f"head-{i}")
    client = client_for(app, make("commune_officer", tree["B"]))
    pages = [client.get(f"/accounts/users?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    seen = [[f"head-{i}" for i in range(5) if f"head-{i}<" in page] for page in pages]
    assert [len(s) for s in seen] == [2, 2, 1]
    assert sorted(name for names in seen for name in names) == [f"head-{i}" for i in range(5)]


def test_a_commune_officer_creates_a_village_head_in_their_commune(app, tree):
    officer = make("commune_officer", tree["B"])
    response = client_for(app, officer).post("/accounts/users/new", data={
        "username": "Ban.C-Moi", "full_name": "Lò Văn Mới", "role_code": "village_head",
        "unit_id": tree["C"].id, "department_id": 0})
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.username == "ban.c-moi"))
    assert (user.unit_id, user.role_code, user.password_hash) == (tree["C"].id, "village_head",
                                                                  None)
    [row] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action ==
                                                           "user.create")).all()[-1:]
    assert row.actor_id == officer.id and row.after["unit_id"] == tree["C"].id


@pytest.mark.parametrize("change", [
    {"role_code": "commune_officer"},  # a role they may not grant
    {"unit_id": "D"},  # a sibling commune
    {"unit_id": "X"},  # another province
    {"username": "có dấu"},  # not a valid username
    {"username": ""},
    {"full_name": ""},
    {"password": "correct-horse-battery"},  # village heads get a PIN, not a password
])
def test_bad_or_out_of_scope_input_creates_nothing(app, tree, change):
    officer = make("commune_officer", tree["B"])
    data = {"username": "new-head", "full_name": "Lò Văn Mới", "role_code": "village_head",
            "unit_id": tree["C"].id, "department_id": 0} | change
    if isinstance(data["unit_id"], str):
        data["unit_id"] = tree[data["unit_id"]].id
    before = audit_count()
    assert invalid(client_for(app, officer).post("/accounts/users/new", data=data))
    assert db.session.scalar(sa.select(User.id).where(User.username == "new-head")) is None
    assert audit_count() == before


@pytest.mark.parametrize(("password", "ok"), [("", False), ("password1", False),
                                              ("new-officer", False),
                                              ("đồng bào vùng cao 2026", True)])
def test_staff_accounts_need_a_good_password(app, tree, password, ok):
    admin = make("admin", None)
    response = client_for(app, admin).post("/accounts/users/new", data={
        "username": "new-officer", "full_name": "Cán bộ mới", "role_code": "province_officer",
        "unit_id": tree["A"].id, "department_id": 0, "password": password})
    assert (response.status_code == 303) is ok
    assert (db.session.scalar(sa.select(User.id).where(User.username == "new-officer"))
            is not None) is ok


def test_a_taken_username_is_a_field_error(app, tree):
    make("village_head", tree["C"], username="taken")
    response = client_for(app, make("commune_officer", tree["B"])).post(
        "/accounts/users/new", data={"username": "TAKEN", "full_name": "x",
                                     "role_code": "village_head", "unit_id": tree["C"].id})
    assert invalid(response)


def test_edit_records_before_and_after(app, tree):
    admin = make("admin", None)
    target = make("department_officer", tree["A"], tree.departments["d1"])
    response = client_for(app, admin).post(f"/accounts/users/{target.id}/edit", data={
        "full_name": "Tên mới", "role_code": "department_officer", "unit_id": tree["A"].id,
        "department_id": tree.departments["d2"].id})
    assert response.status_code == 303
    db.session.refresh(target)
    assert (target.full_name, target.department_id) == ("Tên mới", tree.departments["d2"].id)
    [row] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action ==
                                                           "user.update")).all()
    assert row.before["department_id"] == tree.departments["d1"].id
    assert row.after["department_id"] == tree.departments["d2"].id
    assert row.after["password_changed"] is False


def test_out_of_scope_requests_are_refused_clearly_and_logged(app, tree):
    officer = make("commune_officer", tree["B"])
    other = make("village_head", tree["D"])
    client = client_for(app, officer)
    for method, path in (("get", f"/accounts/users/{other.id}"),
                         ("get", f"/accounts/users/{other.id}/edit"),
                         ("post", f"/accounts/users/{other.id}/disable")):
        response = getattr(client, method)(path)
        assert response.status_code == 403
        assert b"<html" in response.data and b"Traceback" not in response.data
    assert other.active
    assert audit_count(AuditEvent.action == "authz.denied") == 3
    assert client.get("/accounts/users/999999").status_code == 404


def test_audit_rows_equal_state_changes(app, tree):
    admin = make("admin", None)
    target = make("village_head", tree["C"])
    client = client_for(app, admin)
    before = audit_count()
    steps = [
        ("post", f"/accounts/users/{target.id}/disable", {}),
        ("post", f"/accounts/users/{target.id}/enable", {}),
        ("post", f"/accounts/users/{target.id}/activation", {}),
        ("post", f"/accounts/users/{target.id}/reset-pin", {}),
        ("post", f"/accounts/users/{target.id}/edit", {
            "full_name": "Tên khác", "role_code": "village_head", "unit_id": tree["C"].id,
            "department_id": 0}),
        ("post", "/accounts/users/new", {
            "username": "another-head", "full_name": "Lò Thị B", "role_code": "village_head",
            "unit_id": tree["C"].id, "department_id": 0}),
        ("get", "/accounts/users", {}),  # reads change nothing
        ("get", f"/accounts/users/{target.id}", {}),
    ]
    for method, path, data in steps:
        assert getattr(client, method)(path, data=data).status_code in (200, 303)
    actions = list(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.id > 0).order_by(AuditEvent.id)))[before:]
    assert actions == ["user.disable", "user.enable", "user.activation_issue",
                       "user.pin_reset", "user.update", "user.create"]


def test_disabling_revokes_devices_and_sessions(app, tree):
    from tests.test_accounts_devices import PIN

    officer = make("commune_officer", tree["B"])
    head = make("village_head", tree["C"], password=False)
    client = client_for(app, officer)
    html = client.post(f"/accounts/users/{head.id}/activation").get_data(as_text=True)
    code = html.split("<strong>")[1].split("</strong>")[0]
    phone = fresh_client(app)
    phone.post("/accounts/activate", data={"code": code, "pin": PIN, "pin_confirm": PIN})
    client.post(f"/accounts/users/{head.id}/disable")
    assert phone.get("/accounts/me").status_code == 302
    row = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action ==
                                                         "user.disable")).one()
    assert len(row.after["devices_revoked"]) == 1
    client.post(f"/accounts/users/{head.id}/enable")
    assert phone.get("/accounts/unlock").headers["Location"] == "/accounts/activate"
