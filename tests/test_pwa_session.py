"""What the phone's outbox asks the server: who is signed in (the owner id its items are
bound to), a fresh CSRF token, the user's outbox key; CSRF failures a script can recognise;
sign-out clears the HTTP cache only (docs/offline.md)."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.accounts.models import User
from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.pwa.services import owner_id
from tests.conftest import app_on, base_config
from tests.factories import PASSWORD, counts, make_user, signed_in
from tests.security_tree import fresh_client, sign_in

JSON = {"Accept": "application/json"}


def test_signed_out_gets_401_json_not_a_redirect(client):
    response = client.get("/session/state", headers=JSON)
    assert response.status_code == 401
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert (problem["status"], problem["code"], problem["error"]["code"]) == (
        401, "signed_out", "signed_out")
    assert "Location" not in response.headers


def test_signed_in_gets_owner_csrf_and_key_never_cached(app, login):
    user = make_user("village_head")
    client = login(user)
    response = client.get("/session/state", headers=JSON)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    state = response.get_json()
    assert set(state) == {"user", "csrf", "key"}
    assert re.fullmatch(r"[0-9a-f]{24}", state["user"]) and state["user"] == owner_id(user)
    plain = hashlib.sha256(f"owner:{user.id}".encode()).hexdigest()[:24]
    assert state["user"] != plain  # keyed with the server's secret, not a bare hash
    assert len(base64.b64decode(state["key"], validate=True)) == 32
    again = client.get("/session/state").get_json()
    assert again["user"] == state["user"] and again["key"] == state["key"]  # stable
    db.session.expire_all()
    assert db.session.get(User, user.id).outbox_key == state["key"]


def test_the_key_is_created_once_and_audited_without_its_value(app, login):
    user = make_user("village_head")
    client = login(user)
    key = client.get("/session/state").get_json()["key"]
    client.get("/session/state")
    rows = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "user.outbox_key")).all()
    assert len(rows) == 1 and rows[0].object_id == str(user.id)
    assert key not in str(rows[0].after) and key not in str(rows[0].before)


def test_owner_ids_differ_between_users_and_keys_too(app):
    first, second = make_user("village_head"), make_user("village_head")
    states = []
    for user in (first, second):
        client = signed_in(fresh_client(app), user)
        states.append(client.get("/session/state").get_json())
    assert states[0]["user"] != states[1]["user"]
    assert states[0]["key"] != states[1]["key"]


def test_owner_id_depends_on_the_secret_key(app):
    user = make_user("village_head")
    with app.test_request_context():
        mine = owner_id(user)
    other = create_app(base_config(app.config["SQLALCHEMY_DATABASE_URI"])
                       | {"SECRET_KEY": "another-secret"})
    with other.test_request_context():
        assert owner_id(user) != mine


@pytest.fixture
def csrf_client(database_url):
    """A client of an app with CSRF protection on, as in production."""
    with app_on(database_url, WTF_CSRF_ENABLED=True) as app:
        yield app, fresh_client(app)


def _sign_in(client, user) -> None:
    page = client.get("/accounts/login?password=1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    response = client.post("/accounts/login", data={
        "username": user.username, "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 303


def test_csrf_failure_answers_json_when_json_is_asked(csrf_client):
    _app, client = csrf_client
    _sign_in(client, make_user("village_head"))
    response = client.post("/entry/1/X/2026", data={"uuid": str(uuid.uuid4())},
                           headers={**JSON, "X-CSRFToken": "expired-token"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "csrf" and error["message"]
    html = client.post("/entry/1/X/2026", data={}, headers={"X-CSRFToken": "expired-token"})
    assert html.status_code == 400 and html.mimetype == "text/html"


def test_renewed_token_lets_the_same_request_through(csrf_client):
    """What the outbox does after a 400 csrf: renew, then resend."""
    _app, client = csrf_client
    _sign_in(client, make_user("province_officer"))
    refused = client.post("/accounts/logout", headers={**JSON, "X-CSRFToken": "stale"})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf"
    token = client.get("/session/state").get_json()["csrf"]
    response = client.post("/accounts/logout", headers={**JSON, "X-CSRFToken": token})
    assert response.status_code == 303


def test_sign_out_clears_the_http_cache_but_not_storage(app, login):
    client = login(make_user("village_head"))
    response = client.post("/accounts/logout")
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == '"cache"'
    assert "storage" not in response.headers["Clear-Site-Data"]
    assert client.get("/session/state").status_code == 401


def test_outbox_page_needs_a_sign_in(client):
    response = client.get("/outbox")
    assert response.status_code in (302, 303)
    assert "/accounts/login" in response.headers["Location"]


def test_outbox_page_lists_nothing_itself(app, login):
    client = login(make_user("village_head"))
    response = client.get("/outbox")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<ul id="outbox-list"[^>]*></ul>', html)  # drawn from the phone
    assert counts()["submissions"] == 0


PARALLEL_FIRST_REQUESTS = 8


def test_parallel_first_requests_get_one_key_and_one_audit_row(app):
    """A freshly enrolled phone asks for its state from several tabs and its worker at once:
    every answer carries the same key, the one the server keeps, and one audit row is written
    (SQLite: no "database is locked"; PostgreSQL: no second key overwriting the first)."""
    user = make_user("village_head")
    clients = [fresh_client(app) for _ in range(PARALLEL_FIRST_REQUESTS)]
    for client in clients:
        sign_in(client, user)
    db.session.commit()  # outside a request the test's own session holds the write lock
    barrier = threading.Barrier(PARALLEL_FIRST_REQUESTS)

    def first_request(client):
        barrier.wait(timeout=30)
        response = client.get("/session/state", headers=JSON)
        return response.status_code, (response.get_json(silent=True) or {}).get("key")

    with ThreadPoolExecutor(PARALLEL_FIRST_REQUESTS) as pool:
        answers = list(pool.map(first_request, clients))
    assert [status for status, _key in answers] == [200] * PARALLEL_FIRST_REQUESTS, answers
    keys = {key for _status, key in answers}
    db.session.expire_all()
    assert keys == {db.session.get(User, user.id).outbox_key}
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "user.outbox_key", AuditEvent.object_id == str(user.id)))
    assert rows == 1
