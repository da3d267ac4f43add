"""Machine accounts: bearer tokens (hashed at rest), revocation, verbs, rate limit, and the
wall between tokens and browser sessions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.accounts.passwords import sha256
from dantoc.api import clients
from dantoc.api.models import ApiClient
from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from tests.api_support import PROBLEM, make_client
from tests.conftest import base_config
from tests.factories import make_user

URL = "/api/v1/religions"  # open data: no token needed, but one sent must be valid
#: Unit reports: a token with api.reports is needed (an unscoped client: the admin role).
TOKEN_URL = "/api/v1/reports"


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["code"] == code and problem["status"] == status and problem["detail"]
    return problem


def test_a_token_reads_and_is_stored_only_as_a_hash(client):
    api_client, headers = make_client(name="bo-dan-toc")
    token = headers["Authorization"].removeprefix("Bearer ")
    assert client.get(URL, headers=headers).status_code == 200
    row = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == "bo-dan-toc"))
    assert row.token_hash == sha256(token) and token not in str(
        db.session.execute(sa.select(ApiClient.__table__)).all())
    assert row.last_used_at is not None
    created = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "api.client.create"))
    assert created.object_id == str(api_client.id) and token not in str(created.after)


@pytest.mark.parametrize("url", [URL, TOKEN_URL])
@pytest.mark.parametrize("header, challenge", [
    (None, 'Bearer realm="dantoc-api"'),
    ("Bearer dtk_not-a-real-token", 'Bearer realm="dantoc-api", error="invalid_token"'),
    ("Bearer ", 'Bearer realm="dantoc-api"'),
    ("Basic dXNlcjpwYXNz", 'Bearer realm="dantoc-api"'),
])
def test_no_token_or_a_bad_one_is_401_problem_json(client, url, header, challenge):
    """A bad token is refused everywhere; no token only where a token is needed."""
    make_client()
    response = client.get(url, headers={"Authorization": header} if header else {})
    if header is None and url == URL:
        assert response.status_code == 200 and len(response.get_json()["items"]) > 10
        return
    _problem(response, 401, "bad_token")
    assert response.headers["WWW-Authenticate"] == challenge


def test_a_revoked_token_stops_at_once(client, runner):
    api_client, headers = make_client(name="old-peer")
    assert client.get(URL, headers=headers).status_code == 200
    result = runner.invoke(args=["api", "revoke-client", "old-peer"])
    assert result.exit_code == 0, result.output
    _problem(client.get(URL, headers=headers), 401, "bad_token")
    assert db.session.get(ApiClient, api_client.id).revoked_at is not None
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "api.client.revoke")) == 1
    again = runner.invoke(args=["api", "revoke-client", "old-peer"])
    assert again.exit_code != 0 and "đã bị thu hồi trước đó" in again.output  # localized


def test_a_client_without_the_verb_is_403_and_logged(client):
    _api_client, headers = make_client(role="village_head", name="wrong-scope")
    response = client.get(TOKEN_URL, headers=headers)
    _problem(response, 403, "no_authority")
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    denial = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action ==
                                                            "authz.denied"))
    assert denial.actor_name == "api:wrong-scope" and denial.actor_id is None
    assert denial.after["verb"] == "api.reports"


def test_the_verb_comes_from_the_role_table(client):
    """Roles are data: taking api.reports from the role refuses its clients."""
    from dantoc.accounts.models import RoleVerb

    _api_client, headers = make_client(role="admin")
    assert client.get(TOKEN_URL, headers=headers).status_code == 200
    db.session.execute(sa.delete(RoleVerb).where(RoleVerb.role_code == "admin",
                                                 RoleVerb.verb == "api.reports"))
    db.session.commit()
    _problem(client.get(TOKEN_URL, headers=headers), 403, "no_authority")


def test_create_client_prints_the_token_once(runner, client):
    result = runner.invoke(args=["api", "create-client", "tinh-lai-chau"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith(clients.TOKEN_PREFIX) and len(token) > 40
    assert client.get(URL, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = runner.invoke(args=["api", "list-clients"])
    assert "tinh-lai-chau" in listed.output and token not in listed.output
    twice = runner.invoke(args=["api", "create-client", "tinh-lai-chau"])
    assert twice.exit_code != 0 and "Đã có hệ thống kết nối mang tên này" in twice.output
    assert runner.invoke(args=["api", "create-client", "x", "--role", "nope"]).exit_code != 0
    bound = runner.invoke(args=["api", "create-client", "tinh-12", "--unit", "12"])
    assert bound.exit_code == 0, bound.output
    unit = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == "tinh-12")).unit
    assert unit.code == "12" and unit.valid_to is None
    nowhere = runner.invoke(args=["api", "create-client", "x", "--unit", "ZZ-NONE"])
    assert nowhere.exit_code != 0 and "mã ZZ-NONE đang có hiệu lực" in nowhere.output


def test_a_browser_session_does_not_open_the_api(client, login):
    """Even an administrator's session: the API reads only tokens."""
    login(make_user("admin", unit_code=None))
    _problem(client.get(TOKEN_URL), 401, "bad_token")


