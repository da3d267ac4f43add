"""The home page and health check.

Where a signed-in person starts is a question for the domains (their verbs); the factory
answers it by passing a ``landing(user)`` function to :func:`init_app`, and the public home
page (the document library's) as ``home()``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, redirect, url_for
from flask_login import current_user

from ..extensions import db
from .htmx import render

bp = Blueprint("web", __name__)


@bp.route("/")
def home():
    """Public landing page; staff and village heads go on to their work areas."""
    if current_user.is_authenticated:
        endpoint = current_app.extensions["dantoc.landing"](current_user)
        if endpoint:
            return redirect(url_for(endpoint), code=303)
    home_page = current_app.extensions.get("dantoc.home")
    return home_page() if home_page else render("web/home.html")


@bp.route("/healthz")
def healthz():
    """Liveness and database check for the load balancer."""
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}


def init_app(app: Flask, landing: Callable[[object], str | None],
             home: Callable[[], object] | None = None) -> None:
    """Register the blueprint; ``landing(user)`` names the endpoint a signed-in user starts
    at (None: the public home page); ``home()`` answers the public home page."""
    app.extensions["dantoc.landing"] = landing
    app.extensions["dantoc.home"] = home
    app.register_blueprint(bp)
