"""Review annotations: per-field comments on a returned version.

A reviewer who returns a report may say, field by field, what to check. A comment belongs
to one *submitted version* (the one returned): the village head reads it beside the field
while correcting, and the reviewer of the next version sees it beside the diff. Comments
are written with the return, in the same transaction as its audit row, and never changed.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..accounts.models import User
from ..extensions import db
from ..indicators.models import Indicator

#: The longest comment on one field (characters).
MAX_COMMENT = 1000


class FieldComment(db.Model):
    """A reviewer's comment on one field of one submitted version."""

    __tablename__ = "field_comments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column()
    #: The version the comment refers to (the returned one), not the correction.
    version_number: so.Mapped[int] = so.mapped_column()
    indicator_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("indicators.id"), index=True)
    #: The grid cell's key ("ethnic_group=03;sex=female"); "" for a scalar or a whole grid.
    disaggregation: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)

    indicator: so.Mapped[Indicator] = so.relationship()
    author: so.Mapped[User] = so.relationship()

    __table_args__ = (
        # The version must exist: (submission, number) is unique in submission_versions.
        sa.ForeignKeyConstraint(
            ["submission_id", "version_number"],
            ["submission_versions.submission_id", "submission_versions.number"],
            ondelete="CASCADE"),
        sa.UniqueConstraint("submission_id", "version_number", "indicator_id",
                            "disaggregation", name="uq_field_comments_field"),
        sa.CheckConstraint("version_number >= 1", name="version_positive"),
        sa.CheckConstraint(f"length(text) BETWEEN 1 AND {MAX_COMMENT}", name="text_length"),
    )
