"""Writes to the catalogs: validate first, then change, flush and audit in one go.

Services flush and never commit; the caller (a view, the importer, the CLI) owns the
transaction. A refusal is a :class:`FieldError` naming the field, raised before anything
changes.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _

from ..audit import services as audit
from ..extensions import db
from ..refusal import FieldError
from ..sync import origin
from .checks import check_link, check_unit
from .models import AdminLevel, AdminUnit, Department, EthnicGroup, Religion, UnitLineage
from .queries import resolve

__all__ = ["add_lineage", "close_unit", "create_department", "create_unit",
           "parent_for", "save_ethnic_group", "save_religion", "update_unit"]

UNIT_FIELDS = ("code", "name", "unit_type", "parent", "valid_from", "valid_to", "is_sample",
               "aliases", "source")
UNIT_AUDIT = ("code", "name", "unit_type_id", "level_id", "parent_id", "valid_from", "valid_to",
              "is_sample", "aliases", "source")
TWO_DIGITS = re.compile(r"\d\d")


def _clean(value):
    """Strip text; empty text becomes None."""
    if isinstance(value, str):
        return value.strip() or None
    return value


# Administrative units ----------------------------------------------------------------------

def parent_for(code: str | None, on: date | None) -> AdminUnit | None:
    """The parent version with ``code`` valid on the child's start date (None for no code).

    :raise FieldError: when no unit has that code on that date.
    """
    code = _clean(code)
    if code is None:
        return None
    parent = resolve(code, on) if on is not None else None
    if parent is None:
        raise FieldError(_("No unit has the code %(code)s on the start date.", code=code),
                         "parent_code")
    return parent


def _values(unit: AdminUnit | None, changes: dict) -> dict:
    unknown = set(changes) - set(UNIT_FIELDS) - {"level"}
    if unknown:
        raise TypeError(f"unknown unit fields: {sorted(unknown)}")
    values = {name: getattr(unit, name) if unit else None for name in UNIT_FIELDS}
    values.update({name: _clean(value) for name, value in changes.items()})
    values["is_sample"] = bool(values["is_sample"])
    level: AdminLevel | None = changes.get("level")
    values["level"] = level or (values["unit_type"].level if values["unit_type"] else None)
    return values


def create_unit(**fields) -> AdminUnit:
    """Create a unit version; the level follows from the unit type unless given.

    :param fields: ``code``, ``name``, ``unit_type``, ``valid_from`` and optionally
        ``valid_to``, ``parent`` (a version), ``level``, ``is_sample``, ``aliases``, ``source``.
    :raise FieldError: overlapping dates, missing or unsuitable parent, wrong level.
    """
    values = _values(None, fields)
    origin.check_local_unit_code(values["code"])
    check_unit(values, None, None)
    unit = AdminUnit(**{name: values[name] for name in (*UNIT_FIELDS, "level")})
    db.session.add(unit)
    db.session.flush()
    audit.record("catalog.unit.create", unit, after=audit.snapshot(unit, UNIT_AUDIT))
    return unit


def update_unit(unit: AdminUnit, *, action: str = "catalog.unit.update", **changes) -> AdminUnit:
    """Correct a unit version in place (same fields as :func:`create_unit`).

    :raise FieldError: as for :func:`create_unit`, plus cycles and stranded children.
    :raise Refusal: ``national_record`` for a unit copied from the centre.
    """
    origin.check_editable(unit)
    values = _values(unit, changes)
    origin.check_local_unit_code(values["code"], current=unit.code)
    check_unit(values, unit.id, unit.valid_from)
    before = audit.snapshot(unit, UNIT_AUDIT)
    for name in (*UNIT_FIELDS, "level"):
        setattr(unit, name, values[name])
    db.session.flush()
    after = audit.snapshot(unit, UNIT_AUDIT)
    if after != before:  # saving an unchanged form changes nothing and records nothing
        audit.record(action, unit, before=before, after=after)
    return unit


def close_unit(unit: AdminUnit, valid_to: date) -> AdminUnit:
    """End a unit version on ``valid_to`` (its last valid day).

    :raise FieldError: when a child is still valid after that day.
    """
    if valid_to is None:
        raise FieldError(_("Give the last day on which the unit is valid."), "valid_to")
    return update_unit(unit, action="catalog.unit.close", valid_to=valid_to)


def add_lineage(*, kind: str, from_unit: AdminUnit | int | None, to_unit: AdminUnit | int | None,
                effective_date: date, share: Decimal | None = None,
                legal_basis: str | None = None) -> UnitLineage:
    """Record that ``from_unit`` went (wholly, or ``share`` of it for a split) into ``to_unit``.

    :raise FieldError: unknown units, a share outside (0, 1] or on a non-split, dates that
        do not meet, a duplicate or a link back in time.
    :raise Refusal: ``national_record`` for a link between two units of the centre.
    """
    source, target = (db.session.get(AdminUnit, u) if isinstance(u, int) else u
                      for u in (from_unit, to_unit))
    if origin.national(source) and origin.national(target):
        origin.check_editable(source)  # the centre's units are linked by the centre
    check_link(kind, source, target, effective_date, share)
    if len(legal_basis or "") > 200:
        raise FieldError(_("Legal basis: at most 200 characters."), "legal_basis")
    link = UnitLineage(kind=kind, from_unit=source, to_unit=target, share=share,
                       effective_date=effective_date, legal_basis=_clean(legal_basis))
    db.session.add(link)
    db.session.flush()
    audit.record("catalog.lineage.create", link, after=audit.snapshot(link))
    return link


# Ethnic groups, religions, departments -----------------------------------------------------

def _refuse_taken(model, field: str, value, own_id: int | None) -> None:
    if value is None:
        return
    column = getattr(model, field)
    other = db.session.scalar(sa.select(model.id).where(column == value,
                                                        model.id != (own_id or 0)))
    if other is not None:
        raise FieldError(_("%(value)s is already used by another entry.", value=value), field)


def _save(model, row, fields: dict, action: str):
    """Create or change ``row`` with ``fields``, audited; the caller has validated them."""
    before = audit.snapshot(row) if row is not None else None
    row = row or model()
    for name, value in fields.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.flush()
    audit.record(f"{action}.{'update' if before else 'create'}", row, before=before,
                 after=audit.snapshot(row))
    return row


def _national_list(row) -> None:
    """Ethnic groups and religions are national lists: a province changes none it copied
    from the centre and adds none of its own."""
    if row is None:
        origin.check_national_list()
    else:
        origin.check_editable(row)


def _national_fields(row, given: dict, names: tuple[str, ...]) -> dict:
    """The fields ``names`` of a save to a national list (checked by :func:`_national_list`
    first): each given value, else the row's current one (None for a new row), cleaned."""
    _national_list(row)
    return {name: _clean(given.get(name, getattr(row, name, None))) for name in names}


