"""Submissions: one logical submission per form, unit and period; every version kept.

A :class:`Submission` is created the first time a village head saves or submits a form.
Its ``client_uuid`` is generated when the form is opened (ODK ``instanceID``) and is both
the natural key and the idempotency key: ``UNIQUE (form_id, client_uuid)``.

There is exactly one logical submission per form, unit and period (``UNIQUE (form_id,
unit_id, period_id)``), whatever the form *version*: corrections after a return are new
:class:`SubmissionVersion` rows of the same submission, never a second submission. The
state set has no "discarded" state, so the constraint needs no partial index; a second
device that opened the same form before the first save gets a clear 409, not a duplicate.

Drafts are the one unsubmitted version on top of the current one (``number =
current_version + 1``, ``submitted_at`` NULL); they keep the raw typed text in
``payload`` so invalid input can be shown again. Typed values (:class:`SubmissionValue`)
are written for submitted versions only.

A reviewer who returns a report may comment field by field (:class:`FieldComment`): the
comment belongs to the *submitted version* returned; the village head reads it beside the
field while correcting, the reviewer of the next version beside the diff. Comments are
written with the return, in the same transaction as its audit row, and never changed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..accounts.models import User
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators.models import Form, FormVersion, Indicator, Period
from .states import RETURNED, SOURCES, STATES, VILLAGE

#: Crockford's base 32: digits and letters without I, L, O and U.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def receipt_code(key: uuid.UUID) -> str:
    """Eight characters of ``key`` (40 bits), grouped by four for reading aloud."""
    bits = key.int >> 88
    chars = "".join(RECEIPT_ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"{chars[:4]}-{chars[4:]}"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Submission(db.Model):
    """The logical submission of one form for one unit and one period."""

    __tablename__ = "submissions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Created by the phone when the form is opened; the idempotency key of every send.
    client_uuid: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid)
    #: No index of its own: the first column of both unique constraints (migration 0029).
    form_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("forms.id"))
    #: The form version the submission was opened with; its versions keep that meaning. Not
    #: indexed: no query selects by it, and form versions are never deleted (0029).
    form_version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("form_versions.id"))
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    period_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("periods.id"), index=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(10))
    #: Number of the latest *submitted* version; 0 while only a draft exists.
    current_version: so.Mapped[int] = so.mapped_column(default=0)
    #: The reason given with the last return (shown to the village head).
    state_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: Not indexed: no query selects by it, and users are never deleted (0029).
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    updated_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)

    form: so.Mapped[Form] = so.relationship()
    form_version: so.Mapped[FormVersion] = so.relationship()
    unit: so.Mapped[AdminUnit] = so.relationship()
    period: so.Mapped[Period] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship()
    versions: so.Mapped[list[SubmissionVersion]] = so.relationship(
        back_populates="submission", order_by="SubmissionVersion.number",
        cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("form_id", "client_uuid", name="uq_submissions_form_uuid"),
        sa.UniqueConstraint("form_id", "unit_id", "period_id", name="uq_submissions_one_per_unit"),
        sa.CheckConstraint(_in("state", STATES), name="state"),
        sa.CheckConstraint("current_version >= 0", name="version_positive"),
        sa.CheckConstraint("(state = 'draft') = (current_version = 0)",
                           name="draft_iff_never_submitted"),
        sa.CheckConstraint(f"state <> '{RETURNED}' OR state_reason IS NOT NULL",
                           name="returned_has_reason"),
        # Receipt, review and idempotent resends look up the UUID alone (migration 0010).
        sa.Index("ix_submissions_client_uuid", "client_uuid"),
        # The inbox, newest change first, read in index order (migration 0010).
        sa.Index("ix_submissions_updated", "updated_at", "id"),
    )

    def version(self, number: int) -> SubmissionVersion | None:
        return next((v for v in self.versions if v.number == number), None)

    @property
    def receipt_code(self) -> str:
        """The receipt read out over the phone (issue #14): ``7K2M-Q9XD``, the first 40 bits
        of the UUID in Crockford's base 32 (no I, L, O or U to mistake). The UUID stays
        the key; the code only names the report in a conversation."""
        return receipt_code(self.client_uuid)


class SubmissionVersion(db.Model):
    """One version of a submission's content; submitted versions are never changed."""

    __tablename__ = "submission_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Indexed as the first column of ``uq_submission_versions_number`` (migration 0029).
    submission_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"))
    number: so.Mapped[int] = so.mapped_column()
    #: The version this one edits (ODK ``deprecatedID``): 0 for the first.
    base_version: so.Mapped[int] = so.mapped_column()
    #: SHA-256 of the canonical content; set when submitted, compared on every resend.
    content_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    #: The raw field text as typed, so a draft with invalid input can be shown again.
    payload: so.Mapped[dict] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    updated_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    submitted_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    submitted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    #: Who typed it in: the village, the commune on its behalf, or a file (states.SOURCES).
    source: so.Mapped[str] = so.mapped_column(sa.String(10), default=VILLAGE,
                                              server_default=VILLAGE)

    submission: so.Mapped[Submission] = so.relationship(back_populates="versions")
    submitted_by: so.Mapped[User | None] = so.relationship()
    values: so.Mapped[list[SubmissionValue]] = so.relationship(
        back_populates="version", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("submission_id", "number", name="uq_submission_versions_number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.CheckConstraint("base_version >= 0 AND base_version < number", name="base_before"),
        sa.CheckConstraint("submitted_at IS NULL OR content_hash IS NOT NULL",
                           name="submitted_has_hash"),
        sa.CheckConstraint(_in("source", SOURCES), name="source"),
    )


_ONE_VALUE = " + ".join(f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)"
                        for c in ("value_numeric", "value_text", "value_bool")) + " = 1"


class SubmissionValue(db.Model):
    """One typed value of a submitted version, per indicator and disaggregation."""

    __tablename__ = "submission_values"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Indexed as the first column of ``uq_submission_values_cell`` (migration 0029).
    version_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("submission_versions.id", ondelete="CASCADE"))
    indicator_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("indicators.id"), index=True)
    #: "ethnic_group=03;sex=female" (parts sorted by disaggregation code); "" for a total.
    disaggregation: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    value_numeric: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(18, 4))
    value_text: so.Mapped[str | None] = so.mapped_column(sa.Text)
    value_bool: so.Mapped[bool | None] = so.mapped_column(sa.Boolean)

    version: so.Mapped[SubmissionVersion] = so.relationship(back_populates="values")
    indicator: so.Mapped[Indicator] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("version_id", "indicator_id", "disaggregation",
                            name="uq_submission_values_cell"),
        sa.CheckConstraint(_ONE_VALUE, name="exactly_one_value"),
    )

    @property
    def value(self) -> Decimal | str | bool | None:
        if self.value_numeric is not None:
            return self.value_numeric
        return self.value_bool if self.value_bool is not None else self.value_text


