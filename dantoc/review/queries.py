"""Reads for review: the inbox of the officer's scope and a version beside last period's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, g

from ..accounts.scope import subtree
from ..audit.models import AuditEvent
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators import visibility
from ..indicators.models import Form, Indicator, Period
from ..submissions import comments, labels, services, states
from ..submissions import queries as entry_queries
from ..submissions.formbuilder import FormSpec, load_spec
from ..submissions.models import (
    FieldComment,
    Submission,
    SubmissionValue,
    SubmissionVersion,
)
from ..workflow import actors

#: Default share of change against last period above which a value is flagged.
CHANGE_THRESHOLD = Decimal("0.5")
#: States a reviewer sees (drafts stay private to the village).
VISIBLE = (states.SUBMITTED, states.RETURNED, states.APPROVED)


def inbox(user, period_id: int | None = None, form_id: int | None = None,
          state: str | None = None, village: str | None = None) -> sa.Select:
    """Submissions of the villages in ``user``'s scope, newest first, filtered; ``village``
    is part of the village's name, in any case ("pá hỏm" finds "Bản Pá Hỏm")."""
    query = (sa.select(Submission).where(Submission.state.in_(VISIBLE))
             .options(so.joinedload(Submission.unit), so.joinedload(Submission.period),
                      so.joinedload(Submission.form)))
    if village:
        query = query.where(Submission.unit_id.in_(
            sa.select(AdminUnit.id).where(name_contains(AdminUnit.name, village))))
    if user.unit_id is not None:
        query = query.where(Submission.unit_id.in_(subtree(user.unit_id)))
    if not actors.sees_pending(user):  # levels above the commune: approved data only
        query = query.where(Submission.state == states.APPROVED)
    if period_id:
        query = query.where(Submission.period_id == period_id)
    if form_id:
        query = query.where(Submission.form_id == form_id)
    if state in VISIBLE:
        query = query.where(Submission.state == state)
    return query.order_by(Submission.updated_at.desc(), Submission.id.desc())


def next_waiting(user, after: Submission) -> Submission | None:
    """The next report waiting for ``user``'s decision in the inbox's order (other than
    ``after``): where "next report" leads once one is approved or returned."""
    query = inbox(user, state=states.SUBMITTED).where(Submission.id != after.id)
    return db.session.scalar(query.limit(1))


def name_contains(column, text: str):
    """``column`` contains ``text`` whatever its case, also on SQLite (whose lower() leaves
    "Đ" or "Ả" alone): as typed, in lower case, capitalised, in title case."""
    text = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    spellings = {text, text.lower(), text.capitalize(), text.title()}
    return sa.or_(sa.func.lower(column).like(f"%{text.lower()}%", escape="\\"),
                  *(column.like(f"%{s}%", escape="\\") for s in sorted(spellings)))


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
    #: The breakdown in words ("Thái – Nữ"); "" for a scalar.
    label: str = ""


@dataclass
class Review:
    rows: list[Row]
    previous_approved: bool
    violations: list[tuple[str, bool]]  # (message, is an error)
    #: The indicators the reviewer sees (:mod:`dantoc.indicators.visibility`); None: all.
    visible: frozenset[int] | None = None

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


