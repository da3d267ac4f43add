"""What the page chrome depends on (:mod:`dantoc.web.kept`): the factory wires the domains'
facts into it, so that ``dantoc.web`` imports none of them.

The top of a page (``web/_chrome_top.html``: the header with the outbox and the navigation,
the storage warnings) and the language switch (``i18n/_switch.html``) vary
with the locale, whether someone is signed in, the verbs of their role (every ``can()`` of
the navigation is asked without an object), whether they belong to a unit, and whether the
page is a shared public one (no CSRF token). They are kept only in the locales whose
interface text comes from files alone (Vietnamese, English): another locale's strings may
be changed in the database at any time.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .accounts.permissions import verbs_of
from .i18n.messages import FILE_ONLY
from .i18n.picker import shared_page
from .i18n.selection import current_tag
from .pwa import services as pwa
from .web.kept import Part

PARTS = {"top": Part("web/_chrome_top.html", ("csrf", "owner", "username")),
         "switch": Part("i18n/_switch.html", ("csrf", "next", "path"))}


def variant() -> tuple | None:
    tag = current_tag()
    if tag not in FILE_ONLY:
        return None
    user = current_user
    signed_in = bool(user.is_authenticated)
    return (tag, signed_in, verbs_of(user), signed_in and bool(user.unit_id),
            shared_page())


def _owner() -> str:
    return pwa.owner_id(current_user) if current_user.is_authenticated else ""


VALUES = {
    "csrf": generate_csrf,
    "owner": _owner,
    "username": lambda: current_user.username if current_user.is_authenticated else "",
    "next": lambda: request.full_path.rstrip("?"),
    "path": lambda: request.path,
}
