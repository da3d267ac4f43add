"""The admin screens of the API's machine accounts (/api-clients/): the list, create (the
token shown once), rotate and revoke with a confirmation; the token then works, or stops
working, on the API; one audit row per change, in the change's transaction; bad input is a
message on the form and writes nothing; only the administrators may use them."""

from __future__ import annotations

import json
import logging
import re

import pytest
import sqlalchemy as sa

from dantoc import clock
from dantoc.accounts.passwords import sha256
from dantoc.accounts.permissions import DEFAULT_ROLES
from dantoc.api import clients
from dantoc.api.models import ApiClient
from dantoc.audit import services as audit_services
from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from tests.api_support import PROBLEM, make_client
from tests.conftest import app_on
from tests.factories import browser, make_user, make_village, unit
from tests.security_tree import build_tree

LIST = "/api-clients/"
NEW = "/api-clients/new"
REPORTS = "/api/v1/reports"  # needs a token with api.reports, bound to a unit
TOKEN = re.compile(r"dtk_[A-Za-z0-9_-]{43}")
ROLE_LABELS = {"api_client": "Hệ thống kết nối (API)",
               "api_reporter": "Hệ thống gửi báo cáo (API)"}


@pytest.fixture
def admin(app):
    return make_user("admin", unit_code=None)


@pytest.fixture
def page(app, admin):
    """The unscoped administrator's browser, in Vietnamese."""
    return browser(app, admin, locale="vi")


def audit_rows(action: str | None = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def client_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(ApiClient.id)))


def token_on(response) -> str:
    """The one token an answer page shows."""
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    found = TOKEN.findall(response.get_data(as_text=True))
    assert len(found) == 1, found  # shown exactly once
    return found[0]


def create(page, name: str = "tinh-lai-chau", role: str = "api_client",
           unit_code: str | None = "12"):
    unit_id = unit(unit_code).id if unit_code else 0
    return page.post(NEW, data={"name": name, "role_code": role, "unit_id": unit_id})


def card(html: str, client: ApiClient) -> str:
    """One client's card on the list page."""
    return html.split(f'id="client-{client.id}"')[1].split("</section>")[0]


def api(app, token: str, url: str = REPORTS):
    response = app.test_client().get(url, headers={"Authorization": f"Bearer {token}"})
    return response


@pytest.mark.parametrize("role", clients.API_ROLES)
def test_create_shows_a_token_once_that_then_reads_the_api(app, page, role):
    form = page.get(NEW).get_data(as_text=True)
    assert f'<option selected value="{unit("12").id}">' in form  # the province by default
    assert ROLE_LABELS[role] in form and f'value="{role}"' in form
    response = create(page, "tinh-lai-chau", role)
    token = token_on(response)
    html = response.get_data(as_text=True)
    assert "chỉ hiển thị một lần" in html  # the warning
    made = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == "tinh-lai-chau"))
    assert (made.role_code, made.unit.code, made.token_hash) == (role, "12", sha256(token))
    assert api(app, token).status_code == 200
    [row] = audit_rows("api.client.create")
    assert row.after == {"name": "tinh-lai-chau", "role_code": role, "unit_id": made.unit_id,
                         "revoked_at": None}
    # never shown again: not on the list, nor on the pages of its actions
    for url in (LIST, f"/api-clients/{made.id}/rotate", f"/api-clients/{made.id}/revoke"):
        assert token not in page.get(url).get_data(as_text=True)


