"""Review writes: a return with per-field comments, in one transaction with its audit row.

Approve and un-approve need nothing beyond :func:`dantoc.submissions.services.transition`;
a return also stores the comments, after the conditional update has succeeded, so a lost
race writes none. Services flush, the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..indicators.models import Indicator
from ..submissions import services
from ..submissions.models import FieldComment, Submission


@dataclass(frozen=True)
class Comment:
    """A comment to store on one field of the returned version."""

    indicator: Indicator
    key: str
    text: str


def give_back(submission: Submission, user, reason: str,
              comments: list[Comment]) -> list[FieldComment]:
    """Return the current version with ``reason`` and the field comments (one audit row,
    whose ``after`` lists the commented fields).

    :raise Refusal: as :func:`~dantoc.submissions.services.transition`.
    """
    fields = [{"indicator": c.indicator.code, "key": c.key} for c in comments]
    services.transition(submission, "return", user, reason=reason,
                        details={"comments": fields})
    rows = [FieldComment(submission_id=submission.id,
                         version_number=submission.current_version,
                         indicator_id=c.indicator.id, disaggregation=c.key, text=c.text,
                         author_id=user.id) for c in comments]
    db.session.add_all(rows)
    db.session.flush()
    return rows
