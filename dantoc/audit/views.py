"""The audit viewer for administrators: who did what, when, from where."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, request

from ..accounts.permissions import require
from ..extensions import db
from ..web.htmx import render
from . import queries
from .forms import AuditFilterForm

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@require("audit.view")
def index():
    """Audit events filtered by actor, action, object and date range, newest first."""
    form = AuditFilterForm(request.args)
    filters = form.data if form.validate() else {}
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    page = db.paginate(queries.events(filters, tz), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("audit/index.html", "audit/_rows.html", form=form, results=page, args=args)
