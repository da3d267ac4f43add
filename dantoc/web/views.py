"""The home page and health check."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from ..accounts.permissions import can
from ..extensions import db
from .htmx import render

bp = Blueprint("web", __name__)


@bp.route("/")
def home():
    """Public landing page; staff see their work areas."""
    if current_user.is_authenticated and can(current_user, "catalog.view"):
        return redirect(url_for("catalogs.index"), code=303)
    if current_user.is_authenticated and can(current_user, "submission.create"):
        return redirect(url_for("submissions.index"), code=303)
    return render("web/home.html")


@bp.route("/healthz")
def healthz():
    """Liveness and database check for the load balancer."""
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
