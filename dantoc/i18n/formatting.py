"""Numbers, dates and reporting periods in the active locale's CLDR conventions.

The active locale's *formatting* locale is its own CLDR locale when Babel has real data
for it, and Vietnamese otherwise (:attr:`.locales.InterfaceLocale.formatting_locale`), so
nothing here raises ``UnknownLocaleError`` for a minority locale.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from babel import Locale, dates, numbers
from flask import Flask, current_app
from flask_babel import gettext as _

from .. import clock
from .locales import DEFAULT
from .messages import FILE_ONLY
from .selection import current_locale

PERIOD_CODE = re.compile(r"^(?P<year>\d{4})(?:-(?P<kind>Q|H)?(?P<part>\d{1,2}))?$")


def _locale() -> str:
    return current_locale().formatting_locale


def _safe(format_, *args, **kwargs) -> str:
    """Format with the active locale; on any CLDR gap retry in Vietnamese."""
    try:
        return format_(*args, locale=_locale(), **kwargs)
    except (LookupError, ValueError):
        return format_(*args, locale=DEFAULT, **kwargs)


@functools.lru_cache(maxsize=32)
def _decimal_format(locale: str) -> tuple[Locale, numbers.NumberPattern, str | None]:
    """The locale, its parsed default decimal pattern, and its group symbol when that pattern
    groups plain integers by threes (None: let Babel do all the work)."""
    parsed = Locale.parse(locale)
    pattern = numbers.parse_pattern(parsed.decimal_formats[None])
    plain = pattern.grouping == (3, 3) and pattern.prefix == ("", "-")
    return parsed, pattern, numbers.get_group_symbol(parsed) if plain else None


def _plain_number(value) -> str:
    """The default decimal format, as Babel's ``format_decimal`` writes it; the locale and its
    pattern are parsed once per process, and whole non-negative numbers (most figures of a
    table) are grouped without Babel's general machinery (4,000 cells of a lookup table)."""
    return number_formatter()(value)


def number_formatter() -> Callable[[int | float | Decimal], str]:
    """:func:`format_number` without ``digits`` for the many numbers of one page (a lookup
    table's thousands of cells): the active locale and its pattern looked up once."""
    try:
        parsed, pattern, group = _decimal_format(_locale())
    except (LookupError, ValueError):
        parsed, pattern, group = _decimal_format(DEFAULT)

    def plain(value) -> str:
        whole = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, Decimal) and value.is_finite()
            and value == value.to_integral_value())
        if group is not None and whole and value >= 0:
            return f"{int(value):,}".replace(",", group)
        return pattern.apply(value, parsed)

    return plain


def format_number(value: int | float | Decimal | None, digits: int | None = None) -> str:
    """``1234567.5`` → ``1.234.567,5`` in Vietnamese; empty for ``None``."""
    if value is None:
        return ""
    if digits is None:
        return _plain_number(value)
    if digits is not None:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return _safe(numbers.format_decimal, value, format=pattern)
    return _safe(numbers.format_decimal, value)


def format_percent(value: float | Decimal | None, digits: int = 1) -> str:
    """``0.125`` → ``12,5%`` in Vietnamese."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return _safe(numbers.format_percent, value, format=pattern)


#: The official date format of Vietnamese documents, in every interface language.
DATE_PATTERN = "dd/MM/yyyy"
#: A moment: the time, then the official date (``14:05 06/12/2026``).
DATETIME_PATTERN = "HH:mm " + DATE_PATTERN


def format_date(value: date | datetime | None, style: str | None = None) -> str:
    """A date as ``01/07/2025`` (dd/mm/yyyy, the official format, whatever the language);
    a moment as its day in the province's time zone; empty for ``None``. ``style="long"``
    spells the month out in the locale's words."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # a moment: its day in the province (naive means UTC)
        value = clock.local_day(value)
    if style != "long":  # DATE_PATTERN has digits only: written as Babel writes it, faster
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    return _safe(dates.format_date, value, format="long")


def format_datetime(value: datetime | None, style: str | None = None) -> str:
    """A moment as ``14:05 01/07/2025`` in the user's time zone (Asia/Ho_Chi_Minh by
    default); ``style`` is accepted for old callers and changes nothing.

    :data:`DATETIME_PATTERN` has digits only, the same in every locale: written here as
    Babel's ``format_datetime`` writes it (a naive moment is UTC), in a quarter of its time
    (every receipt shows one)."""
    if value is None:
        return ""
    from flask_babel import get_timezone

    zone = get_timezone()
    moment = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(zone)
    if hasattr(zone, "normalize"):  # pytz
        moment = zone.normalize(moment)
    return (f"{moment.hour:02d}:{moment.minute:02d} "
            f"{moment.day:02d}/{moment.month:02d}/{moment.year:04d}")


def period_label(period_type: str, code: str, name: str | None = None) -> str:
    """A reporting period's label: ``Tháng 7/2025``, ``Quý 3/2025``, ``6 tháng đầu năm 2025``.

    Custom periods (and codes that do not parse) keep their stored name.
    """
    match = PERIOD_CODE.match(code or "")
    if period_type == "custom" or match is None:
        return name or code
    year, kind, part = match["year"], match["kind"], int(match["part"] or 0)
    if period_type == "year" and not part:
        return _("Year %(year)s", year=year)
    if period_type == "quarter" and kind == "Q" and 1 <= part <= 4:
        # Arabic numerals, as people write and read them on a phone: Quý 4/2025.
        return _("Quarter %(quarter)s/%(year)s", quarter=part, year=year)
    if period_type == "half_year" and kind == "H" and part in (1, 2):
        return (_("First half of %(year)s", year=year) if part == 1
                else _("Second half of %(year)s", year=year))
    if period_type == "month" and kind is None and 1 <= part <= 12:
        return _("Month %(month)s/%(year)s", month=part, year=year)
    return name or code


def format_period(period) -> str:
    """The label of a :class:`~dantoc.indicators.models.Period` in the active locale.

    In a locale whose interface text comes from files only (it cannot change while the
    application runs) the label is kept per application, by (locale, type, code, name): a
    form page and a receipt show one or two, each ~25 µs through gettext's interpolation."""
    tag = current_locale().tag
    if tag not in FILE_ONLY:
        return period_label(period.period_type, period.code, period.name)
    labels = current_app.extensions.setdefault("dantoc.period_labels", {})
    key = (tag, period.period_type, period.code, period.name)
    label = labels.get(key)
    if label is None:
        if len(labels) > 4096:  # bounded: periods are few, but a name can be edited
            labels.clear()
        label = labels[key] = period_label(*key[1:])
    return label


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        number=format_number, percent=format_percent, localdate=format_date,
        localdatetime=format_datetime, period=format_period)
    app.jinja_env.globals["number_formatter"] = number_formatter
