"""Reading the reviewer's per-field comments on a returned version: the village head reads
them on the form, home and receipt; the reviewer of the correction beside the diff.

They live with the submissions (not in review) because the village's own pages show them.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from ..i18n.content import tr
from . import states
from .formbuilder import cell_label, load_spec
from .models import FieldComment


def on_version(submission_id: int, number: int) -> list[FieldComment]:
    """The comments made on version ``number`` of a submission, in the order written."""
    if not number:
        return []
    return list(db.session.scalars(
        sa.select(FieldComment).where(FieldComment.submission_id == submission_id,
                                      FieldComment.version_number == number)
        .options(so.joinedload(FieldComment.indicator)).order_by(FieldComment.id)))


def for_village(submission) -> list[FieldComment]:
    """What the village head must read: the comments on the returned version, while the
    report is with them (none once it is resubmitted)."""
    if submission is None or submission.state != states.RETURNED:
        return []
    return on_version(submission.id, submission.current_version)


def labelled(submission, comments: list[FieldComment]) -> list[tuple[str, FieldComment]]:
    """Each comment with its field in words: "Population (Thái – Nữ)"."""
    if not comments:
        return []
    items = {item.indicator.id: item for item in load_spec(submission.form_version).items}
    result = []
    for comment in comments:
        label = tr(comment.indicator, "name")
        item = items.get(comment.indicator_id)
        if comment.disaggregation and item is not None:
            label = f"{label} ({cell_label(item, comment.disaggregation)})"
        result.append((label, comment))
    return result


def for_village_labelled(submission) -> list[tuple[str, FieldComment]]:
    """:func:`for_village` with field names, for the village head's home and receipt."""
    return labelled(submission, for_village(submission)) if submission is not None else []
