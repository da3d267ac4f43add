"""Which indicators a person sees: the one place of department scope for figures (issue #11
item 6, "phân quyền đến từng phòng, ban, cán bộ").

An officer whose account names a department (``User.department_id``) sees, in review,
reports, the lookup, dashboards and every export, only the indicators of the groups that
department owns (``IndicatorGroup.department_id``); everyone else sees every indicator. The
answer is a subquery, applied by the callers as a SQL filter (``column.in_(…)``), so that a
statement never carries a list of ids, and a page computes nothing it will not show.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..extensions import db
from .models import Indicator, IndicatorGroup


def department_of(user: Any) -> int | None:
    """The department that limits what ``user`` sees (None: not limited)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "department_id", None)


def visible_groups(user: Any) -> sa.Select | None:
    """The ids of the indicator groups ``user`` sees, as a subquery; None: every group."""
    department_id = department_of(user)
    if department_id is None:
        return None
    return sa.select(IndicatorGroup.id).where(IndicatorGroup.department_id == department_id)


def visible_indicators(user: Any) -> sa.Select | None:
    """The ids of the indicators ``user`` sees, as a subquery; None: every indicator."""
    groups = visible_groups(user)
    if groups is None:
        return None
    return sa.select(Indicator.id).where(Indicator.group_id.in_(groups))


def only_visible(column: Any, user: Any) -> sa.ColumnElement[bool]:
    """A WHERE condition keeping the rows of ``column`` (an indicator id) ``user`` sees."""
    return restrict(column, visible_indicators(user))


def restrict(column: Any, indicators: sa.Select | None) -> sa.ColumnElement[bool]:
    """``column IN (indicators)``, or TRUE when ``indicators`` is None (no limit)."""
    return sa.true() if indicators is None else column.in_(indicators)


def visible_ids(user: Any) -> frozenset[int] | None:
    """The same set, read once, for lists already in memory (a form's items); None: all."""
    indicators = visible_indicators(user)
    return None if indicators is None else frozenset(db.session.scalars(indicators))


def shown(ids: frozenset[int] | None, indicator_id: int) -> bool:
    """Whether ``indicator_id`` is in ``ids`` (from :func:`visible_ids`; None: all are)."""
    return ids is None or indicator_id in ids
