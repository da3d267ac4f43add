"""Reads of the dated unit catalog, shared by the views, the reports and the API.

Every question about the tree is asked *on a date*: the answer on 2025-06-30 (province →
district → commune) differs from the answer on 2025-07-01 (province → commune).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .models import AdminLevel, AdminUnit, UnitLineage, UnitType, fold

#: Lineage chains are short (a few reforms); the limit only guards against bad data.
MAX_LINEAGE_DEPTH = 50


def valid_on(day: date) -> sa.ColumnElement[bool]:
    """SQL condition: the unit version is valid on ``day`` (both ends inclusive)."""
    return sa.and_(AdminUnit.valid_from <= day,
                   sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= day))


def units_query(*, on: date | None = None, level: str | None = None,
                parent: AdminUnit | None = None, q: str | None = None) -> sa.Select:
    """Unit versions, optionally valid on a date, at a level, under a parent, matching text.

    The text matches code, name and aliases, ignoring case and diacritics ("doan ket"
    finds "Phường Đoàn Kết"); every word must match.
    """
    stmt = sa.select(AdminUnit).join(AdminUnit.level).options(
        so.contains_eager(AdminUnit.level), so.joinedload(AdminUnit.unit_type),
        so.joinedload(AdminUnit.parent))
    if on is not None:
        stmt = stmt.where(valid_on(on))
    if level:
        stmt = stmt.where(AdminLevel.code == level)
    if parent is not None:
        stmt = stmt.where(AdminUnit.parent_id == parent.id)
    for word in fold(q).split():
        stmt = stmt.where(AdminUnit.search_key.contains(word))
    return stmt.order_by(AdminLevel.rank, AdminUnit.code, AdminUnit.valid_from)


def units_on(day: date, *, level: str | None = None, parent: AdminUnit | None = None,
             q: str | None = None) -> list[AdminUnit]:
    """The unit versions valid on ``day`` (see :func:`units_query`)."""
    return list(db.session.scalars(units_query(on=day, level=level, parent=parent, q=q)))


def resolve(code: str, on_date: date) -> AdminUnit | None:
    """The version of the unit with ``code`` valid on ``on_date``, if any."""
    return db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == code,
                                                        valid_on(on_date)))


def linked(source: AdminUnit, target: AdminUnit) -> bool:
    """Whether a lineage link from ``source`` to ``target`` is recorded already."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(UnitLineage).where(
        UnitLineage.from_unit_id == source.id, UnitLineage.to_unit_id == target.id)) > 0


def versions(code: str) -> list[AdminUnit]:
    """Every version recorded under ``code`` (not necessarily the same unit: codes are reused)."""
    return list(db.session.scalars(sa.select(AdminUnit).where(AdminUnit.code == code)
                                   .order_by(AdminUnit.valid_from)))


def children(unit: AdminUnit, on: date | None = None) -> list[AdminUnit]:
    """The units whose parent is this version, optionally only those valid on ``on``."""
    stmt = sa.select(AdminUnit).where(AdminUnit.parent_id == unit.id)
    if on is not None:
        stmt = stmt.where(valid_on(on))
    return sorted(db.session.scalars(stmt), key=lambda u: (u.valid_from, fold(u.name)))


def levels() -> list[AdminLevel]:
    return list(db.session.scalars(sa.select(AdminLevel).order_by(AdminLevel.rank)))


def unit_types() -> list[UnitType]:
    return list(db.session.scalars(sa.select(UnitType).join(UnitType.level)
                                   .order_by(AdminLevel.rank, UnitType.id)))


def levels_in_use(on_date: date) -> list[AdminLevel]:
    """The levels that have at least one unit on ``on_date``, top down (from the data)."""
    used = sa.select(AdminUnit.level_id).where(valid_on(on_date))
    return list(db.session.scalars(sa.select(AdminLevel).where(AdminLevel.id.in_(used))
                                   .order_by(AdminLevel.rank)))


def counts_by_level(on_date: date) -> list[tuple[AdminLevel, int]]:
    """How many units each level in use has on ``on_date``, top down."""
    rows = db.session.execute(
        sa.select(AdminLevel, sa.func.count(AdminUnit.id)).join(AdminUnit.level)
        .where(valid_on(on_date)).group_by(AdminLevel.id).order_by(AdminLevel.rank))
    return [(level, count) for level, count in rows]


@dataclass
class TreeNode:
    unit: AdminUnit
    children: list[TreeNode] = field(default_factory=list)


def tree_on(day: date) -> list[TreeNode]:
    """The unit tree as it stood on ``day``: the roots, each with its children, by code."""
    units = db.session.scalars(sa.select(AdminUnit).where(valid_on(day)).options(
        so.joinedload(AdminUnit.level), so.joinedload(AdminUnit.unit_type)))
    nodes = {unit.id: TreeNode(unit) for unit in units}
    roots: list[TreeNode] = []
    for node in sorted(nodes.values(), key=lambda n: n.unit.code):
        parent = nodes.get(node.unit.parent_id)
        (parent.children if parent else roots).append(node)
    return roots


# Lineage -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineageStep:
    """One link met while walking the lineage, ``depth`` links away from the start."""

    link: UnitLineage
    unit: AdminUnit
    depth: int


