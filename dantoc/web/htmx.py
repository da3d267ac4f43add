"""The one place that decides between a full page and an HTMX fragment.

A request gets a fragment only when htmx asked for one for an in-page swap: not for a
boosted navigation and not for a history restore, which both need the whole page.
``security.init_app`` adds ``Vary: HX-Request`` to every response so caches keep the two
apart.
"""

from __future__ import annotations

from flask import render_template, request


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
