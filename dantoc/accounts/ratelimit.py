"""Throttling of sign-in, PIN unlock and activation (Flask-Limiter; ASVS 6.1.1 / 6.3.1).

Only *failed* attempts count (``deduct_when``), and a limit only ever delays: every window
slides, so nobody is locked out for good. A browser that has signed in to an account before
holds a signed "known browser" cookie for it (the OWASP device-cookie pattern), and is
counted separately from everyone else: an attacker hammering an account does not stop its
real owner from signing in. Storage: memory by default, Redis (or any ``limits`` storage)
through ``DANTOC_RATELIMIT_STORAGE_URI`` when several processes or servers share the load.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer

from .passwords import sha256

limiter = Limiter(key_func=get_remote_address)

DEFAULTS = {
    "RATELIMIT_STORAGE_URI": os.environ.get("DANTOC_RATELIMIT_STORAGE_URI", "memory://"),
    "RATELIMIT_STRATEGY": "moving-window",
    "RATELIMIT_HEADERS_ENABLED": True,
    "LOGIN_LIMIT_ACCOUNT": "10 per 15 minutes",
    "LOGIN_LIMIT_KNOWN_BROWSER": "10 per 15 minutes",
    "LOGIN_LIMIT_IP": "50 per 15 minutes",
    "PIN_LIMIT_DEVICE": "5 per 15 minutes",
    "PIN_LIMIT_USER": "5 per 15 minutes",
    "PIN_LIMIT_IP": "30 per 15 minutes",
    "ACTIVATION_LIMIT_IP": "10 per 15 minutes",
}
KNOWN_COOKIE_DAYS = 365


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    limiter.enabled = bool(app.config.get("RATELIMIT_ENABLED", True))
    app.config["RATELIMIT_ENABLED"] = limiter.enabled
    limiter.init_app(app)


def setting(name: str):
    """A limit string read from the configuration at request time."""
    return lambda: current_app.config[name]


def failed(_response) -> bool:
    """Deduct only when the view marked the attempt as failed."""
    return bool(g.get("auth_failed"))


def mark_failed() -> None:
    g.auth_failed = True


# -- sign-in keys ---------------------------------------------------------------------------

def _submitted_username() -> str:
    return request.form.get("username", "").strip().lower()[:60]


def account_key() -> str:
    return "account:" + sha256(_submitted_username())


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
    return f"known:{data.get('n')}"


def is_known_browser() -> bool:
    return known_browser_key() is not None


def is_unknown_browser() -> bool:
    return known_browser_key() is None


def known_cookie_value(username: str) -> str:
    return _serializer().dumps({"u": username, "n": secrets.token_hex(8)})


def set_known_cookie(response, username: str) -> None:
    """Remember that this browser signed in to ``username`` (for throttling only)."""
    response.set_cookie(known_cookie_name(), known_cookie_value(username),
                        max_age=KNOWN_COOKIE_DAYS * 86400, path="/", httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get(
                            "SESSION_COOKIE_SECURE")))


LOGIN_LIMITS = (
    limiter.limit(setting("LOGIN_LIMIT_ACCOUNT"), key_func=account_key, methods=["POST"],
                  deduct_when=failed, exempt_when=is_known_browser, scope="login-account"),
    limiter.limit(setting("LOGIN_LIMIT_KNOWN_BROWSER"), key_func=lambda: known_browser_key(),
                  methods=["POST"], deduct_when=failed, exempt_when=is_unknown_browser,
                  scope="login-known"),
    limiter.limit(setting("LOGIN_LIMIT_IP"), methods=["POST"], deduct_when=failed,
                  scope="login-ip"),
)


def limit_login(view):
    for limit in LOGIN_LIMITS:
        view = limit(view)
    return view


# -- PIN and activation keys ----------------------------------------------------------------

def _device_token() -> str:
    from .devices import device_cookie_name

    return request.cookies.get(device_cookie_name(), "")


def device_key() -> str:
    return "device:" + sha256(_device_token())


def device_user_key() -> str:
    """The user whose device this is: limits that user's PIN attempts on all their phones."""
    from .devices import device_for_token

    if "_pin_user_key" not in g:
        device = device_for_token(_device_token())
        g._pin_user_key = f"user:{device.user_id}" if device else "user:none"
    return g._pin_user_key


PIN_LIMITS = (
    limiter.limit(setting("PIN_LIMIT_DEVICE"), key_func=device_key, methods=["POST"],
                  deduct_when=failed, scope="pin-device"),
    limiter.limit(setting("PIN_LIMIT_USER"), key_func=device_user_key, methods=["POST"],
                  deduct_when=failed, scope="pin-user"),
    limiter.limit(setting("PIN_LIMIT_IP"), methods=["POST"], deduct_when=failed,
                  scope="pin-ip"),
)


def limit_pin(view):
    for limit in PIN_LIMITS:
        view = limit(view)
    return view


limit_activation = limiter.limit(setting("ACTIVATION_LIMIT_IP"), methods=["POST"],
                                 deduct_when=failed, scope="activation-ip")
