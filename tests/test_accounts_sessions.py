"""Sessions the server can revoke: fixation, timeouts, replay after logout/disable/password
change, cookie flags, and HTMX requests that meet an expired session."""

import pytest
import sqlalchemy as sa

from dantoc.accounts import sessions
from dantoc.accounts.ratelimit import known_cookie_name
from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from tests.conftest import base_config
from tests.factories import PASSWORD
from tests.security_tree import build_tree, fresh_client, make


@pytest.fixture
def tree(app):
    return build_tree()


@pytest.fixture
def http(app):
    return fresh_client(app)


def password_login(client, user, password=PASSWORD):
    return client.post("/accounts/login", data={"username": user.username,
                                                "password": password})


def replay(app, cookie_value):
    """A second browser holding a copy of the session cookie."""
    other = fresh_client(app)
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie_value)
    return other


def session_cookie(app, client):
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def test_sign_in_starts_a_new_session(app, tree, http):
    user = make("province_officer", tree["A"])
    with http.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = session_cookie(app, http)
    assert password_login(http, user).status_code == 303
    assert session_cookie(app, http) != before
    with http.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{user.id}:{user.session_nonce}"


def test_cookies_are_httponly_and_samesite(app, tree, http):
    response = password_login(http, make("province_officer", tree["A"]))
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    session_header = cookies[app.config["SESSION_COOKIE_NAME"]]
    assert "HttpOnly" in session_header and "SameSite=Lax" in session_header
    assert "HttpOnly" in cookies[known_cookie_name()]


def test_production_cookies_are_secure_and_host_prefixed(database_url):
    from dantoc import create_app

    config = base_config(database_url) | {"SESSION_COOKIE_SECURE": True,
                                          "SESSION_COOKIE_NAME": "__Host-session"}
    app = create_app(config)
    with app.app_context():
        tree = build_tree()
        user = make("province_officer", tree["A"])
        response = fresh_client(app).post("/accounts/login", base_url="https://localhost",
                                          data={"username": user.username,
                                                "password": PASSWORD})
        db.session.remove()
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=")[0] for c in cookies} == {"__Host-session", "__Host-known"}
    for cookie in cookies:
        assert "Secure" in cookie and "Path=/" in cookie and "HttpOnly" in cookie
        assert "Domain" not in cookie


@pytest.mark.parametrize(("minutes", "signed_in"), [(29, True), (31, False)])
def test_idle_timeout(app, tree, http, monkeypatch, minutes, signed_in):
    password_login(http, make("province_officer", tree["A"]))
    start = sessions.now()
    monkeypatch.setattr(sessions, "now", lambda: start + minutes * 60)
    response = http.get("/accounts/me")
    assert (response.status_code == 200) is signed_in
    if not signed_in:
        assert response.headers["Location"].startswith("/accounts/login")
        page = http.get(response.headers["Location"]).get_data(as_text=True)
        assert 'class="flash"' in page  # "Your session has expired…"


def test_activity_keeps_the_session_alive_until_the_absolute_timeout(app, tree, http,
                                                                     monkeypatch):
    password_login(http, make("province_officer", tree["A"]))
    start = sessions.now()
    clock = {"t": start}
    monkeypatch.setattr(sessions, "now", lambda: clock["t"])
    for _ in range(35):  # every 20 minutes for 11 h 40 min
        clock["t"] += 20 * 60
        assert http.get("/accounts/me").status_code == 200
    clock["t"] = start + 12 * 3600 + 60
    assert http.get("/accounts/me").status_code == 302


def test_an_expired_session_sends_htmx_to_the_sign_in_page(app, tree, http, monkeypatch):
    password_login(http, make("admin", tree["A"]))
    start = sessions.now()
    monkeypatch.setattr(sessions, "now", lambda: start + 3600)
    response = http.get("/accounts/users?q=x", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/accounts/login")
    assert b"<form" not in response.data


def test_json_clients_get_401(app, http):
    response = http.get("/accounts/me", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "signed_out"


def test_a_cookie_replayed_after_logout_is_refused(app, tree, http):
    password_login(http, make("province_officer", tree["A"]))
    copied = session_cookie(app, http)
    assert replay(app, copied).get("/accounts/me").status_code == 200
    assert http.post("/accounts/logout").status_code == 303
    assert replay(app, copied).get("/accounts/me").status_code == 302
    assert http.get("/accounts/me").status_code == 302


def test_a_cookie_replayed_after_disabling_is_refused(app, tree, http):
    user = make("village_head", tree["C"])
    password_login(http, user)
    copied = session_cookie(app, http)
    admin_client = fresh_client(app)
    password_login(admin_client, make("admin", tree["A"]))
    assert admin_client.post(f"/accounts/users/{user.id}/disable").status_code == 303
    assert replay(app, copied).get("/accounts/me").status_code == 302


def test_a_cookie_replayed_after_a_password_change_is_refused(app, tree, http):
    user = make("province_officer", tree["A"])
    password_login(http, user)
    other_browser = fresh_client(app)
    password_login(other_browser, user)
    copied = session_cookie(app, http)
    response = http.post("/accounts/password", data={
        "current_password": PASSWORD, "new_password": "núi cao suối sâu 2026",
        "confirm": "núi cao suối sâu 2026"})
    assert response.status_code == 303
    assert http.get("/accounts/me").status_code == 200  # this session continues
    assert other_browser.get("/accounts/me").status_code == 302
    assert replay(app, copied).get("/accounts/me").status_code == 302
    assert password_login(fresh_client(app), user, "núi cao suối sâu 2026").status_code == 303


def test_password_change_checks_the_current_password_and_the_policy(app, tree, http):
    user = make("province_officer", tree["A"])
    password_login(http, user)
    wrong = http.post("/accounts/password", data={
        "current_password": "not it", "new_password": "núi cao suối sâu 2026",
        "confirm": "núi cao suối sâu 2026"})
    weak = http.post("/accounts/password", data={
        "current_password": PASSWORD, "new_password": "password1", "confirm": "password1"})
    assert wrong.status_code == weak.status_code == 200
    assert b'aria-invalid="true"' in wrong.data and b'aria-invalid="true"' in weak.data
    db.session.refresh(user)
    assert password_login(fresh_client(app), user).status_code == 303
    changes = db.session.scalar(sa.select(sa.func.count()).where(
        AuditEvent.action == "user.password_change"))
    assert changes == 0


@pytest.mark.parametrize("path", ["/accounts/me", "/accounts/users", "/audit/"])
def test_authenticated_pages_are_not_stored_by_caches(app, tree, http, path):
    password_login(http, make("admin", tree["A"]))
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
