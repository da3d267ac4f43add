"""The language picker of the shared public pages: a GET form, so no CSRF token and no session.

The public pages (the home page, the document library, the public statistics) are the same
for every signed-out visitor in a language and are cached publicly with an ETag. A CSRF token
on such a page would open a session, so the answer would carry a ``Set-Cookie`` (a shared
cache must not keep it) and every visit would make a new one. On these pages a signed-out
visitor's picker is therefore ``GET <same page>?locale=tag``: :func:`remember_locale` keeps
the choice in the same cookies as the POST picker (:func:`.views.switch`) and sends the
phone back to the page without the parameter (one redirect, then cacheable pages again).
Signed-in visitors keep the POST picker, which also saves the choice in their profile.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, redirect, request
from flask_login import current_user

from .selection import COOKIE, PICKED, registry

#: The shared public pages, by endpoint (strings, so that no domain is imported here).
SHARED_PAGES = frozenset({
    "web.home", "documents.index", "documents.document", "documents.group",
    "statistics.index", "statistics.release", "statistics.commune"})
#: The picker's query parameter (``?lang=`` is a one-page override, this one is remembered).
PARAMETER = "locale"


def shared_page() -> bool:
    """Whether this answer is a shared public page: signed out, on one of
    :data:`SHARED_PAGES` (the templates then leave out every CSRF token)."""
    return request.endpoint in SHARED_PAGES and not current_user.is_authenticated


def remember_locale():
    """``?locale=tag`` on a shared page: remember the choice on this device and go back to
    the same page without the parameter. An unknown tag changes nothing."""
    if PARAMETER not in request.args or request.method != "GET" or (
            request.endpoint not in SHARED_PAGES):
        return None
    chosen = registry().get(request.args.get(PARAMETER))
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != PARAMETER]
    response = redirect(request.path + ("?" + urlencode(rest) if rest else ""), code=303)
    if chosen is not None:
        response.set_cookie(COOKIE, chosen.tag, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True, secure=request.is_secure)
        if not current_user.is_authenticated:  # carried over to the profile at sign-in
            response.set_cookie(PICKED, chosen.tag, samesite="Lax", httponly=True,
                                secure=request.is_secure)
    return response


def init_app(app: Flask) -> None:
    app.before_request(remember_locale)
    app.jinja_env.globals["shared_page"] = shared_page
