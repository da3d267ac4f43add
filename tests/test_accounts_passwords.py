"""Password storage (Argon2id, tuned; cheap only in tests) and the password and PIN
policies."""

import re

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.accounts.models import User
from dantoc.accounts.passwords import (
    PRODUCTION_COST,
    common_passwords,
    hash_password,
    needs_rehash,
    password_messages,
    password_problems,
    pin_problem,
    verify_password,
)
from dantoc.audit.models import AuditEvent
from dantoc.config import ConfigError
from dantoc.extensions import db
from tests.conftest import ARGON2_TEST_COST
from tests.factories import PASSWORD, make_user

ARGON2_VARIABLES = ("DANTOC_ARGON2_MEMORY_KIB", "DANTOC_ARGON2_TIME_COST",
                    "DANTOC_ARGON2_PARALLELISM")


def cost_of(stored: str) -> tuple[int, int, int]:
    match = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", stored)
    assert match, stored
    return tuple(map(int, match.groups()))


@pytest.fixture
def production_app(monkeypatch):
    """An app configured as in production, from an environment without Argon2 settings."""
    for name in ARGON2_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DANTOC_ENV", "production")
    monkeypatch.setenv("DANTOC_SECRET_KEY", "x" * 40)
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_hashes_are_argon2id_with_the_rfc9106_low_memory_parameters(production_app):
    assert {key: production_app.config[key] for key in PRODUCTION_COST.as_config()} == {
        "ARGON2_MEMORY_KIB": 65536, "ARGON2_TIME_COST": 3, "ARGON2_PARALLELISM": 4}
    with production_app.app_context():
        stored = hash_password("a long enough passphrase")
    memory_kib, time_cost, parallelism = cost_of(stored)
    assert memory_kib >= 19 * 1024 and time_cost >= 2 and parallelism >= 1  # OWASP minimum
    assert (memory_kib, time_cost, parallelism) == (65536, 3, 4)


@pytest.mark.parametrize(("env", "memory_kib", "time_cost", "starts"), [
    ("production", 8, 1, False),
    ("production", 19455, 2, False),
    ("production", 19456, 1, False),
    ("production", 19456, 2, True),
    ("development", 8, 1, True),
    ("testing", 8, 1, True),
])
def test_production_refuses_to_start_with_a_test_grade_cost(monkeypatch, env, memory_kib,
                                                            time_cost, starts):
    monkeypatch.setenv("DANTOC_ENV", env)
    monkeypatch.setenv("DANTOC_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DANTOC_ARGON2_MEMORY_KIB", str(memory_kib))
    monkeypatch.setenv("DANTOC_ARGON2_TIME_COST", str(time_cost))
    monkeypatch.setenv("DANTOC_ARGON2_PARALLELISM", "1")
    if starts:
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
        assert (app.config["ARGON2_MEMORY_KIB"], app.config["ARGON2_TIME_COST"]) == (
            memory_kib, time_cost)
    else:
        with pytest.raises(ConfigError, match="DANTOC_ARGON2_MEMORY_KIB"):
            create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_a_cheap_hash_is_replaced_at_sign_in_when_the_production_cost_applies(app, client):
    user = make_user()
    assert cost_of(user.password_hash) == tuple(ARGON2_TEST_COST)
    assert not needs_rehash(user.password_hash)
    app.config.update(PRODUCTION_COST.as_config())  # the same database, production's cost
    assert needs_rehash(user.password_hash)
    response = client.post("/accounts/login", data={"username": user.username,
                                                    "password": PASSWORD})
    assert response.status_code == 303
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert cost_of(stored) == (65536, 3, 4)
    assert verify_password(stored, PASSWORD) and not needs_rehash(stored)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "auth.rehash"))
    assert (event.object_id, event.after) == (str(user.id), {"secret": "password",
                                                             "cost": [65536, 3, 4]})


def test_a_hash_at_the_configured_cost_is_kept_at_sign_in(app, client):
    user = make_user()
    before = user.password_hash
    response = client.post("/accounts/login", data={"username": user.username,
                                                    "password": PASSWORD})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(User.password_hash).where(User.id == user.id)) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "auth.rehash")) == 0


def test_verify_accepts_the_right_password_only(app):
    stored = hash_password("a long enough passphrase")
    assert verify_password(stored, "a long enough passphrase")
    assert not verify_password(stored, "a long enough passphrasE")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_the_common_password_list_is_shipped_and_large_enough():
    words = common_passwords()
    assert len(words) >= 3000
    assert {"password", "12345678", "iloveyou", "matkhau123"} <= words
    assert all(word == word.lower() for word in words)


@pytest.mark.parametrize(("password", "problem"), [
    ("short", "too_short"),
    ("password", "common"),
    ("PassWord1", "common"),
    ("12345678", "common"),
    ("nguyenvana", "username"),
    ("x" * 129, "too_long"),
])
def test_weak_passwords_are_refused_with_a_reason(app, password, problem):
    problems = password_problems(password, "NguyenVanA")
    assert problem in problems
    messages = password_messages(problems)
    assert len(messages) == len(problems) and all(messages)


@pytest.mark.parametrize("password", ["đồng bào vùng cao 2026", "correct-horse-battery",
                                      "ngô lúa sắn khoai!"])
def test_good_passwords_pass(app, password):
    assert password_problems(password, "someone") == []


@pytest.mark.parametrize(("pin", "ok"), [
    ("2580", True), ("73914", True), ("19283746", True),
    ("123", False), ("123456789", False), ("12a4", False), ("٣٤٥٦", False),
    ("1111", False), ("1234", False), ("9876", False),
])
def test_pin_policy(app, pin, ok):
    assert (pin_problem(pin) is None) is ok
