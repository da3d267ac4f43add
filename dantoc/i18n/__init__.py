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
    domain = babel.__dict__["domain_instance"] = ChainDomain()
    # Templates ask the domain itself (some 30 strings a page): Flask-Babel's callables find
    # it again through the request's context for every string. Same lookups, same results.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n))
    app.before_request(selection.forget)
    app.before_request(wtforms_messages.install)
    user_logged_in.connect(services.carry_over, app)
    templating.init_app(app)
    picker.init_app(app)


def warm(app: Flask) -> None:
    """Load now what the first requests of a process would load: the interface catalogs of
    the locales read from files alone, chained (no database), and the CLDR data the
    language switch and the formatting of the offered locales read. Processes forked from
    this one (gunicorn's workers) start with them."""
    from babel import Locale

    from .messages import FILE_ONLY, preload_chain
    from .selection import registry

    with app.app_context():
        for tag in FILE_ONLY:
            preload_chain(registry()[tag].chain())
        for locale in registry().offered():
            _ = locale.display_name
            Locale.parse(locale.formatting_locale).number_symbols  # noqa: B018 (loads it)
