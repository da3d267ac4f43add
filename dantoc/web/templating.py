"""Template globals shared by every domain."""

from __future__ import annotations

from flask import Flask


def current_locale_tag() -> str:
    """The BCP 47 tag of the active locale (``blt-Tavt``, ``hmn-Latn-VN-x-rpa``), for ``lang``."""
    from ..i18n.selection import current_tag

    return current_tag()


def init_app(app: Flask) -> None:
    from ..accounts.permissions import can

    app.jinja_env.globals.update(can=can, current_locale_tag=current_locale_tag)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
