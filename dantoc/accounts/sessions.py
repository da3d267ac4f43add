"""Server-revocable sessions (ASVS 7.x).

Flask's session is a signed cookie, so the server cannot delete it. Instead each session
carries the user's ``session_nonce`` (and, on a phone, its device id); changing the nonce
(logout, password change, disabling) or revoking the device makes every copy of the cookie
load nobody. Sign-in time and last activity travel in the session too, and are checked on
every request against the idle and absolute timeouts.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user

from .. import clock
from ..config import _env_int
from ..extensions import db, login_manager
from ..web.errors import problem_json
from ..web.htmx import wants_json
from .models import Device, RoleVerb, User
from .permissions import log_other_denials, remember_verbs

#: Seconds between two writes of the last-seen time (fewer Set-Cookie headers).
TOUCH_EVERY = 60


def defaults() -> dict:
    return {
        "SESSION_IDLE_MINUTES": _env_int("SESSION_IDLE_MINUTES", 30),
        "DEVICE_IDLE_MINUTES": _env_int("DEVICE_IDLE_MINUTES", 60),
        "DEVICE_DAYS": _env_int("DEVICE_DAYS", 180),
        "ACTIVATION_HOURS": _env_int("ACTIVATION_HOURS", 72),
        "PIN_MAX_FAILURES": _env_int("PIN_MAX_FAILURES", 10),
    }


def now() -> float:
    """Seconds since the epoch, as the session cookie stores them (tests move this)."""
    return clock.now().timestamp()


def start(user: User, device: Device | None = None) -> None:
    """Begin a fresh session for ``user`` (new session id: no fixation)."""
    session.clear()
    login_user(user)
    session.permanent = True
    session["auth_at"] = session["seen_at"] = int(now())
    if device is not None:
        session["device_id"] = device.id


def _expired() -> bool:
    config = current_app.config
    idle_key = "DEVICE_IDLE_MINUTES" if session.get("device_id") else "SESSION_IDLE_MINUTES"
    absolute = config["PERMANENT_SESSION_LIFETIME"]
    absolute = absolute.total_seconds() if isinstance(absolute, timedelta) else absolute
    auth_at, seen_at, moment = session.get("auth_at"), session.get("seen_at"), now()
    if not isinstance(auth_at, int) or not isinstance(seen_at, int):
        return True
    return moment - seen_at > config[idle_key] * 60 or moment - auth_at > absolute


def _device_ok(user: User) -> bool:
    device_id = session.get("device_id")
    if device_id is None:
        return True
    device = db.session.get(Device, device_id)
    return device is not None and device.user_id == user.id and device.active


@cache
def _user_with_verbs() -> sa.Select:
    """The user with the verbs of their role, which every page asks for: one statement
    (built once; its expressions cost more to build than it costs to run)."""
    return (sa.select(User, RoleVerb.verb)
            .outerjoin(RoleVerb, RoleVerb.role_code == User.role_code)
            .where(User.id == sa.bindparam("pk")))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the user of a session; a stale nonce, a revoked device or a timed-out session
    loads nobody."""
    pk, _sep, nonce = user_id.partition(":")
    if not pk.isdigit():
        return None
    rows = db.session.execute(_user_with_verbs(), {"pk": int(pk)}).all()
    user = rows[0][0] if rows else None
    if user is None or not nonce or user.session_nonce != nonce or not user.active:
        return None
    remember_verbs(user.role_code, (verb for _user, verb in rows if verb is not None))
    if _expired() or not _device_ok(user):
        g.session_expired = True
        session.clear()
        return None
    if now() - session["seen_at"] >= TOUCH_EVERY:
        session["seen_at"] = int(now())
    return user


def _unauthorized():
    """Signed out (or timed out): the sign-in page, an HX-Redirect for htmx, or a 401
    problem (``signed_out``) for a JSON client."""
    if g.get("session_expired"):
        flash(_("Your session has expired. Please sign in again."))
    target = url_for("accounts.login", next=request.full_path.rstrip("?")
                     if request.method == "GET" else None)
    if wants_json():
        return problem_json("signed_out")
    if request.htmx:
        response = current_app.make_response(("", 401))
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def init_app(app: Flask) -> None:
    for key, value in defaults().items():
        app.config.setdefault(key, value)
    login_manager.unauthorized_handler(_unauthorized)
    app.after_request(log_other_denials)
