"""Web app manifest served from the site root."""

from __future__ import annotations

from flask import Blueprint, jsonify, url_for
from flask_babel import gettext as _

from ..i18n.selection import current_tag

bp = Blueprint("pwa", __name__)


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest: Vietnamese name, icons, standalone display."""
    response = jsonify(
        name=_("Ethnic affairs information system"),
        short_name=_("Ethnic affairs"),
        lang=current_tag(),
        start_url=url_for("web.home"),
        scope="/",
        display="standalone",
        background_color="#ffffff",
        theme_color="#8b1a1a",
        icons=[{"src": url_for("static", filename="icons/icon.svg"), "sizes": "any",
                "type": "image/svg+xml", "purpose": "any maskable"}],
    )
    response.mimetype = "application/manifest+json"
    response.cache_control.max_age = 86400
    return response