class CommuneRollup(db.Model):
    """The approved village values of one commune, period, indicator and disaggregation key,
    rolled up: how many values, their sum, bounds and yes answers (:mod:`.rollups`,
    migration 0026). Only numbers and yes/no answers are rolled up (choices and texts are
    not aggregated by the lookup).

    "Commune" is the parent of the unit that submitted (the bucket of the lookup's province
    table): an old village's rows stay on its old commune, which re-basing maps onto today's
    communes. The rows change with every approval and un-approval, in the same transaction
    (``services.transition``), and can be rebuilt from the raw values at any time
    (``flask rollups rebuild``)."""

    __tablename__ = "commune_rollups"

    period_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("periods.id"), primary_key=True)
    commune_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("admin_units.id"),
                                                  primary_key=True)
    indicator_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("indicators.id"),
                                                    primary_key=True)
    disaggregation: so.Mapped[str] = so.mapped_column(sa.String(200), primary_key=True)
    #: Values counted (one per approved village submission that has the cell).
    villages: so.Mapped[int] = so.mapped_column()
    #: Sum, minimum and maximum of the numbers (None for yes/no answers).
    total: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(24, 4))
    low: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(18, 4))
    high: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(18, 4))
    #: Yes answers (yes/no; 0 for numbers).
    yes: so.Mapped[int] = so.mapped_column()

    __table_args__ = (
        sa.CheckConstraint("villages >= 1", name="villages_positive"),
        sa.CheckConstraint("yes >= 0 AND yes <= villages", name="yes_counted"),
        sa.CheckConstraint("(total IS NULL) = (low IS NULL) AND (low IS NULL) = (high IS NULL)",
                           name="bounds_with_total"),
        sa.CheckConstraint("low <= high", name="low_not_above_high"),
    )


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
