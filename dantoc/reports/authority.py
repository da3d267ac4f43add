"""Who may submit a unit report and who may decide on it, with the verbs that exist already.

Both use ``submission.approve`` in scope (no new verb or role). What separates them is where
the actor's scope unit sits relative to the report's unit:

- **submit**: the unit's own officers (their scope unit is the report's unit, or a unit it
  went into through a merge: the officer of today's commune answers for the old communes
  merged into it). An officer *above* the unit may submit on its behalf only when its level
  no longer exists (a district report of a period before 2025-07-01: districts have no
  officers any more).
- **decide** (approve, return, reopen): an officer whose scope unit is a strict ancestor of
  the report's unit on the tree of the period (the level above, or any level above it: the
  province decides for a district that has no officers). A commune officer never decides
  on their own commune's report, and nobody decides on a report they submitted themselves.
"""

from __future__ import annotations

from .. import clock
from ..accounts.permissions import UNSCOPED_ROLE, can
from ..accounts.scope import ancestors
from ..catalogs.models import AdminUnit

VERB = "submission.approve"


def is_above(user, unit: AdminUnit) -> bool:
    """True when the user's scope unit is a strict ancestor of ``unit``."""
    if user.unit_id is None:
        return user.role_code == UNSCOPED_ROLE
    return any(node.id == user.unit_id for node in list(ancestors(unit))[1:])


def level_abolished(unit: AdminUnit) -> bool:
    """True when the unit's level no longer exists today (districts since 2025-07-01)."""
    valid_to = unit.level.valid_to
    return valid_to is not None and valid_to < clock.today()


def may_submit(user, unit: AdminUnit) -> bool:
    """Whether ``user`` may submit the report of ``unit`` (see the module docstring)."""
    if not can(user, VERB, unit):
        return False
    return not is_above(user, unit) or level_abolished(unit)


def may_decide(user, unit: AdminUnit) -> bool:
    """Whether ``user`` may approve, return or reopen the report of ``unit`` (scope and level
    only; the four-eyes rule is :func:`own_submission`)."""
    return can(user, VERB, unit) and is_above(user, unit)


def own_submission(user, report) -> bool:
    """True when ``user`` submitted ``report`` (they cannot also decide on it)."""
    return report.submitted_by_id is not None and report.submitted_by_id == user.id
