"""Throttling of sign-in, PIN unlock and activation (ASVS 6.1.1 / 6.3.1), shared by every
worker process and every app server.

Only *failed* attempts count, and every window slides, so nobody is locked out for good. The
count lives where all workers see it: a table in the application's database by default
(``throttle_attempts``; the quick start needs nothing else), or Redis when
``DANTOC_RATELIMIT_STORAGE_URI`` is a ``redis://`` URL. Restarting or recycling workers
changes nothing.

The limits are exact under concurrency: before a password, PIN or code is evaluated, the
request *reserves* one attempt under each of its keys, atomically and only if every key is
under its limit (PostgreSQL: an advisory lock per key; SQLite: the write lock every POST takes
first; Redis: one Lua script). A request that turns out not to be a failure (a correct
password, an invalid form that evaluated nothing) gives its reservation back. So with a limit
of 10, parallel guesses on many workers and servers still get at most 10 evaluations.

A browser that has signed in to an account holds a signed "known browser" cookie for it (the
OWASP device-cookie pattern): it is counted on its own, not with everyone else guessing that
account, and the per-address limit does not apply to it, so neither an attacker hammering an
account nor the mistakes of other phones behind the same carrier NAT address lock its owner
out. An enrolled phone's PIN is limited per device and per user, not per address.

If the store cannot be reached, throttled requests are refused (fail closed: 503
``throttle_unavailable``, with a message saying to try again in a few minutes) and the error is
logged: an unthrottled sign-in would be worse than a short outage of sign-in.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app, g, make_response, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from . import sessions
from .models import ThrottleAttempt
from .passwords import sha256

log = logging.getLogger(__name__)

#: The limits, each overridable by the environment variable ``DANTOC_<name>``.
LIMITS = {
    "LOGIN_LIMIT_ACCOUNT": "10 per 15 minutes",
    "LOGIN_LIMIT_KNOWN_BROWSER": "10 per 15 minutes",
    "LOGIN_LIMIT_IP": "50 per 15 minutes",
    "PIN_LIMIT_DEVICE": "5 per 15 minutes",
    "PIN_LIMIT_USER": "5 per 15 minutes",
    "ACTIVATION_LIMIT_IP": "10 per 15 minutes",
}


def defaults() -> dict[str, str]:
    """The throttle's settings from the environment, read when an application is built (as
    dantoc.config reads the others), not when this module is imported: a process that
    imported it before its environment was set (a fork server's child) still gets its own."""
    return {
        # "database" (the default): the throttle_attempts table; or a redis:// URL.
        "RATELIMIT_STORAGE_URI": os.environ.get("DANTOC_RATELIMIT_STORAGE_URI") or "database",
        # Redis only: the prefix of the keys (several sites, or test runs, on one Redis).
        "RATELIMIT_KEY_PREFIX": (os.environ.get("DANTOC_RATELIMIT_KEY_PREFIX")
                                 or "dantoc:throttle:"),
        **{name: os.environ.get(f"DANTOC_{name}") or limit for name, limit in LIMITS.items()},
    }


KNOWN_COOKIE_DAYS = 365
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$")


def parse_limit(text: str) -> tuple[int, float]:
    """``"10 per 15 minutes"`` → (10, 900.0)."""
    match = _LIMIT.match(text)
    if not match:
        raise ValueError(f"not a limit: {text!r} (write e.g. '10 per 15 minutes')")
    count, amount, unit = match.groups()
    return int(count), float(int(amount or 1) * _UNITS[unit])


class StoreUnavailable(Exception):
    """The throttle's store did not answer."""


@dataclass(frozen=True)
class Refused:
    retry_after: float


# -- stores ---------------------------------------------------------------------------------

class DatabaseStore:
    """Attempts as rows of ``throttle_attempts``, in the request's own session (committed
    before the password is checked)."""

    def reserve(self, checks: list[tuple[str, int, float]], now: float):
        try:
            if db.session.get_bind().dialect.name == "postgresql":
                for key in sorted(key for key, _count, _window in checks):
                    db.session.execute(sa.text(
                        "SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                        {"key": "throttle:" + key})
            for key, limit, window in checks:
                db.session.execute(sa.delete(ThrottleAttempt).where(
                    ThrottleAttempt.key == key, ThrottleAttempt.at <= now - window))
                count, oldest = db.session.execute(sa.select(
                    sa.func.count(), sa.func.min(ThrottleAttempt.at)).where(
                    ThrottleAttempt.key == key)).one()
                if count >= limit:
                    db.session.commit()  # the clean-up above
                    return Refused(max(1.0, oldest + window - now))
            rows = [ThrottleAttempt(key=key, at=now) for key, _limit, _window in checks]
            db.session.add_all(rows)
            db.session.flush()
            ids = [row.id for row in rows]
            db.session.commit()
            return ids
        except SQLAlchemyError as error:
            db.session.rollback()
            raise StoreUnavailable(str(error)) from error

    def release(self, reservation) -> None:
        try:
            db.session.execute(sa.delete(ThrottleAttempt).where(
                ThrottleAttempt.id.in_(reservation)))
            db.session.commit()
        except SQLAlchemyError as error:
            db.session.rollback()
            raise StoreUnavailable(str(error)) from error


#: KEYS: the throttle keys. ARGV: now, member, then limit and window of each key.
_RESERVE = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[1 + 2 * i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return tostring(tonumber(oldest[2]) + window - now)
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[2 + 2 * i])) + 1)
end
return false
"""


class RedisStore:
    """Attempts as members of one sorted set per key (score: the time), checked and added
    by one Lua script, so the check and the reservation are one atomic step."""

    def __init__(self, url: str, prefix: str):
        import redis

        self.prefix = prefix
        self.errors = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(_RESERVE)

    def reserve(self, checks: list[tuple[str, int, float]], now: float):
        member = uuid.uuid4().hex
        keys = [self.prefix + key for key, _limit, _window in checks]
        argv = [now, member]
        for _key, limit, window in checks:
            argv += [limit, window]
        try:
            refused = self.script(keys=keys, args=argv)
        except self.errors as error:
            raise StoreUnavailable(str(error)) from error
        if refused:
            return Refused(max(1.0, float(refused)))
        return keys, member

    def release(self, reservation) -> None:
        keys, member = reservation
        try:
            with self.client.pipeline() as pipe:
                for key in keys:
                    pipe.zrem(key, member)
                pipe.execute()
        except self.errors as error:
            raise StoreUnavailable(str(error)) from error


def store():
    """The app's throttle store (made once per app)."""
    found = current_app.extensions.get("dantoc_throttle")
    if found is None:
        uri = current_app.config["RATELIMIT_STORAGE_URI"] or "database"
        if uri.startswith(("redis://", "rediss://", "unix://")):
            found = RedisStore(uri, current_app.config["RATELIMIT_KEY_PREFIX"])
        elif uri == "database":
            found = DatabaseStore()
        else:
            raise ValueError(f"DANTOC_RATELIMIT_STORAGE_URI: unknown store {uri!r} "
                             "(use 'database' or a redis:// URL)")
        current_app.extensions["dantoc_throttle"] = found
    return found


def init_app(app: Flask) -> None:
    for key, value in defaults().items():
        app.config.setdefault(key, value)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    for key in LIMITS:
        parse_limit(app.config[key])  # a typo fails at start, not at the first sign-in


# -- the decorator --------------------------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    """A limit on failed attempts: ``setting`` names its configuration (``"10 per 15
    minutes"``); ``key`` gives this request's key, or None when the limit does not apply."""

    scope: str
    setting: str
    key: Callable[[], str | None]


def mark_failed() -> None:
    """The view evaluated the secret and it was wrong: the reserved attempt stays counted."""
    g.auth_failed = True


def _refuse_throttled(retry_after: float):
    from ..web.errors import refuse

    response = make_response(refuse("too_many_requests"))
    response.headers["Retry-After"] = str(int(retry_after + 0.999))
    return response


def throttled(*limits: Limit):
    """Limit the failed POSTs of a view (see the module docstring)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if request.method != "POST" or not current_app.config.get("RATELIMIT_ENABLED"):
                return view(*args, **kwargs)
            checks = []
            for limit in limits:
                key = limit.key()
                if key is not None:
                    count, window = parse_limit(current_app.config[limit.setting])
                    checks.append((f"{limit.scope}:{key}", count, window))
            the_store = store()
            try:
                reservation = the_store.reserve(checks, sessions.now())
            except StoreUnavailable as error:
                log.error("throttle store unreachable, %s refused: %s", request.path, error)
                from ..web.errors import refuse

                return refuse("throttle_unavailable")
            if isinstance(reservation, Refused):
                return _refuse_throttled(reservation.retry_after)
            g.auth_failed = False
            failed = False
            try:
                response = view(*args, **kwargs)
                failed = bool(g.get("auth_failed"))
                return response
            finally:
                if not failed:
                    try:
                        the_store.release(reservation)
                    except StoreUnavailable as error:  # the attempt stays counted
                        log.error("throttle store unreachable at release: %s", error)

        return wrapper

    return decorate


def rate_check(limit: Limit):
    """A budget of *requests* (not of failures), e.g. an API client's: every request that
    gets through counts. None to go on, or the refusal (429, or 503 when the store is
    unreachable: fail closed)."""
    if not current_app.config.get("RATELIMIT_ENABLED"):
        return None
    key = limit.key()
    if key is None:
        return None
    count, window = parse_limit(current_app.config[limit.setting])
    try:
        reservation = store().reserve([(f"{limit.scope}:{key}", count, window)],
                                      sessions.now())
    except StoreUnavailable as error:
        log.error("throttle store unreachable, %s refused: %s", request.path, error)
        from ..web.errors import refuse

        return make_response(refuse("throttle_unavailable"))
    if isinstance(reservation, Refused):
        return _refuse_throttled(reservation.retry_after)
    return None


# -- sign-in keys ---------------------------------------------------------------------------

def _submitted_username() -> str:
    return request.form.get("username", "").strip().lower()[:60]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="dantoc.known-browser")


def known_cookie_name() -> str:
    return "__Host-known" if current_app.config.get("SESSION_COOKIE_SECURE") else "known"


def known_browser_key() -> str | None:
    """The key of this browser for the submitted account when it signed in to it before."""
    raw = request.cookies.get(known_cookie_name())
    if not raw:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != _submitted_username():
        return None
    return str(data.get("n"))[:32]


def known_cookie_value(username: str) -> str:
    return _serializer().dumps({"u": username, "n": secrets.token_hex(8)})


def set_known_cookie(response, username: str) -> None:
    """Remember that this browser signed in to ``username`` (for throttling only)."""
    response.set_cookie(known_cookie_name(), known_cookie_value(username),
                        max_age=KNOWN_COOKIE_DAYS * 86400, path="/", httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get(
                            "SESSION_COOKIE_SECURE")))


def _unknown_browser_account() -> str | None:
    return None if known_browser_key() else sha256(_submitted_username())


def _unknown_browser_address() -> str | None:
    return None if known_browser_key() else (request.remote_addr or "unknown")


limit_login = throttled(
    Limit("login-account", "LOGIN_LIMIT_ACCOUNT", _unknown_browser_account),
    Limit("login-known", "LOGIN_LIMIT_KNOWN_BROWSER", known_browser_key),
    Limit("login-ip", "LOGIN_LIMIT_IP", _unknown_browser_address),
)


# -- PIN and activation keys ----------------------------------------------------------------

def _device_token() -> str:
    from .devices import device_cookie_name

    return request.cookies.get(device_cookie_name(), "")


def device_key() -> str:
    return sha256(_device_token())


def device_user_key() -> str:
    """The user whose device this is: limits that user's PIN attempts on all their phones."""
    from .devices import device_for_token

    device = device_for_token(_device_token())
    return str(device.user_id) if device else "none"


limit_pin = throttled(
    Limit("pin-device", "PIN_LIMIT_DEVICE", device_key),
    Limit("pin-user", "PIN_LIMIT_USER", device_user_key),
)
limit_activation = throttled(
    Limit("activation-ip", "ACTIVATION_LIMIT_IP", lambda: request.remote_addr or "unknown"))
