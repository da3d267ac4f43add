"""The installable offline app: manifest, page bundle, service worker, offline page, the
session state the outbox needs, and the outbox list (docs/offline.md)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from ..accounts.permissions import public, signed_in
from ..i18n.selection import current_tag
from ..paths import ROOT
from ..web.errors import problem_json
from ..web.htmx import render
from . import assets, services

bp = Blueprint("pwa", __name__)
#: A year: the bundle's URL changes with its content, so a cached copy is never stale.
IMMUTABLE = "public, max-age=31536000, immutable"


@bp.route("/manifest.webmanifest")
@public
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
        # Inlined, as in the pages: the browser reads the icon without a request.
        icons=[{"src": str(icon_data_uri()), "sizes": "any", "type": "image/svg+xml",
                "purpose": "any maskable"}],
    )
    response.mimetype = "application/manifest+json"
    response.cache_control.max_age = 86400
    response.headers["Content-Security-Policy"] = "default-src 'none'"  # data, not a document
    return response


def _javascript(asset: assets.Asset, cache_control: str, policy: str) -> Response:
    """Serve a script pre-compressed (Brotli 11, else gzip 9, else plain), with its content
    security policy (not on a 304: the cached answer keeps its own)."""
    body, encoding = asset.encoded(request.accept_encodings)
    response = Response(body, mimetype="text/javascript")
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = cache_control
    # A browser checking its worker for an update gets a 304 when nothing changed.
    response.set_etag(f"{asset.digest}-{encoding or 'identity'}")
    response.make_conditional(request)
    if response.status_code != 304:
        response.headers["Content-Security-Policy"] = policy
    return response


@bp.app_template_global()
def script_url() -> str:
    """The bundle's URL, versioned by its content (a template global)."""
    return url_for("pwa.script", v=assets.bundle().digest)


@bp.route("/app.js")
@public
def script():
    """The page bundle: htmx, the outbox and the page code; cached for a year when the URL
    names the current version."""
    asset = assets.bundle()
    fresh = request.args.get("v") == asset.digest
    # A script needs no document policy; a short one saves bytes on every first visit.
    return _javascript(asset, IMMUTABLE if fresh else "no-cache", "default-src 'none'")


def _version_extra() -> str:
    path = current_app.config.get("SW_VERSION_FILE")
    try:
        return Path(path).read_text("utf-8") if path else ""
    except OSError:
        return ""


@bp.route("/sw.js")
@public
def service_worker():
    """The service worker, or the kill switch's self-removing worker. Never cached by HTTP
    caches (browsers check it on every navigation anyway); allowed the whole site."""
    if current_app.config.get("SW_KILL_SWITCH"):
        asset = assets.kill_switch()
    else:
        asset = assets.worker(script_url(), _version_extra())
    # The worker's own policy: its fetches and caches are same-origin only.
    response = _javascript(asset, "no-cache", "default-src 'self'")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/offline")
@public
def offline():
    """The page shown for a page not kept on this phone while offline: no user data, so the
    worker may precache it for everyone."""
    return render_template("pwa/offline.html")


@bp.route("/session/state")
def session_state():
    """What the outbox needs before sending: who is signed in (the owner id its items are
    bound to), a fresh CSRF token and the user's outbox key. Signed out: 401, not a
    redirect, so a script can tell. Declared signed-in in tests/authz_routes.toml."""
    if not current_user.is_authenticated:
        return problem_json("signed_out")
    key = services.outbox_key(current_user)
    response = jsonify(user=services.owner_id(current_user), csrf=generate_csrf(), key=key)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/outbox")
@signed_in
def outbox():
    """What waits on this phone: the list is drawn by the page script from IndexedDB."""
    return render("pwa/outbox.html")


@bp.app_template_global()
def worker_url() -> str | None:
    """The worker the page registers; None with the kill switch on (the kill-switch worker
    unregisters itself and reloads the page, which must then not register it again)."""
    return None if current_app.config.get("SW_KILL_SWITCH") else url_for("pwa.service_worker")


@bp.app_template_global()
def owner_meta() -> str:
    """The signed-in user's owner id for the page (a template global), else ''."""
    return services.owner_id(current_user) if current_user.is_authenticated else ""


@bp.app_template_global()
@cache
def icon_data_uri() -> str:
    """The favicon inlined as a data: URL (CSP img-src allows data:): one request fewer on a
    first visit, for a few hundred bytes of the page (budgets.md §6)."""
    svg = (ROOT / "static" / "icons" / "icon.svg").read_text("utf-8").strip().replace('"', "'")
    # Safe in a double-quoted attribute: quote() leaves no '"', '<' or '&'.
    return Markup("data:image/svg+xml," + quote(svg, safe="/:=',."))  # noqa: S704