def _walk(unit: AdminUnit, forward: bool) -> list[LineageStep]:
    near, far = ((UnitLineage.from_unit_id, "to_unit") if forward
                 else (UnitLineage.to_unit_id, "from_unit"))
    steps: list[LineageStep] = []
    seen, frontier = {unit.id}, [unit.id]
    for depth in range(1, MAX_LINEAGE_DEPTH + 1):
        if not frontier:
            break
        links = db.session.scalars(sa.select(UnitLineage).where(near.in_(frontier)).options(
            so.joinedload(getattr(UnitLineage, far))).order_by(UnitLineage.effective_date))
        frontier = []
        for link in links:
            other = getattr(link, far)
            steps.append(LineageStep(link, other, depth))
            if other.id not in seen:
                seen.add(other.id)
                frontier.append(other.id)
    return steps


def successors(unit: AdminUnit) -> list[LineageStep]:
    """Every later unit this one went into, transitively, nearest first."""
    return _walk(unit, forward=True)


def predecessors(unit: AdminUnit) -> list[LineageStep]:
    """Every earlier unit that went into this one, transitively, nearest first."""
    return _walk(unit, forward=False)


def successors_on(unit: AdminUnit, day: date) -> list[tuple[AdminUnit, Decimal]]:
    """The units valid on a later ``day`` that this unit went into, with the share of it.

    A merge, rename or transfer passes the whole unit on (share 1); a split passes its share.
    An empty list means the unit had no recorded successor valid on ``day``.
    """
    if unit.valid_on(day):
        return [(unit, Decimal(1))]
    found: dict[int, list] = {}
    frontier = [(unit, Decimal(1))]
    for _depth in range(MAX_LINEAGE_DEPTH):
        if not frontier:
            break
        frontier = _advance(frontier, day, found)
    return [(target, share) for target, share in found.values()]


def _advance(frontier, day: date, found: dict[int, list]):
    shares = {unit.id: share for unit, share in frontier}
    links = db.session.scalars(sa.select(UnitLineage).where(
        UnitLineage.from_unit_id.in_(shares)).options(so.joinedload(UnitLineage.to_unit)))
    following = []
    for link in links:
        share = shares[link.from_unit_id] * (link.share or Decimal(1))
        target = link.to_unit
        if target.valid_on(day):
            entry = found.setdefault(target.id, [target, Decimal(0)])
            entry[1] += share
        elif target.valid_from < day:
            following.append((target, share))
    return following


def successor_on(unit: AdminUnit, day: date) -> AdminUnit | None:
    """The one unit valid on ``day`` that ``unit`` became; None when none or several (split)."""
    found = successors_on(unit, day)
    return found[0][0] if len(found) == 1 else None


def predecessors_on(unit: AdminUnit, day: date) -> list[AdminUnit]:
    """The units valid on an earlier ``day`` that went into ``unit`` (for re-basing back)."""
    if unit.valid_on(day):
        return [unit]
    result = {step.unit.id: step.unit for step in predecessors(unit) if step.unit.valid_on(day)}
    return sorted(result.values(), key=lambda u: u.code)



#: The factor of a re-based figure: a product of split shares (numeric(7, 6) each).
FACTOR = sa.Numeric(12, 6)


def rebase_map(day: date, level: str = "commune") -> sa.Subquery:
    """SQL: every unit version of ``level`` → the unit(s) valid on ``day`` it went into.

    Columns ``origin``, ``target`` (unit ids), ``factor`` (the product of the split shares on
    the way; 1 through merges, renames and transfers) and ``split`` (1 when a split was met,
    so the figure is an estimate). A unit still valid on ``day`` maps to itself with factor 1;
    a unit with no successor valid on ``day`` has no row. One recursive query, joined by the
    caller into its aggregation (the lookup's ``GROUP BY``), whatever the number of villages:
    the figures are re-based per unit, never per village in Python.
    """
    level_id = sa.select(AdminLevel.id).where(AdminLevel.code == level).scalar_subquery()
    start = (sa.select(AdminUnit.id.label("origin"), AdminUnit.id.label("target"),
                       sa.cast(1, FACTOR).label("factor"), sa.literal(0).label("split"),
                       sa.literal(0).label("depth"))
             .where(AdminUnit.level_id == level_id)
             .cte("rebase_walk", recursive=True))
    here = so.aliased(AdminUnit, name="rebase_here")
    step = (sa.select(start.c.origin, UnitLineage.to_unit_id,
                      sa.cast(start.c.factor * sa.func.coalesce(UnitLineage.share, 1), FACTOR),
                      sa.case((UnitLineage.kind == "split", 1), else_=start.c.split),
                      start.c.depth + 1)
            .join(UnitLineage, UnitLineage.from_unit_id == start.c.target)
            .join(here, here.id == start.c.target)
            .where(sa.not_(sa.and_(here.valid_from <= day,
                                   sa.or_(here.valid_to.is_(None), here.valid_to >= day))),
                   start.c.depth < MAX_LINEAGE_DEPTH))
    walk = start.union_all(step)
    target = so.aliased(AdminUnit, name="rebase_target")
    return (sa.select(walk.c.origin, walk.c.target, walk.c.factor, walk.c.split)
            .join(target, target.id == walk.c.target)
            .where(target.valid_from <= day,
                   sa.or_(target.valid_to.is_(None), target.valid_to >= day))
            .subquery("rebase_map"))
