"""DHIS2 ``dataValueSets``: approved figures out, another system's values in (as drafts).

- **Periods** in DHIS2's format: ``2026`` (year), ``2026S1`` (half year), ``2026Q4``
  (quarter), ``202612`` (month); this instance's codes are ``2026``, ``2026-H1``,
  ``2026-Q4``, ``2026-12``. Custom periods have no DHIS2 form and are never exported.
- **The mapping** (:class:`~.models.Dhis2DataElement`, :class:`~.models.Dhis2OrgUnit`),
  loaded from CSV files by ``flask dhis2 load-mapping``: an indicator (catalogue version and
  code) and a disaggregation key ↔ a data element and category option combo; a unit version
  ``(code, valid_from)`` ↔ an org unit. Figures without a mapping are not exported; values
  without one are refused on import.
- **Export**: the approved unit reports of the org unit's unit and the period (figures
  computed from their frozen village versions) and the received reports: pushed by
  provinces, or imported and accepted by a reviewer (a draft or a rejected import never).
  Only numbers (a choice indicator's villages per answer has no single value).
- **Import**: every value is checked before anything is written (unknown data element, org
  unit or period, a value twice, a unit outside the client's): one refusal, nothing written.
  Each (org unit, period) becomes a *draft* received report for review, never approved:
  a reviewer accepts or rejects it (:mod:`.review`, the table :data:`.states.FLOW`).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from ..api.models import ApiClient
from ..audit import services as audit
from ..extensions import db
from ..indicators.models import CatalogueVersion, Indicator, Period
from ..refusal import Refusal
from ..reports import aggregate, states
from ..reports.models import UnitReport
from ..reports.queries import target_of
from .models import (
    DEFAULT_COC,
    DHIS2,
    DRAFT,
    PUSH,
    RECEIVED,
    Dhis2DataElement,
    Dhis2OrgUnit,
    ReceivedFigure,
    ReceivedReport,
)
from .received import check_scope, decimal_text, unit_by_key

_PERIOD = re.compile(r"^(\d{4})(?:(Q[1-4])|(S[12])|(0[1-9]|1[0-2]))?$")
_OURS = re.compile(r"^(\d{4})(?:-(Q[1-4])|-H([12])|-(0[1-9]|1[0-2]))?$")
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,50}$")


# -- periods --------------------------------------------------------------------------------

def from_dhis2(text: str) -> tuple[str, str] | None:
    """``2026Q4`` → ``("quarter", "2026-Q4")``; None when it is not a DHIS2 period we use."""
    match = _PERIOD.fullmatch(text or "")
    if match is None:
        return None
    year, quarter, half, month = match.groups()
    if quarter:
        return "quarter", f"{year}-{quarter}"
    if half:
        return "half_year", f"{year}-H{half[1]}"
    if month:
        return "month", f"{year}-{month}"
    return "year", year


def to_dhis2(period: Period) -> str | None:
    """This instance's period in DHIS2's format (None: a custom period has none)."""
    match = _OURS.fullmatch(period.code)
    if match is None or period.period_type == "custom":
        return None
    year, quarter, half, month = match.groups()
    kind = "quarter" if quarter else "half_year" if half else "month" if month else "year"
    if kind != period.period_type:
        return None
    return year + (quarter or (f"S{half}" if half else "") or month or "")


def find_period(text: str) -> Period | None:
    found = from_dhis2(text)
    if found is None:
        return None
    return db.session.scalar(sa.select(Period).where(Period.period_type == found[0],
                                                     Period.code == found[1]))


# -- the mapping ----------------------------------------------------------------------------

ELEMENT_COLUMNS = ("catalogue_version", "indicator", "disaggregation", "data_element",
                   "category_option_combo")
ORG_UNIT_COLUMNS = ("unit_code", "unit_valid_from", "org_unit")


class MappingError(ValueError):
    """A mapping file that cannot be loaded; the message lists every bad line."""


@dataclass
class Loaded:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def _rows(text: str, columns: tuple[str, ...]) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = tuple(name.strip() for name in reader.fieldnames or ())
    if header != columns:
        raise MappingError(f"the header must be: {','.join(columns)} (found: "
                           f"{','.join(header) or 'nothing'})")
    return [(n, {k.strip(): (v or "").strip() for k, v in row.items() if k})
            for n, row in enumerate(reader, start=2)]


def load_mapping(text: str, actor=None) -> Loaded:
    """Load a mapping CSV (either kind, told by its header): upserts by our side's key. A
    file with any bad line loads nothing (:raise MappingError: listing them)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if first.strip().startswith("unit_code"):
        return _load_org_units(_rows(text, ORG_UNIT_COLUMNS), actor)
    return _load_elements(_rows(text, ELEMENT_COLUMNS), actor)


