"""Reporting periods (kỳ báo cáo): standard months, quarters, half-years and years, and
custom periods with a cut-off date."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from ...extensions import db
from ...refusal import FieldError
from ..models import PERIOD_TYPES, Period
from .common import changed, check_code, check_dates, check_unique, clean_text, created

STANDARD_TYPES = ("month", "quarter", "half_year", "year")
_PATTERNS = {
    "year": re.compile(r"(?P<year>\d{4})\Z"),
    "half_year": re.compile(r"(?P<year>\d{4})-H(?P<n>[12])\Z"),
    "quarter": re.compile(r"(?P<year>\d{4})-Q(?P<n>[1-4])\Z"),
    "month": re.compile(r"(?P<year>\d{4})-(?P<n>0[1-9]|1[0-2])\Z"),
}
_MONTHS = {"year": 12, "half_year": 6, "quarter": 3, "month": 1}
_FIELDS = ("period_type", "code", "name", "start_date", "end_date", "cutoff_date", "opens_on",
           "closes_on")


def standard_code(period_type: str, year: int, number: int = 1) -> str:
    """The code of the ``number``-th period of a type in a year: 2026, 2026-H1, 2026-Q3,
    2026-11."""
    return {"year": f"{year}", "half_year": f"{year}-H{number}",
            "quarter": f"{year}-Q{number}", "month": f"{year}-{number:02d}"}[period_type]


def standard_period(period_type: str, code: str) -> tuple[date, date, str]:
    """Start, end and (Vietnamese) name of a standard period, from its code.

    :raise FieldError: when the code does not fit the period type.
    """
    match = _PATTERNS[period_type].match(code or "")
    if match is None or not 2000 <= int(match["year"]) <= 2100:
        examples = {"year": "2026", "half_year": "2026-H1", "quarter": "2026-Q3",
                    "month": "2026-11"}
        raise FieldError(_("Write the code like %(example)s.",
                           example=examples[period_type]), "code")
    year, number = int(match["year"]), int(match["n"] if "n" in match.groupdict() else 1)
    months = _MONTHS[period_type]
    first = (number - 1) * months + 1
    last = first + months - 1
    start, end = date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
    if period_type == "year":
        name = f"Năm {year}"
    elif period_type == "half_year":
        name = f"6 tháng {'đầu' if number == 1 else 'cuối'} năm {year}"
    elif period_type == "quarter":
        name = f"Quý {number}/{year}"  # as the pages write it (i18n.formatting.period_label)
    else:
        name = f"Tháng {number:02d}/{year}"
    return start, end, name


def _values(period_type: str, code: str, name: str | None, start_date: date | None,
            end_date: date | None, cutoff_date: date | None, opens_on: date | None,
            closes_on: date | None) -> dict:
    if period_type not in PERIOD_TYPES:
        raise FieldError(_("Not a valid choice."), "period_type")
    if period_type == "custom":
        code = check_code(code)
        check_dates(start_date, end_date, start_field="start_date", end_field="end_date",
                    required_end=True)
        if cutoff_date is None:
            raise FieldError(_("A custom period needs a cut-off date."), "cutoff_date")
        if not start_date <= cutoff_date <= end_date:
            raise FieldError(_("The cut-off date must fall within the period."),
                             "cutoff_date")
        name = clean_text(name, "name", max_length=100)
    else:
        start_date, end_date, default_name = standard_period(period_type, (code or "").strip())
        code, cutoff_date = code.strip(), None
        name = clean_text(name, "name", required=False, max_length=100) or default_name
    check_dates(opens_on, closes_on, start_field="opens_on", end_field="closes_on",
                required_end=True)
    return {"period_type": period_type, "code": code, "name": name, "start_date": start_date,
            "end_date": end_date, "cutoff_date": cutoff_date, "opens_on": opens_on,
            "closes_on": closes_on}


def create_period(*, period_type: str, code: str, opens_on: date | None,
                  closes_on: date | None, name: str | None = None,
                  start_date: date | None = None, end_date: date | None = None,
                  cutoff_date: date | None = None) -> Period:
    """Create one period (audited). Standard periods take their dates and name from the code;
    custom periods need their own dates and a cut-off date.

    :raise FieldError: on a bad or existing code, a window closing before it opens, or
        a custom period without a cut-off date within it.
    """
    values = _values(period_type, code, name, start_date, end_date, cutoff_date, opens_on,
                     closes_on)
    check_unique(Period, message=_("This period already exists."),
                 period_type=values["period_type"], code=values["code"])
    return created("indicators.period.create", Period(**values), _FIELDS)


def update_period(period: Period, *, name: str | None, opens_on: date | None,
                  closes_on: date | None, start_date: date | None = None,
                  end_date: date | None = None, cutoff_date: date | None = None,
                  code: str | None = None) -> Period:
    """Change a period's name and reporting window (and a custom period's dates) (audited).

    :raise FieldError: as :func:`create_period`.
    """
    values = _values(period.period_type, code or period.code, name, start_date, end_date,
                     cutoff_date, opens_on, closes_on)
    check_unique(Period, period, message=_("This period already exists."),
                 period_type=values["period_type"], code=values["code"])
    return changed("indicators.period.update", period, values)


def generate_periods(period_type: str, year: int, *, opens_before_end: int = 7,
                     closes_after_end: int = 15) -> list[Period]:
    """Create the standard periods of a type in a year that do not exist yet (audited).

    Each period opens for reporting ``opens_before_end`` days before it ends and closes
    ``closes_after_end`` days after.

    :raise FieldError: on a custom type, a year outside 2000–2100 or negative offsets.
    """
    if period_type not in STANDARD_TYPES:
        raise FieldError(_("Choose a month, quarter, half-year or year."), "period_type")
    if not 2000 <= (year or 0) <= 2100:
        raise FieldError(_("Enter a year between 2000 and 2100."), "year")
    if min(opens_before_end, closes_after_end) < 0 or max(opens_before_end,
                                                          closes_after_end) > 366:
        raise FieldError(_("Enter a number of days between 0 and 366."), "opens_before_end")
    made = []
    for number in range(1, 12 // _MONTHS[period_type] + 1):
        code = standard_code(period_type, year, number)
        if db.session.scalar(sa.select(Period.id).where(Period.period_type == period_type,
                                                        Period.code == code)):
            continue
        _start, end, _name = standard_period(period_type, code)
        made.append(create_period(period_type=period_type, code=code,
                                  opens_on=end - timedelta(days=opens_before_end),
                                  closes_on=end + timedelta(days=closes_after_end)))
    return made
