"""Template globals and filters of the i18n domain."""

from __future__ import annotations

from typing import NamedTuple

from flask import Flask, url_for

from . import content, formatting
from .locales import FONTS
from .selection import current_locale, current_tag, registry


def locale_stylesheets() -> list[str]:
    """Stylesheets the active locale needs (a script font), none for Vietnamese."""
    font = current_locale().font
    return [url_for("static", filename=FONTS[font])] if font else []


class Option(NamedTuple):
    tag: str
    label: str
    #: The label's language when it is in one language only (mixed labels get none).
    lang: str | None
    active: bool


def locale_options() -> list[Option]:
    """The language switch's options: native name and Vietnamese name."""
    active = current_tag()
    options = []
    for loc in registry().offered():
        label = loc.display_name
        lang = loc.tag if label == loc.native_name else ("vi" if label == loc.name_vi else None)
        options.append(Option(loc.tag, label, lang, loc.tag == active))
    return options


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        tr=content.tr, tr_html=content.tr_html, locale_stylesheets=locale_stylesheets,
        locale_options=locale_options, current_locale_tag=current_tag)
    formatting.init_app(app)