def test_the_list_shows_labels_dates_and_states_never_codes_or_tokens(app, page):
    used, used_headers = make_client(name="bo-dan-toc", unit=unit("12"))
    assert app.test_client().get(REPORTS, headers=used_headers).status_code == 200
    unbound, _headers = make_client(name="khong-gan-don-vi", role="api_reporter")
    revoked, revoked_headers = make_client(name="cu", unit=unit("03388"))
    clients.revoke_client(revoked)
    db.session.commit()
    response = page.get(LIST)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    rows = {c.name: card(html, c) for c in (used, unbound, revoked)}
    assert ROLE_LABELS["api_client"] in rows["bo-dan-toc"]
    assert ROLE_LABELS["api_reporter"] in rows["khong-gan-don-vi"]
    assert unit("12").name in rows["bo-dan-toc"] and unit("03388").name in rows["cu"]
    assert "(không gắn với đơn vị nào)" in rows["khong-gan-don-vi"]
    day = clock.local_day(db.session.get(ApiClient, used.id).created_at)
    assert f"Tạo ngày {day:%d/%m/%Y}" in rows["bo-dan-toc"]  # dd/mm/yyyy
    assert re.search(r"dùng gần nhất lúc \d\d:\d\d \d\d/\d\d/\d{4}", rows["bo-dan-toc"])
    assert re.search(r"thu hồi lúc \d\d:\d\d \d\d/\d\d/\d{4}", rows["cu"])
    assert "chưa dùng" in rows["khong-gan-don-vi"]
    assert "đang dùng" in rows["bo-dan-toc"] and "đã thu hồi" in rows["cu"]
    assert "/rotate" in rows["bo-dan-toc"] and "/rotate" not in rows["cu"]  # kept, no actions
    assert html.index("bo-dan-toc") < html.index("khong-gan-don-vi") < html.index("<h2>cu ")
    for code in ("api_client", "api_reporter", "dtk_"):
        assert code not in html
    for headers in (used_headers, revoked_headers):
        assert headers["Authorization"].removeprefix("Bearer ") not in html
    assert 'href="/api-clients/"' in html  # the menu's link, next to the users


def test_rotate_confirms_then_the_old_token_stops_and_the_new_one_works(app, page):
    made, headers = make_client(name="bo", unit=unit("12"))
    old = headers["Authorization"].removeprefix("Bearer ")
    url = f"/api-clients/{made.id}/rotate"
    confirm = page.get(url)
    assert confirm.status_code == 200 and "Cấp mã truy cập mới cho bo?" in confirm.get_data(
        as_text=True)
    assert audit_rows("api.client.rotate") == [] and api(app, old).status_code == 200
    new = token_on(page.post(url))
    assert new != old
    assert api(app, new).status_code == 200
    refused = api(app, old)
    assert refused.status_code == 401 and refused.mimetype == PROBLEM
    assert refused.get_json()["code"] == "bad_token"
    [row] = audit_rows("api.client.rotate")
    assert row.object_id == str(made.id) and row.after["token_replaced"] is True
    assert db.session.get(ApiClient, made.id).token_hash == sha256(new)


def test_revoke_confirms_then_the_token_gets_401_and_the_client_stays_listed(app, page):
    made, headers = make_client(name="bo", unit=unit("12"))
    token = headers["Authorization"].removeprefix("Bearer ")
    url = f"/api-clients/{made.id}/revoke"
    confirm = page.get(url)
    assert confirm.status_code == 200 and "Thu hồi bo?" in confirm.get_data(as_text=True)
    assert db.session.get(ApiClient, made.id).active and api(app, token).status_code == 200
    done = page.post(url)
    assert done.status_code == 303 and done.headers["Location"] == LIST
    refused = api(app, token)
    assert refused.status_code == 401 and refused.mimetype == PROBLEM
    assert refused.get_json()["code"] == "bad_token"
    assert api(app, token, "/api/v1/religions").status_code == 401  # open data too
    listed = page.get(LIST).get_data(as_text=True)
    assert "Đã thu hồi bo" in listed and "đã thu hồi" in card(listed, made)
    assert len(audit_rows("api.client.revoke")) == 1
    # revoked for good: no second revocation, no new token
    for action in ("revoke", "rotate"):
        again = page.post(f"/api-clients/{made.id}/{action}")
        assert again.status_code == 303
    assert len(audit_rows("api.client.revoke")) == 1 and audit_rows("api.client.rotate") == []
    assert api(app, token).status_code == 401


