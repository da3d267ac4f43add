"""Error pages: a page, a fragment or JSON, chosen by the kind of request.

Messages are generic and localised; nothing about the internals leaks (ASVS 16.5.1).
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .htmx import wants_fragment


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you entered."),
        403: _("You do not have permission to do this."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        409: _("Someone else changed this in the meantime. Reload and try again."),
        413: _("What you sent is too large."),
        429: _("Too many attempts. Please wait a little and try again."),
        500: _("Something went wrong on our side. Nothing was saved; please try again."),
    }


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or best == "application/json"


def render_error(code: int, message: str | None = None):
    """Render an error for the current request kind with status ``code``."""
    message = message or _messages().get(code, _messages()[500])
    if _wants_json():
        return jsonify(error={"code": code, "message": message}), code
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        message = _("Your form expired. Please reload the page and try again.")
        if _wants_json():  # a stable code: the phone's outbox renews its token and resends
            return jsonify(error={"code": "csrf", "message": message}), 400
        return render_error(400, message)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        from ..extensions import db

        db.session.rollback()
        app.logger.exception("unhandled error", exc_info=error)
        return render_error(InternalServerError.code)
