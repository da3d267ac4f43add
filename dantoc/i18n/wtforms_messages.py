"""WTForms' built-in messages ("This field is required.") through our own catalogs.

WTForms ships no Vietnamese catalog, so its validators answered in English on Vietnamese
pages (issue #14). Flask-WTF reads the translations of a request from
``request.wtforms_translations`` before loading WTForms' own; :func:`install` puts ours there,
which route through Flask-Babel (our message catalogs, the locale chain and its fallback to
Vietnamese). :data:`MESSAGES` lists WTForms' msgids so that extraction finds them and the
translators see them; tests/test_i18n_catalogs.py then requires a Vietnamese text for each.
"""

from __future__ import annotations

from flask import request
from flask_babel import get_domain, ngettext
from flask_babel import lazy_gettext as _l

#: WTForms 3.2's msgids (wtforms/locale/wtforms.pot), for extraction only.
MESSAGES = (
    _l("Invalid field name '%s'."),
    _l("Field must be equal to %(other_name)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Date must be at least %(min)s."),
    _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid IP address."),
    _l("Invalid Mac address."),
    _l("Invalid URL."),
    _l("Invalid UUID."),
    _l("Invalid value, must be one of: %(values)s."),
    _l("Invalid value, can't be any of: %(values)s."),
    _l("This field cannot be edited."),
    _l("This field is disabled and cannot have a value."),
    _l("Invalid CSRF Token."),
    _l("CSRF token missing."),
    _l("CSRF failed."),
    _l("CSRF token expired."),
    _l("Invalid Choice: could not coerce."),
    _l("Choices cannot be None."),
    _l("Not a valid choice."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid week value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
)


def _plurals() -> None:  # pragma: no cover - never called: the plural msgids, for extraction
    ngettext("Field must be at least %(min)d character long.",
             "Field must be at least %(min)d characters long.", 1)
    ngettext("Field cannot be longer than %(max)d character.",
             "Field cannot be longer than %(max)d characters.", 1)
    ngettext("Field must be exactly %(max)d character long.",
             "Field must be exactly %(max)d characters long.", 1)
    ngettext("'%(value)s' is not a valid choice for this field.",
             "'%(value)s' are not valid choices for this field.", 1)


class BabelTranslations:
    """The interface WTForms calls (``ugettext``/``ungettext``), answered by this request's
    catalog chain. WTForms formats the text itself (``%(min)s``), so it goes back raw."""

    @staticmethod
    def gettext(string: str) -> str:
        return get_domain().get_translations().gettext(string)

    @staticmethod
    def ngettext(singular: str, plural: str, n: int) -> str:
        return get_domain().get_translations().ngettext(singular, plural, n)

    ugettext, ungettext = gettext, ngettext


def install() -> None:
    """before_request: WTForms' messages of this request come from our catalogs."""
    request.wtforms_translations = BabelTranslations()
