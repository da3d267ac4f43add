"""Password and PIN hashing with Argon2id, and the password and PIN policies.

Hashing: argon2-cffi's RFC 9106 low-memory profile (Argon2id, m=64 MiB, t=3, p=4), above the
OWASP minimum (m=19 MiB, t=2, p=1). Policy: ASVS 5.0 6.2.1 (≥ 8 characters, 15 recommended),
6.2.4 (not among the most common passwords), not the username.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from itertools import pairwise

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

_hasher = PasswordHasher()
#: Verified against when the username is unknown, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("dantoc-dummy-password")

MIN_LENGTH = 8
RECOMMENDED_LENGTH = 15
MAX_LENGTH = 128
PIN_MIN, PIN_MAX = 4, 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def sha256(secret: str) -> str:
    """The stored form of a high-entropy random secret (device token, activation code)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (see the header of the data file)."""
    text = (resources.files(__package__) / "data" / "common_passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def password_problems(password: str, username: str = "") -> list[str]:
    """Why ``password`` is refused, as codes (empty when it is acceptable):
    ``too_short``, ``too_long``, ``common``, ``username``."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append("too_short")
    if len(password) > MAX_LENGTH:
        problems.append("too_long")
    if password.lower() in common_passwords():
        problems.append("common")
    if username and password.strip().lower() == username.strip().lower():
        problems.append("username")
    return problems


def password_messages(problems: list[str]) -> list[str]:
    """The localized explanation of each problem code."""
    messages = {
        "too_short": _l("Use at least %(n)d characters (%(r)d or more is better).",
                        n=MIN_LENGTH, r=RECOMMENDED_LENGTH),
        "too_long": _l("Use at most %(n)d characters.", n=MAX_LENGTH),
        "common": _l("This password is too common. Choose another one; a short sentence "
                     "is easy to remember."),
        "username": _l("The password must not be the username."),
    }
    return [str(messages[problem]) for problem in problems]


def _is_sequence(digits: str) -> bool:
    steps = {int(b) - int(a) for a, b in pairwise(digits)}
    return steps in ({0}, {1}, {-1})


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` is refused, localized: 4–8 digits, not one digit or a run like 1234."""
    if not pin.isascii() or not pin.isdigit() or not PIN_MIN <= len(pin) <= PIN_MAX:
        return str(_l("The PIN must be %(a)d to %(b)d digits.", a=PIN_MIN, b=PIN_MAX))
    if _is_sequence(pin):
        return str(_l("This PIN is too easy to guess (like 1111 or 1234). Choose another."))
    return None
