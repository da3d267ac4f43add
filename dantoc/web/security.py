"""Security headers on every response (ASVS 3.4.x, 14.3.2)."""

from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response, request
from flask_login import current_user

from .. import ROOT

#: The inlined critical CSS is static, so it is allowed by its hash, not 'unsafe-inline'.
CRITICAL_CSS = ROOT / "templates" / "_critical.css"
#: Endpoints whose responses are the same for everyone: they keep their own caching even for
#: a signed-in user (the versioned page bundle is cached for a year; docs/offline.md).
SHARED = frozenset({"static", "pwa.script", "pwa.service_worker"})


def content_security_policy() -> str:
    css = CRITICAL_CSS.read_text(encoding="utf-8")
    css = css[:-1] if css.endswith("\n") else css  # Jinja drops one trailing newline
    digest = hashlib.sha256(css.encode()).digest()
    style_hash = "'sha256-" + base64.b64encode(digest).decode() + "'"
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src 'self' {style_hash}; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; "
        "worker-src 'self'"
    )


def _add_headers(response: Response, csp: str, hsts: bool) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", csp)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if hsts:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    response.vary.add("HX-Request")
    if request.endpoint not in SHARED and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    hsts = bool(app.config.get("HSTS"))
    csp = content_security_policy()
    app.after_request(lambda response: _add_headers(response, csp, hsts))
