"""Password storage (Argon2id, tuned) and the password and PIN policies."""

import re

import pytest

from dantoc.accounts.passwords import (
    common_passwords,
    hash_password,
    password_messages,
    password_problems,
    pin_problem,
    verify_password,
)


def test_stored_hashes_are_argon2id_with_owasp_parameters():
    stored = hash_password("a long enough passphrase")
    match = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", stored)
    assert match, stored
    memory_kib, time_cost, parallelism = map(int, match.groups())
    assert memory_kib >= 19 * 1024 and time_cost >= 2 and parallelism >= 1
    assert (memory_kib, time_cost, parallelism) == (65536, 3, 4)


def test_verify_accepts_the_right_password_only():
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
