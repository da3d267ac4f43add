"""Sign-in: one message for every failure, the same work whether the username exists,
failed sign-ins logged, and throttling that never locks the real user out for good."""

import pytest
import sqlalchemy as sa

from dantoc.accounts import services
from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from tests.factories import PASSWORD
from tests.security_tree import Clock, build_tree, fresh_client, make


@pytest.fixture
def tree(app):
    return build_tree()


@pytest.fixture
def verifications(monkeypatch):
    """Counts password verifications (the expensive Argon2 step)."""
    calls = []
    real = services.verify_password

    def counting(stored, password):
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(services, "verify_password", counting)
    return calls


def attempt(client, username, password, **kwargs):
    return client.post("/accounts/login", data={"username": username, "password": password},
                       **kwargs)


def events(action):
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def _error_text(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index('class="err"'):].split("</p>")[0]


def test_wrong_password_and_unknown_user_look_the_same(app, tree, verifications):
    user = make("province_officer", tree["A"])
    disabled = make("province_officer", tree["A"])
    disabled.active = False
    db.session.commit()
    responses = [attempt(fresh_client(app), name, "wrong password 123")
                 for name in (user.username, "nobody-here", disabled.username)]
    assert {r.status_code for r in responses} == {200}
    assert len({_error_text(r) for r in responses}) == 1
    assert len(verifications) == 3  # the unknown name is verified against a dummy hash too
    assert verifications[1] is None


def test_failed_and_successful_sign_ins_are_audited(app, tree):
    user = make("province_officer", tree["A"])
    attempt(fresh_client(app), user.username, "wrong password 123")
    attempt(fresh_client(app), "nobody-here", "wrong password 123")
    assert attempt(fresh_client(app), user.username.upper(), PASSWORD).status_code == 303
    failed = events("auth.login_failed")
    assert [e.after["username"] for e in failed] == [user.username, "nobody-here"]
    assert all(e.object_id is None and e.actor_id is None for e in failed)
    [login] = events("auth.login")
    assert (login.actor_id, login.object_id, login.ip) == (user.id, str(user.id), "127.0.0.1")


def test_village_heads_without_password_cannot_use_the_password_form(app, tree):
    head = make("village_head", tree["C"], password=False)
    assert attempt(fresh_client(app), head.username, "").status_code == 200
    assert attempt(fresh_client(app), head.username, "anything at all").status_code == 200
    assert events("auth.login") == []


def test_next_must_stay_on_this_site(app, tree):
    user = make("province_officer", tree["A"])
    for target, expected in (("/accounts/me", "/accounts/me"), ("//evil.example/", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        response = fresh_client(app).post("/accounts/login", query_string={"next": target},
                                          data={"username": user.username,
                                                "password": PASSWORD})
        assert response.headers["Location"] == expected


def test_repeated_wrong_passwords_are_throttled_but_the_owner_gets_in(app, tree, verifications,
                                                                      monkeypatch):
    clock = Clock(monkeypatch)
    user = make("province_officer", tree["A"])
    owner = fresh_client(app)
    assert attempt(owner, user.username, PASSWORD).status_code == 303  # known browser now
    owner.post("/accounts/logout")
    verifications.clear()

    attacker = fresh_client(app)
    statuses = [attempt(attacker, user.username, f"guess {i}").status_code for i in range(15)]
    assert statuses == [200] * 10 + [429] * 5
    assert len(verifications) == 10  # at most 10 evaluated per 15 minutes
    assert len(events("auth.login_failed")) == 10

    # even with the right password, an unknown browser waits …
    assert attempt(fresh_client(app), user.username, PASSWORD).status_code == 429
    # … but the owner's browser, which signed in before, is counted on its own
    assert attempt(owner, user.username, PASSWORD).status_code == 303
    # and nobody is locked out for good: the window slides
    clock.advance(16)
    assert attempt(fresh_client(app), user.username, PASSWORD).status_code == 303


def test_the_throttle_is_per_account(app, tree):
    first, second = make("province_officer", tree["A"]), make("province_officer", tree["A"])
    attacker = fresh_client(app)
    for i in range(10):
        attempt(attacker, first.username, f"guess {i}")
    assert attempt(attacker, first.username, "guess").status_code == 429
    assert attempt(attacker, second.username, PASSWORD).status_code == 303


def test_one_address_cannot_spray_many_accounts(app, tree):
    assert app.config["LOGIN_LIMIT_IP"] == "50 per 15 minutes"
    app.config["LOGIN_LIMIT_IP"] = "4 per 15 minutes"  # the same rule, quicker to test
    attacker = fresh_client(app)
    statuses = [attempt(attacker, f"user-{i}", "password spray 1").status_code
                for i in range(6)]
    assert statuses == [200] * 4 + [429, 429]
    other_address = attempt(fresh_client(app), "user-x", "password spray 1",
                            environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 200


def test_a_throttled_request_gets_a_localized_page_and_retry_after(app, tree):
    attacker = fresh_client(app)
    for i in range(10):
        attempt(attacker, "someone", f"guess {i}")
    response = attempt(attacker, "someone", "guess")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert b"<html" in response.data and b"Traceback" not in response.data