def _check_ids(n: int, values: list[str], errors: list[str]) -> bool:
    bad = [v for v in values if not _ID.fullmatch(v)]
    for value in bad:
        errors.append(f"line {n}: {value!r} is not a DHIS2 identifier (letters, digits, "
                      "_ . -, at most 50)")
    return not bad


def _load_elements(rows: list[tuple[int, dict]], actor) -> Loaded:
    errors, wanted, theirs = [], {}, {}
    versions = dict(db.session.execute(sa.select(CatalogueVersion.code, CatalogueVersion.id)).all())
    for n, row in rows:
        coc = row["category_option_combo"] or DEFAULT_COC
        if not _check_ids(n, [row["data_element"], coc], errors):
            continue
        version_id = versions.get(row["catalogue_version"])
        indicator = version_id and db.session.scalar(sa.select(Indicator).where(
            Indicator.catalogue_version_id == version_id, Indicator.code == row["indicator"]))
        if not indicator:
            errors.append(f"line {n}: no indicator {row['indicator']!r} in catalogue version "
                          f"{row['catalogue_version']!r}")
            continue
        ours, pair = (indicator.id, row["disaggregation"]), (row["data_element"], coc)
        if ours in wanted or pair in theirs:
            errors.append(f"line {n}: mapped twice in this file")
            continue
        wanted[ours], theirs[pair] = pair, ours
    if errors:
        raise MappingError("; ".join(errors))
    loaded = Loaded()
    existing = {(m.indicator_id, m.disaggregation): m
                for m in db.session.scalars(sa.select(Dhis2DataElement))}
    taken = {(m.data_element, m.category_option_combo): key for key, m in existing.items()}
    for ours, pair in wanted.items():
        if taken.get(pair, ours) != ours and taken[pair] not in wanted:
            raise MappingError(f"{pair[0]}/{pair[1]} is mapped to another indicator already")
    for ours, (element, coc) in wanted.items():  # free the pairs that move first
        row = existing.get(ours)
        if row is not None and (row.data_element, row.category_option_combo) != (element, coc):
            row.data_element = f"~{row.id}"
    db.session.flush()
    for ours, (element, coc) in wanted.items():
        row = existing.get(ours)
        if row is None:
            db.session.add(Dhis2DataElement(indicator_id=ours[0], disaggregation=ours[1],
                                            data_element=element, category_option_combo=coc))
            loaded.added += 1
        elif (row.data_element, row.category_option_combo) != (element, coc):
            row.data_element, row.category_option_combo = element, coc
            loaded.changed += 1
        else:
            loaded.unchanged += 1
    db.session.flush()
    audit.record("dhis2.mapping.load", None, after={"kind": "data_elements",
                                                    **loaded.__dict__}, actor=actor)
    return loaded


def _load_org_units(rows: list[tuple[int, dict]], actor) -> Loaded:
    errors, wanted, theirs = [], {}, set()
    for n, row in rows:
        if not _check_ids(n, [row["org_unit"]], errors):
            continue
        try:
            valid_from = date.fromisoformat(row["unit_valid_from"])
        except ValueError:
            errors.append(f"line {n}: {row['unit_valid_from']!r} is not a date (YYYY-MM-DD)")
            continue
        unit = unit_by_key(row["unit_code"], valid_from)
        if unit is None:
            errors.append(f"line {n}: no unit {row['unit_code']!r} valid from {valid_from}")
            continue
        if unit.id in wanted or row["org_unit"] in theirs:
            errors.append(f"line {n}: mapped twice in this file")
            continue
        wanted[unit.id] = row["org_unit"]
        theirs.add(row["org_unit"])
    if errors:
        raise MappingError("; ".join(errors))
    loaded = Loaded()
    existing = {m.unit_id: m for m in db.session.scalars(sa.select(Dhis2OrgUnit))}
    for unit_id, org_unit in wanted.items():
        holder = next((m for m in existing.values() if m.org_unit == org_unit), None)
        if holder is not None and holder.unit_id != unit_id and holder.unit_id not in wanted:
            raise MappingError(f"{org_unit} is mapped to another unit already")
    for unit_id, org_unit in wanted.items():  # free the codes that move first
        row = existing.get(unit_id)
        if row is not None and row.org_unit != org_unit:
            row.org_unit = f"~{row.id}"
    db.session.flush()
    for unit_id, org_unit in wanted.items():
        row = existing.get(unit_id)
        if row is None:
            db.session.add(Dhis2OrgUnit(unit_id=unit_id, org_unit=org_unit))
            loaded.added += 1
        elif row.org_unit != org_unit or row.org_unit.startswith("~"):
            row.org_unit = org_unit
            loaded.changed += 1
        else:
            loaded.unchanged += 1
    db.session.flush()
    audit.record("dhis2.mapping.load", None, after={"kind": "org_units", **loaded.__dict__},
                 actor=actor)
    return loaded