def test_a_token_does_not_open_html_pages(client):
    _api_client, headers = make_client(role="admin")
    response = client.get("/catalogs/", headers=headers)
    assert response.status_code in (302, 303) and "/accounts/login" in response.headers[
        "Location"]


def test_only_unit_reports_need_a_token(app):
    """Catalogs, form definitions and documents are open data; approved unit reports and
    their DHIS2 values (figures not yet published) need a token with api.reports; a write
    is a POST with an Idempotency-Key and api.push."""
    token_routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        if rule.methods - {"GET", "HEAD", "OPTIONS"}:  # a write: POST, with Idempotency-Key
            assert rule.methods - {"GET", "HEAD", "OPTIONS"} == {"POST"}, rule
            assert view._idempotent and view._required_verb == "api.push", rule
        elif view._access == "token":
            token_routes.add(rule.endpoint)
            assert view._required_verb == "api.reports", rule
        else:
            assert view._access == "public", rule
    assert token_routes == {"api.reports_list", "api.report_detail",
                            "api_exchange.data_value_sets"}


def test_each_client_has_its_own_rate_limit(database_url):
    app = create_app(base_config(database_url) | {"API_LIMIT_CLIENT": "3 per minute"})
    with app.app_context():
        _first, busy = make_client()
        _second, other = make_client()
        http = app.test_client()
        assert [http.get(URL, headers=busy).status_code for _ in range(3)] == [200] * 3
        _problem(http.get(URL, headers=busy), 429, "too_many_requests")
        assert http.get(URL, headers=other).status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_the_demo_prints_a_working_sample_token(runner, client):
    from dantoc.demo.api_client import TOKEN
    from tests.indicator_factories import ensure_reference

    ensure_reference()
    for _run in range(2):  # running the demo again changes nothing
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        assert f"Bearer {TOKEN}" in result.output
    assert client.get(URL, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(ApiClient.id))) == 1
    demo = db.session.scalar(sa.select(ApiClient))
    assert demo.unit.code == "12"  # bound to the demo province: it reads its reports
    assert client.get(TOKEN_URL, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@pytest.mark.parametrize("language, detail", [
    (None, "Thiếu mã truy cập API, mã sai hoặc đã bị thu hồi."),
    ("en", "Thiếu mã truy cập API, mã sai hoặc đã bị thu hồi."),  # Vietnamese whatever
    ("vi", "Thiếu mã truy cập API, mã sai hoặc đã bị thu hồi."),  # Accept-Language says
])
def test_refusals_are_vietnamese_by_default(client, language, detail):
    headers = {"Accept-Language": language} if language else {}
    problem = _problem(client.get(TOKEN_URL, headers=headers), 401, "bad_token")
    assert problem["detail"].startswith(detail)
