"""The audit viewer: administrators only; filters by actor, action, object and dates."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from tests.security_tree import build_tree, fresh_client, make, sign_in


@pytest.fixture
def tree(app):
    return build_tree()


@pytest.fixture
def admin_client(app, tree):
    client = fresh_client(app)
    sign_in(client, make("admin", None, username="root-admin"))
    return client


def add(action, actor="someone", object_type=None, object_id=None, at=None):
    db.session.add(AuditEvent(action=action, actor_name=actor, object_type=object_type,
                              object_id=object_id, at=at or datetime.now(UTC)))
    db.session.commit()


def rows(response) -> list[str]:
    html = response.get_data(as_text=True)
    body = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return [cell.split("</td>")[0] for cell in body.split("<tr>")[1:]
            for cell in [cell.split("<td>")[3]]]


@pytest.mark.parametrize("role", ["commune_officer", "province_officer", "department_officer",
                                  "village_head", "api_client"])
def test_only_administrators_see_the_audit_trail(app, tree, role):
    client = fresh_client(app)
    sign_in(client, make(role, tree["A"]))
    assert client.get("/audit/").status_code == 403


@pytest.mark.parametrize(("query", "expected"), [
    ("actor=alice", ["doc.create", "user.update"]),
    ("action=user.update", ["user.update"]),
    ("action=user.", ["user.update", "user.create", "user.create"]),  # + root-admin's
    ("object_type=users&object_id=7", ["user.create"]),
    ("date_from=2024-01-01&date_to=2024-01-31", ["old.thing"]),
])
def test_filters(app, admin_client, query, expected):
    add("user.create", "bob", "users", "7")
    add("user.update", "alice", "users", "8")
    add("doc.create", "alice", "documents", "1")
    add("old.thing", "carol", at=datetime(2024, 1, 15, 3, tzinfo=UTC))
    response = admin_client.get(f"/audit/?{query}")
    assert response.status_code == 200
    assert [a for a in rows(response) if a in {"user.create", "user.update", "doc.create",
                                               "old.thing"}] == expected


def test_dates_are_days_in_the_province_time_zone(app, admin_client):
    # 2024-03-01 23:30 in Hà Nội is 16:30 UTC: it belongs to 1 March locally
    add("late.evening", at=datetime(2024, 3, 1, 16, 30, tzinfo=UTC))
    add("next.morning", at=datetime(2024, 3, 1, 17, 30, tzinfo=UTC))  # 00:30 on 2 March
    assert rows(admin_client.get("/audit/?date_from=2024-03-01&date_to=2024-03-01")) == [
        "late.evening"]


def test_bad_filter_input_is_a_message_not_an_error(app, admin_client):
    response = admin_client.get("/audit/?date_from=yesterday&actor=" + "x" * 500)
    assert response.status_code == 200 and b'class="err"' in response.data


def test_pages_and_htmx_rows(app, admin_client):
    app.config["PAGE_SIZE"] = 3
    for i in range(7):
        add(f"bulk.{i}", at=datetime.now(UTC) - timedelta(minutes=i))
    first = admin_client.get("/audit/?action=bulk.")
    third = admin_client.get("/audit/?action=bulk.&page=3", headers={"HX-Request": "true"})
    assert rows(first) == ["bulk.6", "bulk.5", "bulk.4"]
    assert b"<html" not in third.data and len(rows(third)) == 1
    assert b"action=bulk." in first.data  # the pager keeps the filters


def test_sign_ins_logouts_and_denials_appear(app, tree):
    from tests.factories import PASSWORD

    user = make("commune_officer", tree["B"])
    client = fresh_client(app)
    client.post("/accounts/login", data={"username": user.username, "password": "nope"})
    client.post("/accounts/login", data={"username": "ghost", "password": "nope"})
    client.post("/accounts/login", data={"username": user.username, "password": PASSWORD})
    client.get("/audit/")
    client.post("/accounts/logout")
    actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-5:] == ["auth.login_failed", "auth.login_failed", "auth.login",
                            "authz.denied", "auth.logout"]
    failed = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "auth.login_failed")).all()
    # a failed sign-in row looks the same whether or not the username exists
    assert [(e.actor_id, e.object_type, e.object_id, sorted(e.after)) for e in failed] == [
        (None, None, None, ["username"])] * 2
