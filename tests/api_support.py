"""Helpers for the API tests: a client with a token, and reading every page of a list."""

from __future__ import annotations

import itertools

from dantoc.api import clients
from dantoc.extensions import db

PROBLEM = "application/problem+json"
_seq = itertools.count(1)


def make_client(role: str = clients.DEFAULT_ROLE, name: str | None = None,
                unit=None) -> tuple:
    """A committed API client (bound to ``unit`` if given) and its ``Authorization``
    header."""
    client, token = clients.create_client(name or f"client-{next(_seq)}", role, unit)
    db.session.commit()
    return client, {"Authorization": f"Bearer {token}"}


def all_pages(http, url: str, headers: dict, limit: int) -> tuple[list, int]:
    """Every item of a list, following ``next`` links; returns (items, pages read)."""
    items, pages, next_url = [], 0, f"{url}{'&' if '?' in url else '?'}limit={limit}"
    while next_url:
        response = http.get(next_url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        assert (body["next"] is None) == (body["next_cursor"] is None)
        next_url = body["next"]
    return items, pages
