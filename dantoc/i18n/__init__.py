"""Interface languages: Vietnamese first, English second, minority locales by design."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the locales, Flask-Babel with the tag-keyed domain, and the template helpers."""
    from flask_login import user_logged_in

    from ..extensions import babel
    from . import picker, selection, services, templating, wtforms_messages
    from .locales import default_registry
    from .messages import ChainDomain

    app.extensions["dantoc_locales"] = default_registry(app.config.get("I18N_EXTRA_LOCALES", ()))
    babel.init_app(app, locale_selector=selection.select_locale)
    # Flask-Babel caches its domain on the (shared, stateless) extension object.
    babel.__dict__["domain_instance"] = ChainDomain()
    app.before_request(selection.forget)
    app.before_request(wtforms_messages.install)
    user_logged_in.connect(services.carry_over, app)
    templating.init_app(app)
    picker.init_app(app)