# -- export ---------------------------------------------------------------------------------

def org_unit(code: str) -> Dhis2OrgUnit | None:
    return db.session.scalar(sa.select(Dhis2OrgUnit).where(Dhis2OrgUnit.org_unit == code))


def approved_figures(unit_id: int, period: Period) -> dict[tuple[int, str], Decimal | int]:
    """(indicator id, disaggregation) → the approved number, from this instance's approved
    reports of the unit and period (by form code) and then the reports received for it
    (pushed by a province, or imported from DHIS2 and accepted by a reviewer)."""
    found: dict[tuple[int, str], Decimal | int] = {}
    reports = db.session.scalars(sa.select(UnitReport).where(
        UnitReport.unit_id == unit_id, UnitReport.period_id == period.id,
        UnitReport.state == states.APPROVED).order_by(UnitReport.form_id))
    for report in reports:
        t = target_of(report)
        if t is None:
            continue
        for figure in aggregate.compute(t, report).figures:
            if not isinstance(figure.value, dict):
                found.setdefault((figure.indicator.id, figure.key), figure.value)
    # received = pushed by a province, or imported and accepted by a reviewer here (a
    # pushed report first: it is an approved report of the unit itself)
    received = db.session.scalars(sa.select(ReceivedFigure).join(ReceivedReport).where(
        ReceivedReport.state == RECEIVED,
        ReceivedReport.unit_id == unit_id, ReceivedReport.period_id == period.id,
        ReceivedFigure.value_numeric.is_not(None)).order_by(
        sa.case((ReceivedReport.origin == PUSH, 0), else_=1), ReceivedFigure.id))
    for figure in received:
        found.setdefault((figure.indicator_id, figure.disaggregation), figure.value_numeric)
    return found


def export(period_text: str, org_unit_code: str) -> dict:
    """The ``dataValueSets`` document of one org unit and period.

    :raise Refusal: ``unknown_reference`` (an org unit without mapping, a period not
        defined here).
    """
    mapped = org_unit(org_unit_code)
    period = find_period(period_text)
    missing = ([f"orgUnit {org_unit_code}"] if mapped is None else []) + (
        [f"period {period_text}"] if period is None else [])
    if missing:
        raise Refusal("unknown_reference", message=_(
            "Not known here: %(what)s. Nothing was changed.", what="; ".join(missing)),
            unknown=missing)
    figures = approved_figures(mapped.unit_id, period)
    mappings = db.session.scalars(sa.select(Dhis2DataElement).where(
        Dhis2DataElement.indicator_id.in_({i for i, _key in figures}))) if figures else []
    values = [{"dataElement": m.data_element, "period": period_text, "orgUnit": org_unit_code,
               "categoryOptionCombo": m.category_option_combo,
               "value": decimal_text(figures[(m.indicator_id, m.disaggregation)])}
              for m in mappings if (m.indicator_id, m.disaggregation) in figures]
    values.sort(key=lambda v: (v["dataElement"], v["categoryOptionCombo"]))
    return {"period": period_text, "orgUnit": org_unit_code, "dataValues": values}


# -- import ---------------------------------------------------------------------------------

def _number(value) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 14:
        return None
    return number.quantize(Decimal("0.0001")) if number == number.quantize(
        Decimal("0.0001")) else None


