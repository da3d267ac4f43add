"""Province staff screens for the indicator system (placeholder until built out)."""

from flask import Blueprint

from ..accounts.permissions import require
from ..web.htmx import render

bp = Blueprint("indicators", __name__, url_prefix="/indicators")


@bp.route("/")
@require("form.manage")
def index():
    """Indicator system overview."""
    return render("indicators/index.html")
