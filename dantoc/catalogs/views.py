"""Province staff screens for catalogs (placeholder until built out)."""

from flask import Blueprint

from ..accounts.permissions import require
from ..web.htmx import render

bp = Blueprint("catalogs", __name__, url_prefix="/catalogs")


@bp.route("/")
@require("catalog.view")
def index():
    """Catalog overview."""
    return render("catalogs/index.html")