def import_set(body, client, actor) -> list[dict]:
    """Import a data value set into draft received reports, one per (org unit, period).

    :raise Refusal: ``invalid`` (422: a value without period or org unit, twice, not a
        number, a non-default attribute option combo), ``unknown_data_element`` (422),
        ``unknown_reference`` (422: org unit or period), ``no_authority`` (403).
    """
    errors: dict[str, str] = {}
    keyed = []
    for n, dv in enumerate(body.dataValues):
        period, unit = dv.period or body.period, dv.orgUnit or body.orgUnit
        aoc = dv.attributeOptionCombo or body.attributeOptionCombo
        if period is None:
            errors[f"dataValues.{n}.period"] = _("A period is needed (here or in the set).")
        if unit is None:
            errors[f"dataValues.{n}.orgUnit"] = _("An org unit is needed (here or in the set).")
        if aoc not in (None, DEFAULT_COC):
            errors[f"dataValues.{n}.attributeOptionCombo"] = _(
                "Only the default attribute option combination can be imported.")
        number = _number(dv.value)
        if number is None:
            errors[f"dataValues.{n}.value"] = _("Not a number that can be stored.")
        keyed.append((n, period, unit, dv.dataElement, dv.categoryOptionCombo or DEFAULT_COC,
                      number))
    if errors:
        raise Refusal("invalid", message=_("Some values are not valid."), fields=errors)
    elements = {(m.data_element, m.category_option_combo): m for m in db.session.scalars(
        sa.select(Dhis2DataElement).where(Dhis2DataElement.data_element.in_(
            {k[3] for k in keyed})))}
    unknown = sorted({f"{k[3]}/{k[4]}" for k in keyed if (k[3], k[4]) not in elements})
    if unknown:
        raise Refusal("unknown_data_element", message=_(
            "No mapping for: %(what)s. Nothing was imported.", what=", ".join(unknown)),
            unknown=unknown)
    units = {m.org_unit: m for m in db.session.scalars(sa.select(Dhis2OrgUnit).where(
        Dhis2OrgUnit.org_unit.in_({k[2] for k in keyed})))}
    periods = {text: find_period(text) for text in {k[1] for k in keyed}}
    missing = sorted({f"orgUnit {k[2]}" for k in keyed if k[2] not in units}) + sorted(
        f"period {text}" for text, found in periods.items() if found is None)
    if missing:
        raise Refusal("unknown_reference", message=_(
            "Not known here: %(what)s. Nothing was changed.", what="; ".join(missing)),
            unknown=missing)
    for mapped in units.values():
        check_scope(client, mapped.unit)
    groups: dict[tuple[str, str], list] = defaultdict(list)
    seen = set()
    for n, period, unit, element, coc, number in keyed:
        mapping = elements[(element, coc)]
        cell = (unit, period, mapping.indicator_id, mapping.disaggregation)
        if cell in seen:
            raise Refusal("invalid", message=_("A value appears twice."),
                          fields={f"dataValues.{n}": _("A value appears twice.")})
        seen.add(cell)
        groups[(unit, period)].append(ReceivedFigure(
            indicator_id=mapping.indicator_id, disaggregation=mapping.disaggregation,
            value_numeric=number))
    drafts = []
    for (unit, period), figures in sorted(groups.items()):
        report = ReceivedReport(origin=DHIS2, state=DRAFT, client_id=client.id,
                                unit_id=units[unit].unit_id, period_id=periods[period].id,
                                provenance={"dataSet": body.dataSet,
                                            "completeDate": body.completeDate,
                                            "orgUnit": unit, "period": period},
                                figures=figures)
        db.session.add(report)
        db.session.flush()
        audit.record("dhis2.import", report, after={"org_unit": unit, "period": period,
                                                    "values": len(figures)}, actor=actor)
        drafts.append({"id": report.id, "orgUnit": unit, "period": period,
                       "unit": units[unit].unit, "values": len(figures)})
    return drafts


def drafts() -> list[tuple[ReceivedReport, str]]:
    """The draft reports imported from DHIS2 with their client's name, newest first."""
    return list(db.session.execute(
        sa.select(ReceivedReport, ApiClient.name).join(
            ApiClient, ApiClient.id == ReceivedReport.client_id)
        .where(ReceivedReport.origin == DHIS2, ReceivedReport.state == DRAFT)
        .order_by(ReceivedReport.id.desc())).tuples())
