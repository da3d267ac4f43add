"""Security headers on every response (ASVS 3.4.x, 14.3.2)."""

from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from ..paths import ROOT

#: The inlined critical CSS is static, so it is allowed by its hash, not 'unsafe-inline'.
CRITICAL_CSS = ROOT / "templates" / "_critical.css"
#: Endpoints whose responses are the same for everyone: they keep their own caching even for
#: a signed-in user (the versioned page bundle is cached for a year; docs/offline.md), and
#: carry no session cookie (see :class:`SessionInterface`).
SHARED = frozenset({"static", "pwa.script", "pwa.service_worker"})
#: The page bundle and the service worker: scripts, never documents, so the headers that only
#: mean something for a document are left off (0.13 KB each on a first visit).
SCRIPTS = frozenset({"pwa.script", "pwa.service_worker"})


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except on :data:`SHARED` responses: they neither renew
    the cookie (about 0.4 KB of headers) nor vary on it, so that the bundle cached for a
    year stays in the HTTP cache whoever signs in and however often the cookie changes (the
    service worker imports it from there: budgets.md §6.2). Those views never change the
    session."""

    def save_session(self, app, session, response) -> None:
        if request.endpoint in SHARED:
            return
        super().save_session(app, session, response)


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


def _security_headers(csp: str, hsts: bool) -> tuple[tuple, tuple]:
    """(the headers of every answer, those of a document only): (name, lower-case name,
    value) each, in the order they are added."""
    every = [("Content-Security-Policy", csp), ("X-Content-Type-Options", "nosniff"),
             ("Referrer-Policy", "same-origin")]
    # framing, opener, features: documents only
    documents = [("X-Frame-Options", "DENY"), ("Cross-Origin-Opener-Policy", "same-origin"),
                 ("Permissions-Policy", "camera=(), microphone=(), geolocation=()")]
    hsts_header = [("Strict-Transport-Security", "max-age=31536000; includeSubDomains")]
    scripts = every + (hsts_header if hsts else [])
    documents = every + documents + (hsts_header if hsts else [])
    return (tuple((name, name.lower(), value) for name, value in scripts),
            tuple((name, name.lower(), value) for name, value in documents))


def _add_headers(response: Response, headers_of: tuple[tuple, tuple]) -> Response:
    headers = response.headers
    response.vary.add("HX-Request")
    if response.status_code == 304:
        # "Not modified": the cache keeps the stored answer with its headers (RFC 9111
        # §4.3.4); repeating them costs about 0.3 KB per check of the bundle or the worker.
        return response
    # Each header unless the view set its own (one pass over the headers, not one per name).
    present = {name.lower() for name, _value in headers.items()}
    for name, lower, value in headers_of[request.endpoint not in SCRIPTS]:
        if lower not in present:
            headers.add(name, value)
    if request.endpoint not in SHARED and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    headers_of = _security_headers(content_security_policy(), bool(app.config.get("HSTS")))
    app.after_request(lambda response: _add_headers(response, headers_of))
