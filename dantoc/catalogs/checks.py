"""The checks a unit version or a lineage link must pass, with messages for people.

The database triggers and constraints (migrations 0001/0002) are the last line of defence;
these run first so that a refusal names the field and says what to change.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _

from ..extensions import db
from ..refusal import FieldError
from .models import LINEAGE_KINDS, UNKNOWN_START, AdminUnit, UnitLineage

CODE_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,19}")
END_OF_TIME = date(9999, 12, 31)
#: A tree is a handful of levels deep; the walk limit only guards against bad data.
MAX_DEPTH = 20


def show_date(day: date | None) -> str:
    """A date for a message: "—" for an open end or an unresearched start."""
    if day is None or day == UNKNOWN_START:
        return "—"
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def covers(outer: AdminUnit, start: date, end: date | None) -> bool:
    """Whether ``outer`` is valid over the whole of ``[start, end]`` (None = open)."""
    if outer.valid_from > start:
        return False
    return outer.valid_to is None or (end is not None and end <= outer.valid_to)


def check_unit(values: dict, unit_id: int | None, old_start: date | None) -> None:
    """Refuse a unit version that would break an invariant of the tree.

    :param values: the would-be column values, with ``unit_type``, ``level`` and ``parent``.
    :param unit_id: the version being changed, None for a new one.
    :param old_start: its current ``valid_from`` (an unresearched start may stay).
    :raise FieldError: on the first problem found.
    """
    _check_text(values)
    _check_dates(values, old_start)
    _check_type(values)
    _check_overlap(values, unit_id)
    _check_parent(values, unit_id)
    if unit_id is not None:
        _check_children(values, unit_id)


def _check_text(values: dict) -> None:
    if not CODE_PATTERN.fullmatch(values["code"] or ""):
        raise FieldError(_("A code has 1 to 20 letters, digits, dots, dashes or "
                           "underscores."), "code")
    if not (values["name"] or "").strip() or len(values["name"]) > 200:
        raise FieldError(_("Give a name of at most 200 characters."), "name")
    if len(values.get("aliases") or "") > 300:
        raise FieldError(_("Other spellings: at most 300 characters."), "aliases")


def _check_dates(values: dict, old_start: date | None) -> None:
    start, end = values["valid_from"], values["valid_to"]
    if start is None or (start == UNKNOWN_START and old_start != UNKNOWN_START):
        raise FieldError(_("Give the date from which the unit is valid."), "valid_from")
    if end is not None and end < start:
        raise FieldError(_("The end date must not be before the start date."), "valid_to")


def _check_type(values: dict) -> None:
    unit_type, level = values["unit_type"], values["level"]
    if unit_type is None:
        raise FieldError(_("Choose a unit type."), "unit_type")
    if unit_type.level_id != level.id:
        raise FieldError(_("A %(type)s is a unit of the level %(type_level)s, not %(level)s.",
                           type=unit_type.name, type_level=unit_type.level.name,
                           level=level.name), "unit_type")
    if not (level.valid_from <= values["valid_from"] and (level.valid_to is None or (
            values["valid_to"] is not None and values["valid_to"] <= level.valid_to))):
        raise FieldError(_("The level %(level)s exists only from %(start)s to %(end)s.",
                           level=level.name, start=show_date(level.valid_from),
                           end=show_date(level.valid_to)), "unit_type")


def _check_overlap(values: dict, unit_id: int | None) -> None:
    start, end = values["valid_from"], values["valid_to"] or END_OF_TIME
    other = db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.code == values["code"], AdminUnit.id != (unit_id or 0),
        AdminUnit.valid_from <= end,
        sa.func.coalesce(AdminUnit.valid_to, END_OF_TIME) >= start).limit(1))
    if other is not None:
        raise FieldError(_(
            "Code %(code)s already belongs to %(name)s from %(start)s to %(end)s: the dates of "
            "one code must not overlap.", code=other.code, name=other.name,
            start=show_date(other.valid_from), end=show_date(other.valid_to)), "valid_from")


def _check_parent(values: dict, unit_id: int | None) -> None:
    parent, level = values["parent"], values["level"]
    if parent is None:
        if level.rank > 1:
            raise FieldError(_("A unit of the level %(level)s needs a parent unit.",
                               level=level.name), "parent_code")
        return
    node = parent if unit_id is not None else None  # a new unit has nothing below it
    for _depth in range(MAX_DEPTH):
        if node is None:
            break
        if node.id == unit_id:
            raise FieldError(_("%(parent)s is below this unit: a unit cannot be placed "
                               "under itself.", parent=parent.name), "parent_code")
        node = node.parent
    if parent.level.rank >= level.rank:
        raise FieldError(_("A unit of the level %(level)s cannot be placed under %(parent)s "
                           "(level %(parent_level)s).", level=level.name, parent=parent.name,
                           parent_level=parent.level.name), "parent_code")
    if not covers(parent, values["valid_from"], values["valid_to"]):
        raise FieldError(_(
            "The parent %(parent)s exists only from %(start)s to %(end)s; the unit's dates must "
            "lie within them.", parent=parent.name, start=show_date(parent.valid_from),
            end=show_date(parent.valid_to)), "parent_code")


def _check_children(values: dict, unit_id: int) -> None:
    children = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == unit_id))
    for child in children:
        if not (values["valid_from"] <= child.valid_from and (values["valid_to"] is None or (
                child.valid_to is not None and child.valid_to <= values["valid_to"]))):
            raise FieldError(_(
                "%(child)s (under this unit) is valid from %(start)s to %(end)s: close or move "
                "it first.", child=child.name, start=show_date(child.valid_from),
                end=show_date(child.valid_to)), "valid_to")
        if child.level.rank <= values["level"].rank:
            raise FieldError(_("%(child)s (under this unit) is not at a lower level.",
                               child=child.name), "unit_type")


def check_link(kind: str, source: AdminUnit | None, target: AdminUnit | None,
               effective_date: date | None, share: Decimal | None) -> None:
    """Refuse a lineage link that is unknown, circular, mis-dated or wrongly weighted.

    :raise FieldError: on the first problem found.
    """
    if kind not in LINEAGE_KINDS:
        raise FieldError(_("Choose merge, split, rename or transfer."), "kind")
    if source is None:
        raise FieldError(_("The earlier unit does not exist."), "from_unit")
    if target is None:
        raise FieldError(_("The later unit does not exist on that date."), "to_unit")
    if source.id == target.id:
        raise FieldError(_("A unit cannot follow itself."), "to_unit")
    _check_share(kind, source, share)
    _check_link_dates(source, target, effective_date)
    _check_link_graph(source, target)


def _check_share(kind: str, source: AdminUnit, share: Decimal | None) -> None:
    if kind != "split":
        if share is not None:
            raise FieldError(_("Only a split has a share: a merge, rename or transfer passes "
                               "on the whole unit."), "share")
        return
    if share is None or not (0 < share <= 1):
        raise FieldError(_("The share must be more than 0 and at most 1."), "share")
    taken = db.session.scalar(sa.select(sa.func.sum(UnitLineage.share)).where(
        UnitLineage.from_unit_id == source.id, UnitLineage.kind == "split")) or Decimal(0)
    if taken + share > 1:
        raise FieldError(_("The shares of %(unit)s would add up to more than 1 "
                           "(%(taken)s already given).", unit=source.name, taken=taken),
                         "share")


def _check_link_dates(source: AdminUnit, target: AdminUnit, day: date | None) -> None:
    if day is None:
        raise FieldError(_("Give the date from which the change applies."), "effective_date")
    if not source.valid_on(day - timedelta(days=1)):
        raise FieldError(_("%(unit)s did not exist on the day before %(date)s.",
                           unit=source.name, date=show_date(day)), "effective_date")
    if not target.valid_on(day):
        raise FieldError(_("%(unit)s is not valid on %(date)s.", unit=target.name,
                           date=show_date(day)), "effective_date")


def _check_link_graph(source: AdminUnit, target: AdminUnit) -> None:
    from .queries import predecessors

    exists = db.session.scalar(sa.select(UnitLineage.id).where(
        UnitLineage.from_unit_id == source.id, UnitLineage.to_unit_id == target.id))
    if exists is not None:
        raise FieldError(_("This link is already recorded."), "to_unit")
    if any(step.unit.id == target.id for step in predecessors(source)):
        raise FieldError(_("%(unit)s is already an earlier form of %(source)s: the link "
                           "would go back in time.", unit=target.name, source=source.name),
                         "to_unit")