def _save_unique(model, row, fields: dict, unique: tuple[str, ...], action: str):
    """Save ``row`` (:func:`_save`) once no other row of ``model`` has the value of any of
    the fields ``unique``."""
    for name in unique:
        _refuse_taken(model, name, fields[name], row.id if row else None)
    return _save(model, row, fields, action)


ETHNIC_FIELDS = ("code", "code_2008", "name", "common_name", "other_names", "language_family",
                 "language_group", "lives_in_community_in_province", "note")


def save_ethnic_group(group: EthnicGroup | None, **fields) -> EthnicGroup:
    """Create (``group`` None) or change an ethnic group; both codes are two digits.

    :raise FieldError: a malformed code, a missing name, a code or name already used; a new
        group at a province (the list is the centre's).
    :raise Refusal: ``national_record`` for a group copied from the centre.
    """
    fields = _national_fields(group, fields, ETHNIC_FIELDS)
    fields["lives_in_community_in_province"] = bool(fields["lives_in_community_in_province"])
    for name in ("code", "code_2008"):
        if not TWO_DIGITS.fullmatch(fields[name] or ""):
            raise FieldError(_("A code has exactly two digits, e.g. 03."), name)
    if not fields["name"] or len(fields["name"]) > 60:
        raise FieldError(_("Give a name of at most 60 characters."), "name")
    return _save_unique(EthnicGroup, group, fields, ("code", "code_2008", "name"),
                        "catalog.ethnic_group")


RELIGION_FIELDS = ("code", "name", "census_label", "recognised", "followers_census_2019",
                   "organisations", "note")


def save_religion(religion: Religion | None, **given) -> Religion:
    """Create (``religion`` None) or change a religion; the GSO code is optional.

    :raise FieldError: a malformed code, a missing name, a code or name already used; a new
        religion at a province (the list is the centre's).
    :raise Refusal: ``national_record`` for a religion copied from the centre.
    """
    fields = _national_fields(religion, given, RELIGION_FIELDS)
    fields["recognised"] = bool(fields["recognised"]) if religion or "recognised" in given \
        else True
    if fields["code"] is not None and not TWO_DIGITS.fullmatch(fields["code"]):
        raise FieldError(_("A code has exactly two digits, e.g. 03."), "code")
    if not fields["name"] or len(fields["name"]) > 150:
        raise FieldError(_("Give a name of at most 150 characters."), "name")
    if (fields["followers_census_2019"] or 0) < 0:
        raise FieldError(_("A number of followers cannot be negative."),
                         "followers_census_2019")
    return _save_unique(Religion, religion, fields, ("code", "name"), "catalog.religion")


def create_department(code: str, name: str) -> Department:
    """Create a department (phòng / ban) of the provincial agency.

    :raise FieldError: a malformed or already used code, or a missing name.
    """
    code, name = _clean(code), _clean(name)
    if not code or not re.fullmatch(r"[0-9A-Za-z._-]{1,30}", code):
        raise FieldError(_("A code has 1 to 30 letters, digits, dots, dashes or "
                           "underscores."), "code")
    origin.check_local_code(code)
    if not name or len(name) > 200:
        raise FieldError(_("Give a name of at most 200 characters."), "name")
    _refuse_taken(Department, "code", code, None)
    return _save(Department, None, {"code": code, "name": name}, "catalog.department")
