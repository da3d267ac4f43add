"""Password and PIN hashing with Argon2id, and the password and PIN policies.

Hashing: by default argon2-cffi's RFC 9106 low-memory profile (Argon2id, m=64 MiB, t=3, p=4),
above the OWASP minimum (m=19 MiB, t=2, p=1). The parameters come from the configuration
(``ARGON2_MEMORY_KIB``, ``ARGON2_TIME_COST``, ``ARGON2_PARALLELISM``) so that the tests can
hash cheaply; :func:`dantoc.config.check` refuses anything below the OWASP minimum outside
development and testing, and a hash whose parameters differ from the configured ones is
rehashed at the next successful check (:func:`needs_rehash`), so a cheap hash never stays.
Policy: ASVS 5.0 6.2.1 (≥ 8 characters, 15 recommended), 6.2.4 (not among the most common
passwords), not the username.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 8
RECOMMENDED_LENGTH = 15
MAX_LENGTH = 128
PIN_MIN, PIN_MAX = 4, 8


class Argon2Cost(NamedTuple):
    """The Argon2id cost parameters (the configuration keys are ``ARGON2_<FIELD>``)."""

    memory_kib: int
    time_cost: int
    parallelism: int

    @classmethod
    def from_config(cls, config) -> Argon2Cost:
        return cls(*(int(config.get(key, default))
                     for key, default in PRODUCTION_COST.as_config().items()))

    def as_config(self) -> dict[str, int]:
        """``{"ARGON2_MEMORY_KIB": …, "ARGON2_TIME_COST": …, "ARGON2_PARALLELISM": …}``"""
        return {f"ARGON2_{field.upper()}": value for field, value in self._asdict().items()}

    def weaker_than(self, floor: Argon2Cost) -> bool:
        """Whether any parameter is below ``floor``'s."""
        return any(mine < least for mine, least in zip(self, floor, strict=True))


#: The production default: RFC 9106's second recommended (low-memory) option.
PRODUCTION_COST = Argon2Cost(memory_kib=65536, time_cost=3, parallelism=4)
#: OWASP's minimum for Argon2id; only development and testing may configure less.
OWASP_MINIMUM = Argon2Cost(memory_kib=19456, time_cost=2, parallelism=1)


@cache
def _hasher(cost: Argon2Cost) -> PasswordHasher:
    return PasswordHasher(memory_cost=cost.memory_kib, time_cost=cost.time_cost,
                          parallelism=cost.parallelism)


@cache
def _dummy_hash(cost: Argon2Cost) -> str:
    """Verified against when the username is unknown, so timing does not reveal it."""
    return _hasher(cost).hash("dantoc-dummy-password")


def configured_cost() -> Argon2Cost:
    """The current app's configured cost (the production cost outside an app)."""
    return Argon2Cost.from_config(current_app.config) if has_app_context() else PRODUCTION_COST


def hash_password(password: str, cost: Argon2Cost | None = None) -> str:
    """Hash with ``cost``, by default the configured one."""
    return _hasher(cost or configured_cost()).hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    cost = configured_cost()
    try:
        return _hasher(cost).verify(password_hash or _dummy_hash(cost), password) \
            and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash that just verified was made with other parameters than the configured
    ones (a cheaper or older setting): the caller stores a new hash of the same secret."""
    return _hasher(configured_cost()).check_needs_rehash(password_hash)


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
