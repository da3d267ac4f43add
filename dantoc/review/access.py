"""Who sees and who decides what in review.

The commune reviews its villages: its officers see every submitted report and approve,
return or un-approve it. Levels above the commune (province, district before the 2025
reform, an unscoped administrator) see only what the commune approved, as DHIS2's "hide
unapproved data" setting does, unless ``REVIEW_HIGHER_LEVELS_SEE_PENDING`` is on; they never
decide on a village report themselves (they approve the commune's report).
"""

from __future__ import annotations

from flask import current_app

from ..accounts.permissions import can
from ..submissions import states

#: Levels whose officers are "above the commune" (district only exists before 2025-07-01).
HIGHER_LEVELS = ("province", "district")


def above_commune(user) -> bool:
    """Whether ``user``'s scope unit is above the commune level (no unit: above all)."""
    unit = user.unit
    return unit is None or unit.level.code in HIGHER_LEVELS


def sees_pending(user) -> bool:
    """Whether ``user`` sees village reports that are not approved yet."""
    return (not above_commune(user)
            or bool(current_app.config.get("REVIEW_HIGHER_LEVELS_SEE_PENDING")))


def visible(user, submission) -> bool:
    """Whether the report is shown to ``user`` (scope is checked separately)."""
    return submission.state == states.APPROVED or sees_pending(user)


def decides(user) -> bool:
    """Whether ``user`` approves, returns and un-approves village reports at all."""
    return can(user, "submission.approve") and not above_commune(user)


def may_decide(user, submission) -> bool:
    """Whether ``user`` may approve, return or un-approve this report (verb, scope, level)."""
    return decides(user) and can(user, "submission.approve", submission)
