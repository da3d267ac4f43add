"""Choose the locale of a request: user preference → device cookie → browser → Vietnamese."""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

#: Interface locales shipped complete. Minority locales come with translators (issue #7).
LOCALES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_LOCALE = "vi"
COOKIE = "locale"


def select_locale() -> str:
    user_locale = getattr(current_user, "locale", None) if current_user else None
    for candidate in (user_locale, request.cookies.get(COOKIE)):
        if candidate in LOCALES:
            return candidate
    return request.accept_languages.best_match(list(LOCALES), default=DEFAULT_LOCALE)


def init_app(app: Flask) -> None:
    from ..extensions import babel

    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["LOCALES"] = LOCALES