def _values(version: SubmissionVersion,
            indicators: sa.Select | None = None) -> list[tuple[Indicator, SubmissionValue]]:
    """The values of ``version`` (of ``indicators`` only, a department's: a subquery)."""
    return list(db.session.execute(
        sa.select(Indicator, SubmissionValue).join(SubmissionValue.indicator)
        .where(SubmissionValue.version_id == version.id,
               visibility.restrict(SubmissionValue.indicator_id, indicators))
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
    spec = spec_of(submission)
    return [(rule.message, rule.severity == "error") for rule, parsed in spec.rules
            if parsed.evaluate(values) is False]


def spec_of(submission: Submission) -> FormSpec:
    """The form definition of a submission, read once per request."""
    cache = g.setdefault("_review_specs", {})
    if submission.form_version_id not in cache:
        cache[submission.form_version_id] = load_spec(submission.form_version)
    return cache[submission.form_version_id]


def _label(indicator: Indicator, key: str) -> str:
    return labels.breakdown(indicator, key)


def review(submission: Submission, version: SubmissionVersion, user=None) -> Review:
    """Each value of ``version`` with last period's, big changes and rule violations; with
    ``user``, only the indicators they see (a rule over a hidden value is not evaluated)."""
    previous = entry_queries.previous_values(submission.form, submission.unit,
                                             submission.period)
    threshold = _threshold()
    spec = spec_of(submission)
    rows = []
    for indicator, cell in _values(version, visibility.visible_indicators(user)):
        before = previous.values.get((indicator.code, cell.disaggregation))
        rows.append(Row(indicator, cell.disaggregation, cell.value, before,
                        big_change(cell.value, before, threshold),
                        _label(indicator, cell.disaggregation)))
    order = {item.indicator.id: n for n, item in enumerate(spec.items)}
    rows.sort(key=lambda r: (order.get(r.indicator.id, len(order)), r.key))
    return Review(rows, previous.approved, _violations(submission, rows),
                  visibility.visible_ids(user))


@dataclass
class Target:
    """A field the reviewer may comment on: a scalar, a whole grid ("") or a grid cell."""

    indicator: Indicator
    key: str
    label: str

    @property
    def name(self) -> str:
        """The form field name: ``c<indicator id>`` or ``c<indicator id>:<cell key>``."""
        return f"c{self.indicator.id}" + (f":{self.key}" if self.key else "")


def comment_targets(submission: Submission, review_: Review) -> list[Target]:
    """Every indicator of the form (a grid as a whole), then each answered grid cell
    under its grid, in form order."""
    spec = spec_of(submission)
    cells: dict[int, list[Row]] = {}
    for row in review_.rows:
        if row.key:
            cells.setdefault(row.indicator.id, []).append(row)
    targets = []
    for item in spec.items:
        if not visibility.shown(review_.visible, item.indicator.id):
            continue
        targets.append(Target(item.indicator, "", ""))
        targets += [Target(r.indicator, r.key, r.label) for r in cells.get(item.indicator.id,
                                                                             [])]
    return targets


@dataclass
class Line:
    """One line of the review page: a field, its value beside last period's (None for a
    field left empty) and the comment box beside it (None when the page cannot return)."""

    target: Target
    row: Row | None
    field: object | None
    #: The line of a grid as a whole (its cells follow): a comment box, no value.
    whole_grid: bool = False


def lines(submission: Submission, review_: Review, targets: list[Target],
          form=None) -> list[Line]:
    """The review page's lines, in form order: each field with its value and, when the
    officer may return the report (``form``: the return form), its comment box beside it."""
    rows = {(r.indicator.id, r.key): r for r in review_.rows}
    grids = {item.indicator.id for item in spec_of(submission).items if item.grid}
    return [Line(t, rows.get((t.indicator.id, t.key)),
                 form[t.name] if form is not None else None,
                 not t.key and t.indicator.id in grids)
            for t in targets]


@dataclass
class Change:
    """A value that differs between the previous submitted version and this one."""

    indicator: Indicator
    key: str
    label: str
    old: object
    new: object


@dataclass
class History:
    """What the reviewer of a correction needs: the changes, and what was asked for."""

    number: int  # the previous version's number
    changes: list[Change]
    comments: list[tuple[str, FieldComment]]
    reason: str | None


def _by_field(version: SubmissionVersion, indicators: sa.Select | None = None,
              ) -> dict[tuple[int, str], tuple[Indicator, object]]:
    return {(indicator.id, cell.disaggregation): (indicator, cell.value)
            for indicator, cell in _values(version, indicators)}


def changes(submission: Submission, old: SubmissionVersion,
            new: SubmissionVersion, user=None) -> list[Change]:
    """The fields whose value differs (added, removed or changed), in form order (of the
    indicators ``user`` sees, when given)."""
    spec = spec_of(submission)
    order = {item.indicator.id: n for n, item in enumerate(spec.items)}
    indicators = visibility.visible_indicators(user)
    before, after = _by_field(old, indicators), _by_field(new, indicators)
    result = []
    for field in sorted(set(before) | set(after), key=lambda f: (order.get(f[0], 1 << 30),
                                                                   f[1])):
        was, now = before.get(field), after.get(field)
        if was is None or now is None or was[1] != now[1]:
            indicator = (now or was)[0]
            result.append(Change(indicator, field[1], _label(indicator, field[1]),
                                 was and was[1], now and now[1]))
    return result


def _return_reason(submission: Submission, number: int) -> str | None:
    """The reason the version ``number`` was returned with (kept in the audit trail)."""
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "submission.return",
                                    AuditEvent.object_type == Submission.__tablename__,
                                    AuditEvent.object_id == str(submission.id))
        .order_by(AuditEvent.id.desc()))
    for event in events:
        if (event.after or {}).get("version") == number:
            return (event.after or {}).get("reason")
    return None


def history(submission: Submission, version: SubmissionVersion,
            user=None) -> History | None:
    """The diff against the previous submitted version and its comments; None for v1."""
    number = version.base_version
    previous = services.version_of(submission, number) if number else None
    if previous is None or previous.submitted_at is None:
        return None
    ids = visibility.visible_ids(user)
    notes = comments.labelled(submission, [c for c in comments.on_version(submission.id, number)
                                           if visibility.shown(ids, c.indicator_id)])
    return History(number, changes(submission, previous, version, user), notes,
                   _return_reason(submission, number))
