"""Choose the locale of a request: ``?lang=`` → user preference → device cookie → vi.

The browser's ``Accept-Language`` is not read: Vietnamese is the default for everyone (a
phone set to English is common and says nothing about the person's language); a language
chosen with the picker is kept in a cookie, in the profile once signed in, and a choice made
before signing in is carried over to the profile at sign-in (:func:`.services.carry_over`).

The active locale is a BCP 47 tag from the registry (:mod:`.locales`). Flask-Babel is
given the CLDR locale used for *formatting* (Vietnamese when CLDR has no data for the
language), so ``get_locale()`` never raises for ``ium`` or ``hmn-Latn-VN-x-rpa``; the
interface text is looked up by the tag itself (:class:`.messages.ChainDomain`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g, has_request_context, request
from flask_login import current_user

from .locales import DEFAULT, InterfaceLocale, Registry

COOKIE = "locale"
QUERY = "lang"
#: Where this request keeps what it looked up (in ``g``): the chosen tag, the interface
#: translations (:mod:`.messages`) and the content translations (:mod:`.content`).
TAG_CACHE = "_i18n_tag"
#: The active :class:`InterfaceLocale` itself, resolved once per request (it is asked for
#: about 140 times by a form page: every label, number and translated field).
LOCALE_CACHE = "_i18n_locale"
TRANSLATIONS_CACHE = "_i18n_translations"
CONTENT_CACHE = "_i18n_content"


def registry() -> Registry:
    """The registered locales of the running application."""
    return current_app.extensions["dantoc_locales"]


def choose_tag() -> str:
    """The tag this request asks for, from the most to the least explicit source."""
    reg = registry()
    user_locale = getattr(current_user, "locale", None) if current_user else None
    for candidate in (request.args.get(QUERY), user_locale, request.cookies.get(COOKIE)):
        locale = reg.get(candidate)
        if locale is not None:
            return locale.tag
    return DEFAULT


#: The cookie that says the picker was used before signing in (a browser-session cookie).
PICKED = "locale_picked"


def current_locale() -> InterfaceLocale:
    """The active interface locale (Vietnamese outside requests), resolved once per request
    or forced block (:func:`forget` drops it)."""
    if not g:
        return registry()[DEFAULT]
    cached = g.get(LOCALE_CACHE)
    if cached is not None:
        return cached
    forced = g.get("_i18n_forced")
    if forced:
        locale = registry()[forced]
    elif not has_request_context():
        return registry()[DEFAULT]
    else:
        if TAG_CACHE not in g:
            setattr(g, TAG_CACHE, choose_tag())
        locale = registry()[g.get(TAG_CACHE)]
    setattr(g, LOCALE_CACHE, locale)
    return locale


def current_tag() -> str:
    """The BCP 47 tag of the active locale, for ``lang`` attributes."""
    return current_locale().tag


def select_locale() -> str:
    """Flask-Babel's locale selector: the formatting locale of the active tag."""
    return current_locale().formatting_locale


def forget() -> None:
    """Drop the cached choice, translations and content (start of a request, a switch).

    ``g`` lives in the application context, which tests share between requests.
    """
    from flask_babel import refresh

    for cache in (TAG_CACHE, LOCALE_CACHE, TRANSLATIONS_CACHE, CONTENT_CACHE):
        g.pop(cache, None)
    refresh()


@contextmanager
def use_locale(tag: str) -> Iterator[None]:
    """Run a block in another locale (e-mails, exports, tests), then restore the request's."""
    previous = g.get("_i18n_forced")
    g._i18n_forced = registry()[tag].tag
    forget()
    try:
        yield
    finally:
        g._i18n_forced = previous
        forget()
