"""Reads for review: the inbox of the officer's scope and a version beside last period's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..accounts.scope import subtree_ids
from ..extensions import db
from ..indicators.models import Form, Indicator, Period
from ..submissions import queries as entry_queries
from ..submissions import states
from ..submissions.formbuilder import load_spec
from ..submissions.models import Submission, SubmissionValue, SubmissionVersion

#: Default share of change against last period above which a value is flagged.
CHANGE_THRESHOLD = Decimal("0.5")
#: States a reviewer sees (drafts stay private to the village).
VISIBLE = (states.SUBMITTED, states.RETURNED, states.APPROVED)


def inbox(user, period_id: int | None = None, form_id: int | None = None,
          state: str | None = None) -> sa.Select:
    """Submissions of the villages in ``user``'s scope, newest first, filtered."""
    query = sa.select(Submission).where(Submission.state.in_(VISIBLE))
    if user.unit_id is not None:
        query = query.where(Submission.unit_id.in_(subtree_ids(user.unit_id)))
    if period_id:
        query = query.where(Submission.period_id == period_id)
    if form_id:
        query = query.where(Submission.form_id == form_id)
    if state in VISIBLE:
        query = query.where(Submission.state == state)
    return query.order_by(Submission.updated_at.desc(), Submission.id.desc())


def filter_choices() -> tuple[list[Period], list[Form]]:
    """The periods and forms to filter by."""
    periods = db.session.scalars(sa.select(Period).order_by(Period.start_date.desc(),
                                                            Period.code))
    forms = db.session.scalars(sa.select(Form).order_by(Form.code))
    return list(periods), list(forms)


def by_key(key) -> Submission | None:
    """The submission with this client UUID, freshly read; None for a malformed one."""
    try:
        key = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
    except ValueError:
        return None
    return db.session.scalar(sa.select(Submission).where(Submission.client_uuid == key)
                             .execution_options(populate_existing=True)
                             .order_by(Submission.id).limit(1))


@dataclass
class Row:
    """One value of the reviewed version beside last period's."""

    indicator: Indicator
    key: str
    value: object
    previous: object
    big_change: bool


@dataclass
class Review:
    rows: list[Row]
    previous_approved: bool
    violations: list[tuple[str, bool]]  # (message, is an error)

    @property
    def clean(self) -> bool:
        return not self.violations and not any(r.big_change for r in self.rows)


def _threshold() -> Decimal:
    return Decimal(str(current_app.config.get("DANTOC_REVIEW_CHANGE", CHANGE_THRESHOLD)))


def big_change(value, previous, threshold: Decimal) -> bool:
    """Whether a number moved by more than ``threshold`` (a share) against last period."""
    numbers = [v for v in (value, previous) if isinstance(v, Decimal)]
    if len(numbers) < 2:
        return False
    if previous == 0:
        return value != 0
    return abs(value - previous) / abs(previous) > threshold


def _values(version: SubmissionVersion) -> list[tuple[Indicator, SubmissionValue]]:
    return list(db.session.execute(
        sa.select(Indicator, SubmissionValue).join(SubmissionValue.indicator)
        .where(SubmissionValue.version_id == version.id)
        .order_by(Indicator.code, SubmissionValue.disaggregation)).tuples())


def _violations(submission: Submission, rows: list[Row]) -> list[tuple[str, bool]]:
    """The form's cross-field rules that the stored values break (grids count as sums)."""
    values: dict[str, object] = {}
    for row in rows:
        code = row.indicator.code
        if row.key and isinstance(row.value, Decimal):
            values[code] = values.get(code, Decimal(0)) + row.value
        elif not row.key:
            values[code] = row.value
    spec = load_spec(submission.form_version)
    return [(rule.message, rule.severity == "error") for rule, parsed in spec.rules
            if parsed.evaluate(values) is False]


def review(submission: Submission, version: SubmissionVersion) -> Review:
    """Each value of ``version`` with last period's, big changes and rule violations."""
    previous = entry_queries.previous_values(submission.form, submission.unit,
                                             submission.period)
    threshold = _threshold()
    rows = []
    for indicator, cell in _values(version):
        before = previous.values.get((indicator.code, cell.disaggregation))
        rows.append(Row(indicator, cell.disaggregation, cell.value, before,
                        big_change(cell.value, before, threshold)))
    return Review(rows, previous.approved, _violations(submission, rows))