def test_each_action_writes_one_audit_row_without_the_token_or_its_hash(app, page):
    before = len(audit_rows())
    token = token_on(create(page, "bo"))
    made = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == "bo"))
    new = token_on(page.post(f"/api-clients/{made.id}/rotate"))
    page.post(f"/api-clients/{made.id}/revoke")
    for url in (LIST, NEW, f"/api-clients/{made.id}/revoke"):  # reads write nothing
        page.get(url)
    rows = audit_rows()[before:]
    assert [r.action for r in rows] == ["api.client.create", "api.client.rotate",
                                        "api.client.revoke"]
    admin_name = page.get("/accounts/me").get_data(as_text=True)
    assert all(r.actor_name in admin_name for r in rows)
    text = json.dumps([[r.before, r.after] for r in audit_rows()], ensure_ascii=False)
    for secret in (token, new, sha256(token), sha256(new)):
        assert secret not in text


@pytest.mark.parametrize("action", ["create", "rotate", "revoke"])
def test_the_audit_row_is_in_the_changes_transaction(app, page, monkeypatch, action):
    """If the audit row cannot be written, the change is not kept either."""
    made, headers = make_client(name="bo", unit=unit("12"))
    state = (client_count(), made.token_hash, made.revoked_at)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the audit trail is down")

    monkeypatch.setattr(audit_services, "record", broken)
    response = (create(page, "moi") if action == "create"
                else page.post(f"/api-clients/{made.id}/{action}"))
    assert response.status_code == 500 and "dtk_" not in response.get_data(as_text=True)
    db.session.rollback()
    db.session.expire_all()
    made = db.session.get(ApiClient, made.id)
    assert (client_count(), made.token_hash, made.revoked_at) == state
    assert api(app, headers["Authorization"].removeprefix("Bearer ")).status_code == 200


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": ""}, "name", "Bắt buộc nhập"),
    ({"name": "   "}, "name", "Bắt buộc nhập"),
    ({"name": "x" * 61}, "name", "không được dài quá 60"),
    ({"name": "da-co"}, "name", "Đã có hệ thống kết nối mang tên này"),
    ({"role_code": "admin"}, "role_code", "Lựa chọn không hợp lệ"),  # a role, not an API one
    ({"role_code": "khong-co"}, "role_code", "Lựa chọn không hợp lệ"),
    ({"unit_id": 999999}, "unit_id", "Lựa chọn không hợp lệ"),
    ({"unit_id": "village"}, "unit_id", "Lựa chọn không hợp lệ"),  # no system of its own
    ({"unit_id": "x"}, "unit_id", "Lựa chọn không hợp lệ"),
])
def test_bad_input_is_a_message_on_the_form_and_writes_nothing(app, page, data, field,
                                                                message):
    make_client(name="da-co")
    if data.get("unit_id") == "village":
        village = make_village()
        db.session.commit()
        data = {"unit_id": village.id}
    before = (client_count(), len(audit_rows()))
    response = page.post(NEW, data={"name": "moi", "role_code": "api_client",
                                    "unit_id": unit("12").id} | data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    error = html.split(f'id="{field}-err">')[1].split("</p>")[0]
    assert message in error
    assert "dtk_" not in html
    assert (client_count(), len(audit_rows())) == before


def test_a_scoped_administrator_sees_and_binds_only_inside_their_province(app):
    tree = build_tree()
    scoped = make_user("admin", scope=tree["A"])
    mine, _headers = make_client(name="cua-tinh-a", unit=tree["B"])
    theirs, _headers = make_client(name="cua-tinh-z", unit=tree["Y"])
    nowhere, _headers = make_client(name="khong-gan")
    page = browser(app, scoped, locale="vi")
    html = page.get(LIST).get_data(as_text=True)
    assert "cua-tinh-a" in html and "cua-tinh-z" not in html and "khong-gan" not in html
    form = page.get(NEW).get_data(as_text=True)
    assert tree["B"].name in form and tree["Y"].name not in form
    assert "(không gắn với đơn vị nào)" not in form and tree["C"].name not in form
    for other in (theirs, nowhere):
        for action in ("rotate", "revoke"):
            assert page.post(f"/api-clients/{other.id}/{action}").status_code == 403
    assert db.session.get(ApiClient, theirs.id).active
    assert page.post(f"/api-clients/{mine.id}/revoke").status_code == 303
    response = page.post(NEW, data={"name": "moi", "role_code": "api_client",
                                    "unit_id": tree["Y"].id})
    assert response.status_code == 200 and 'aria-invalid="true"' in response.get_data(
        as_text=True)
    assert client_count() == 3


@pytest.mark.parametrize("role", sorted(set(DEFAULT_ROLES) - {"admin"}))
def test_no_other_role_may_use_the_screens(app, role):
    user = make_user(role, unit_code=None if role.startswith("api_") else "12")
    made, _headers = make_client(name="bo", unit=unit("12"))
    page = browser(app, user, locale="vi")
    before = (client_count(), made.token_hash)
    assert "/api-clients/" not in page.get("/accounts/me").get_data(as_text=True)
    for method, url in (("get", LIST), ("get", NEW), ("post", NEW),
                        ("get", f"/api-clients/{made.id}/rotate"),
                        ("post", f"/api-clients/{made.id}/rotate"),
                        ("post", f"/api-clients/{made.id}/revoke")):
        data = {"name": "moi", "role_code": "api_client", "unit_id": 0}
        response = getattr(page, method)(url, data=data if method == "post" else None)
        assert response.status_code == 403, (method, url)
        assert "dtk_" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert (client_count(), db.session.get(ApiClient, made.id).token_hash) == before
    assert db.session.get(ApiClient, made.id).active
    assert len(audit_rows("authz.denied")) == 6


def test_an_api_token_opens_none_of_the_screens(app):
    _made, headers = make_client(name="bo", role="admin")
    response = app.test_client().get(LIST, headers=headers)
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_the_token_is_never_logged(app, page, caplog):
    caplog.set_level(logging.DEBUG)
    token = token_on(create(page, "bo"))
    made = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == "bo"))
    new = token_on(page.post(f"/api-clients/{made.id}/rotate"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert token not in logged and new not in logged


def test_the_forms_carry_a_working_csrf_token(database_url):
    with app_on(database_url, WTF_CSRF_ENABLED=True) as app:
        page = browser(app, make_user("admin", unit_code=None), locale="vi")
        form = page.get(NEW).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        data = {"name": "bo", "role_code": "api_client", "unit_id": unit("12").id}
        assert page.post(NEW, data=data).status_code == 400  # no token: refused
        assert client_count() == 0
        token_on(page.post(NEW, data=data | {"csrf_token": csrf}))
        made = db.session.scalar(sa.select(ApiClient))
        confirm = page.get(f"/api-clients/{made.id}/revoke").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', confirm).group(1)
        assert page.post(f"/api-clients/{made.id}/revoke").status_code == 400
        assert db.session.get(ApiClient, made.id).active
        assert page.post(f"/api-clients/{made.id}/revoke",
                         data={"csrf_token": csrf}).status_code == 303
        db.session.expire_all()
        assert not db.session.get(ApiClient, made.id).active


def test_rotate_client_on_the_command_line(app, runner):
    made, headers = make_client(name="bo", unit=unit("12"))
    result = runner.invoke(args=["api", "rotate-client", "bo"])
    assert result.exit_code == 0, result.output
    new = result.output.strip().splitlines()[-1]
    assert api(app, new).status_code == 200
    assert api(app, headers["Authorization"].removeprefix("Bearer ")).status_code == 401
    clients.revoke_client(db.session.get(ApiClient, made.id))
    db.session.commit()
    again = runner.invoke(args=["api", "rotate-client", "bo"])
    assert again.exit_code != 0 and "đã bị thu hồi" in again.output
    assert runner.invoke(args=["api", "rotate-client", "khong-co"]).exit_code != 0
