"""Who acts in the approval workflows: a record's owner, or an officer of a level above it.

Every rule uses the same two facts about the actor, computed in :mod:`dantoc.accounts.scope`:
whether their scope unit is *above* the record's unit (a strict ancestor on the tree; the
unscoped administrator is above every unit) and their verb (``submission.approve`` for
every decision, ``submission.create`` for a village's own data; no verb is added).

**Village reports** (:mod:`dantoc.submissions`). The village head owns them. The commune
decides: its officers approve, return and un-approve. Levels above the commune (the
province; a district before the 2025 reform; the unscoped administrator) see only what the
commune approved, as DHIS2's "hide unapproved data" does, unless
``REVIEW_HIGHER_LEVELS_SEE_PENDING`` is on; they never decide on a village report
themselves (they decide on the commune's report).

**Unit reports** (:mod:`dantoc.reports`). The unit's own officers submit (their scope unit
is the report's unit or one it went into through a merge). An officer *above* the unit
submits on its behalf only when its level no longer exists (a district report of a period
before 2025-07-01). Any officer above the unit decides (approve, return, reopen: the level
above, or the province for a district that has no officers), never on a report they
submitted themselves (four eyes).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from .. import clock
from ..accounts.permissions import can
from ..accounts.scope import is_above
from ..catalogs.models import AdminUnit

#: The verb of every decision in both workflows.
DECIDE = "submission.approve"
#: Levels whose officers are above the commune (district only exists before 2025-07-01).
ABOVE_COMMUNE = ("province", "district")


# Village reports ---------------------------------------------------------------------------

def above_communes(user: Any) -> bool:
    """Whether ``user``'s scope is above the commune level (no scope unit: above all)."""
    unit = user.unit
    return unit is None or unit.level.code in ABOVE_COMMUNE


def sees_pending(user: Any) -> bool:
    """Whether ``user`` sees village reports the commune has not approved yet."""
    return (not above_communes(user)
            or bool(current_app.config.get("REVIEW_HIGHER_LEVELS_SEE_PENDING")))


def sees_village_report(user: Any, approved: bool) -> bool:
    """Whether a village report in that state is shown to ``user`` (scope apart)."""
    return approved or sees_pending(user)


def decides_village_reports(user: Any) -> bool:
    """Whether ``user`` approves, returns and un-approves village reports at all."""
    return can(user, DECIDE) and not above_communes(user)


def decides_village_report(user: Any, submission: Any) -> bool:
    """Whether ``user`` may decide on this village report (verb, scope and level)."""
    return decides_village_reports(user) and can(user, DECIDE, submission)


# Unit reports ------------------------------------------------------------------------------

def level_abolished(unit: AdminUnit) -> bool:
    """True when the unit's level no longer exists today (districts since 2025-07-01)."""
    valid_to = unit.level.valid_to
    return valid_to is not None and valid_to < clock.today()


def submits_unit_report(user: Any, unit: AdminUnit) -> bool:
    """Whether ``user`` may submit the report of ``unit`` (its owner, see above)."""
    if not can(user, DECIDE, unit):
        return False
    return not is_above(user, unit) or level_abolished(unit)


def decides_unit_report(user: Any, unit: AdminUnit) -> bool:
    """Whether ``user`` may approve, return or reopen the report of ``unit`` (scope and
    level; the four-eyes rule is :func:`own_submission`)."""
    return can(user, DECIDE, unit) and is_above(user, unit)


def own_submission(user: Any, report: Any) -> bool:
    """True when ``user`` submitted ``report`` (they cannot also decide on it)."""
    return report.submitted_by_id is not None and report.submitted_by_id == user.id
