"""The language switch, available on every page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from ..extensions import db
from .selection import COOKIE, LOCALES

bp = Blueprint("i18n", __name__, url_prefix="/lang")


@bp.route("/<code>", methods=("POST",))
def switch(code: str):
    """Remember the chosen language on this device (cookie) and for the signed-in user."""
    if code not in LOCALES:
        abort(404)
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        target = url_for("web.home")
    response = redirect(target, code=303)
    response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    return response
