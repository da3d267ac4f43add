"""The audit viewer for administrators: who did what, when, from where."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from .. import clock
from ..accounts.permissions import require
from ..extensions import db
from ..web.htmx import render
from ..web.inputs import page_number
from . import queries
from .forms import AuditFilterForm

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@require("audit.view")
def index():
    """Audit events filtered by actor, action, object and date range, newest first."""
    form = AuditFilterForm(request.args)
    filters = form.data if form.validate() else {}
    page = db.paginate(queries.events(filters, clock.zone()),
                       per_page=current_app.config["PAGE_SIZE"],
                       page=page_number(), error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("audit/index.html", "audit/_rows.html", form=form, results=page, args=args)
