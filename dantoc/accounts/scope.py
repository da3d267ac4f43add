"""A user's scope on the unit tree: their unit's subtree on today's tree, with old units
(before a merge, split or rename) mapped to their current successors through lineage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..catalogs.models import AdminLevel, AdminUnit
from ..catalogs.queries import successors_on
from ..extensions import db

#: The tree is a few levels deep and lineage chains are short; these bound every walk.
MAX_DEPTH = 12
#: A user without a scope unit is unrestricted only in this role (the system administrator).
UNSCOPED_ROLE = "admin"


def unscoped(user: Any) -> bool:
    """True for the system administrator: no scope unit, and the role that needs none."""
    return user.unit_id is None and user.role_code == UNSCOPED_ROLE


def is_above(user: Any, unit: AdminUnit) -> bool:
    """True when ``user``'s scope unit is a strict ancestor of ``unit`` (the unscoped
    administrator is above every unit; another user without a unit is above none)."""
    if user.unit_id is None:
        return unscoped(user)
    return any(node.id == user.unit_id for node in list(ancestors(unit))[1:])


def ancestors(unit: AdminUnit | None) -> Iterator[AdminUnit]:
    """``unit`` and its parents up to the root."""
    node, depth = unit, 0
    while node is not None and depth < MAX_DEPTH:
        yield node
        node, depth = node.parent, depth + 1


def current_successors(unit: AdminUnit, day: date | None = None) -> list[AdminUnit]:
    """The units valid on ``day`` (default today) that ``unit`` became, through lineage."""
    return [successor for successor, _share in successors_on(unit, day or clock.today())]


def unit_in_subtree(root_id: int, unit: AdminUnit | None) -> bool:
    """True when ``unit`` is ``root_id`` or below it, on the tree or through lineage."""
    if any(node.id == root_id for node in ancestors(unit)):  # stops at the first match:
        return True  # a village head's own village loads no parent
    chain = list(ancestors(unit))
    day = clock.today()
    for node in chain:  # an old unit, or one under an old parent: try its successors
        if node.valid_to is not None and node.valid_to < day:
            successors = current_successors(node, day)
            if any(unit_in_subtree(root_id, s) for s in successors):
                return True
    return False


def subtree(*roots: int) -> sa.Select:
    """A subquery of the ids of ``roots`` and every unit version below them, for
    ``column.in_(subtree(...))`` in list queries, so that the statement does not grow with
    the number of villages (no literal list of thousands of ids). ``roots`` are a user's
    unit and, at most, the few units that went into it through lineage.

    The walk down ``parent_id`` is unrolled to one subquery per level below the roots
    (the number of levels is data: :class:`AdminLevel` ranks), not a recursive query:
    the planner estimates "children of this commune" from the column statistics (about
    270 villages) where it cannot see through a recursive query (it then guesses
    thousands of rows and scans whole tables).
    """
    depth = db.session.scalar(sa.select(sa.func.max(AdminLevel.rank) - sa.func.min(
        AdminLevel.rank))) or 0
    levels = [sa.select(AdminUnit.id).where(AdminUnit.id.in_(roots))]
    above = roots
    for _ in range(min(depth, MAX_DEPTH)):
        unit = so.aliased(AdminUnit)  # one alias per level: never correlated to another
        below = sa.select(unit.id).where(unit.parent_id.in_(above))
        levels.append(below)
        above = below
    return sa.select(sa.union_all(*levels).subquery().c.id)
