"""The one place that decides what kind of answer a request gets: JSON, a fragment or a page.

A request gets JSON when its path is under ``/api/`` or its ``Accept`` header prefers JSON
to HTML explicitly; ``Accept: */*`` (a browser's fetch, curl) gets HTML. It gets a fragment
only when htmx asked for one for an in-page swap: not for a boosted navigation and not for
a history restore, which both need the whole page. ``security.init_app`` adds
``Vary: HX-Request`` to every response so caches keep the two apart.
"""

from __future__ import annotations

from flask import render_template, request

#: What a JSON client may ask for; HTML comes first, so a tie (``*/*``) goes to HTML.
OFFERED = ("text/html", "application/json", "application/problem+json")


def wants_json() -> bool:
    """True when the answer should be JSON rather than HTML."""
    if request.path.startswith("/api/"):
        return True
    return request.accept_mimetypes.best_match(OFFERED, default="text/html") != "text/html"


def wants_fragment() -> bool:
    """True when the response should be a fragment rather than a full page."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(page: str, fragment: str | None = None, **context) -> str:
    """Render ``fragment`` for in-page HTMX swaps, else the full ``page``.

    The page template includes the fragment, so the markup has a single source.
    """
    if fragment and wants_fragment():
        return render_template(fragment, **context)
    return render_template(page, **context)
