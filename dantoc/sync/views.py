"""The sync screen: per list pulled from the centre and for the reports pushed up, the last
success, the counts of the last pass and the last error in words."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app

from ..accounts.permissions import require
from ..extensions import db
from ..reports.models import UnitReport
from ..web.htmx import render
from . import status
from .models import PULL, PUSH
from .pull import RESOURCES
from .push import RESOURCE as PUSHED

bp = Blueprint("sync", __name__, url_prefix="/sync")


@bp.route("/")
@require("sync.run")
def index():
    """One block per peer (the configured one first), one line per list and direction."""
    rows = status.all_statuses()
    known = {(s.peer, s.direction, s.resource): s for s in rows}
    # the report a push stopped at, named by its form, unit and period (not by codes)
    ids = {s.error_params.get("report_id") for s in rows if s.error_params} - {None}
    reports = {r.id: r for r in db.session.scalars(
        sa.select(UnitReport).where(UnitReport.id.in_(ids)))} if ids else {}
    configured = (current_app.config.get("SYNC_PEER") or "").rstrip("/")
    peers = ([configured] if configured else []) + sorted(
        {peer for peer, _d, _r in known} - {configured})
    blocks = [(peer, [(PULL, r, known.get((peer, PULL, r))) for r in RESOURCES]
               + [(PUSH, PUSHED, known.get((peer, PUSH, PUSHED)))]) for peer in peers]
    return render("sync/index.html", "sync/_status.html", blocks=blocks,
                  configured=configured, reports=reports)
