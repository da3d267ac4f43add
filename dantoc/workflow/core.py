"""One approval-workflow core: transition tables as data, one reason rule, one claim.

The village submissions (:mod:`dantoc.submissions.states`) and the unit reports
(:mod:`dantoc.reports.states`) each declare a :class:`Workflow`: a closed set of states and
a table of :class:`Action` rows. A row says which state each action moves from and to
(ODK ``submissionReviewStates``, DHIS2 ``DataApprovalState``), who takes it (the record's
:data:`OWNER` or an officer of a level :data:`ABOVE` its unit, see :mod:`.actors`), whether
it needs a reason, and which ``*_by_id`` / ``*_at`` columns it stamps. The engine does the
rest the same way for every table (:meth:`Workflow.transition`):

1. the reason rule (:meth:`Workflow.clean_reason`): trimmed; required for the actions that
   need one (``reason_required``); at most :data:`REASON_MAX` characters
   (``reason_too_long``);
2. the version the client acted on must be the current one (``stale``);
3. the action must be allowed from the current state (``invalid_transition``);
4. a lock the domain names stops it (``locked``, with a reason from :class:`Lock`);
5. one conditional update (:meth:`Workflow.claim`): ``UPDATE … WHERE id = :id AND state =
   :state AND <version> = :version``; its row count decides between concurrent requests, so
   of two officers acting on the same version exactly one wins and the other gets ``stale``
   (reliability.md §4.2 rule 11);
6. one audit row, ``<workflow>.<action>``, in the same transaction.

Services flush and audit; views commit. A refusal is a :class:`~dantoc.refusal.Refusal`
with a stable code (docs/errors.md). A new action is a new row: ``FLOW.with_actions(
Action("publish", {APPROVED: PUBLISHED}, ABOVE))`` needs no new code path
(tests/test_workflow.py drives such a table).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..audit import services as audit
from ..extensions import db
from ..refusal import Refusal

#: Who takes an action: the record's own people (the village head, the unit's officers)…
OWNER = "owner"
#: … or an officer of a level above the record's unit (the commune for a village).
ABOVE = "above"
ACTORS = (OWNER, ABOVE)
#: The longest reason a transition keeps (characters).
REASON_MAX = 2000


class Lock(StrEnum):
    """Why the person looking at a record cannot act on it now (DHIS2 ``LockedStates``):
    one vocabulary for every workflow; each domain words the message for its records."""

    NO_AUTHORITY = "no_authority"
    APPROVED = "approved"
    PERIOD_CLOSED = "period_closed"
    PERIOD_NOT_OPEN = "period_not_open"
    AWAITING_DECISION = "awaiting_decision"
    #: With its owner: returned for correction, or never submitted; nothing to decide.
    WITH_OWNER = "with_owner"
    PARENT_UP = "parent_up"
    TOP_LEVEL = "top_level"
    OWN_SUBMISSION = "own_submission"


@dataclass(frozen=True)
class Action:
    """One row of a transition table.

    :param moves: state before → state after; ``None`` before means "no record yet".
    :param actor: :data:`OWNER` or :data:`ABOVE`.
    :param needs_reason: the action is refused without a reason, which the record keeps.
    :param stamps: ``"decided"`` sets ``decided_by_id`` and ``decided_at``; None: nothing.
    """

    name: str
    moves: Mapping[str | None, str]
    actor: str = OWNER
    needs_reason: bool = False
    stamps: str | None = None

    def __post_init__(self) -> None:
        if self.actor not in ACTORS:
            raise ValueError(f"unknown actor {self.actor!r} for {self.name!r}")


@dataclass(frozen=True)
class Workflow:
    """A closed set of states and its transition table (see the module docstring).

    :param name: the audit prefix (``submission`` → ``submission.approve``).
    :param initial: the state of a record that has no row yet (``open`` for a report).
    :param version: the column the claim compares (the version the page showed).
    :param counts_transitions: every transition adds one to ``version`` (unit reports);
        otherwise the version counts content and only its owner's submit moves it.
    """

    name: str
    states: tuple[str, ...]
    actions: tuple[Action, ...]
    initial: str | None = None
    version: str = "version"
    counts_transitions: bool = True
    _table: dict[str, Action] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = {}
        for action in self.actions:
            if action.name in table:
                raise ValueError(f"{self.name}: action {action.name!r} declared twice")
            unknown = {s for pair in action.moves.items() for s in pair
                       if s is not None} - set(self.states)
            if unknown:
                raise ValueError(f"{self.name}.{action.name}: unknown states {unknown}")
            table[action.name] = action
        object.__setattr__(self, "_table", table)

    # The table ---------------------------------------------------------------------------

    def with_actions(self, *rows: Action, states: tuple[str, ...] = ()) -> Workflow:
        """This workflow with more rows (and states): how a feature adds a transition."""
        return replace(self, states=self.states + states, actions=self.actions + rows)

    def action(self, name: str) -> Action:
        """The row of ``name``. :raise ValueError: for an action the table does not have."""
        try:
            return self._table[name]
        except KeyError:
            raise ValueError(f"{self.name} has no action {name!r}") from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._table)

    def by(self, actor: str) -> tuple[str, ...]:
        """The actions taken by ``actor`` (:data:`OWNER` or :data:`ABOVE`), in table order."""
        return tuple(a.name for a in self.actions if a.actor == actor)

    def target(self, state: str | None, action: str) -> str | None:
        """The state after ``action`` from ``state`` (None: no record), or None if refused."""
        row = self._table.get(action)
        if row is None:
            return None
        return row.moves.get(self.initial if state is None else state)

    def allowed(self, state: str | None, action: str) -> bool:
        return self.target(state, action) is not None

    def needs_reason(self, action: str) -> bool:
        return self.action(action).needs_reason

    # The rules ---------------------------------------------------------------------------

    def clean_reason(self, action: str, text: str | None) -> str | None:
        """The reason rule: trimmed; None for an action that takes none.

        :raise Refusal: ``reason_required`` when the action needs one and it is blank;
            ``reason_too_long`` beyond :data:`REASON_MAX` characters.
        """
        if not self.needs_reason(action):
            return None
        return required_reason(text)

    def claim(self, row: Any, expected_state: str | None, expected_version: int, /,
              **values: Any) -> bool:
        """The conditional update: set ``values`` on ``row`` only if it is still in
        ``expected_state`` at ``expected_version``. True when this request won (one row)."""
        model = type(row)
        result = db.session.execute(
            sa.update(model)
            .where(model.id == row.id, model.state == expected_state,
                   getattr(model, self.version) == expected_version)
            .values(updated_at=clock.now(), **values)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    def check(self, row: Any, action: str, *, version: int | None = None,
              reason: str | None = None, lock: str | None = None) -> tuple[str, str | None]:
        """Steps 1–4 of a transition without writing: (state after, clean reason).

        ``row`` may be None for a record that does not exist yet (state :attr:`initial`,
        version 0).

        :raise Refusal: ``reason_required``, ``reason_too_long``, ``stale``,
            ``invalid_transition`` or ``locked``.
        """
        reason = self.clean_reason(action, reason)
        state, current = (row.state, getattr(row, self.version)) if row else (self.initial, 0)
        if version is not None and version != current:
            raise Refusal("stale", row)
        new = self.target(state, action)
        if new is None:
            raise Refusal("invalid_transition", row)
        if lock is not None:
            raise Refusal("locked", row, lock=lock)
        return new, reason

    def transition(self, row: Any, action: str, user: Any, *, version: int | None = None,
                   reason: str | None = None, lock: str | None = None,
                   values: Mapping[str, Any] | None = None,
                   details: Mapping[str, Any] | None = None) -> Any:
        """Take ``action`` on ``row`` as ``user`` (audited; flushed, not committed).

        :param version: the version the client saw (None: whatever is current).
        :param lock: a lock the domain found (a :class:`Lock`); refuses after the checks of
            state and version, so a stale page hears "changed" rather than "locked".
        :param values: more columns the update sets (a report's missing units).
        :param details: more members of the audit row's ``after``.
        :raise Refusal: as :meth:`check`, or ``stale`` when a concurrent request won.
        """
        new, reason = self.check(row, action, version=version, reason=reason, lock=lock)
        step = self.action(action)
        state, current = row.state, getattr(row, self.version)
        after_version = current + 1 if self.counts_transitions else current
        changes = {"state": new, **_stamps(step, user), **(values or {})}
        if new != state or step.needs_reason:
            changes["state_reason"] = reason
        if self.counts_transitions:
            changes[self.version] = after_version
        before = {"state": state, "version": current, "reason": row.state_reason}
        if not self.claim(row, state, current, **changes):
            raise Refusal("stale", row)
        db.session.refresh(row)
        audit.record(f"{self.name}.{action}", row, actor=user, before=before,
                     after={"state": new, "version": after_version, "reason": reason,
                            **(details or {})})
        return row


def insert_first(row: Any) -> Any | None:
    """Insert a record's first row in a savepoint; None when a concurrent request inserted
    it first (the table's unique constraint decides, and the caller reads the winner)."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return None
    return row


def required_reason(text: str | None) -> str:
    """A reason that must be given: trimmed, not blank, not too long.

    :raise Refusal: ``reason_required`` or ``reason_too_long``.
    """
    reason = (text or "").strip()
    if not reason:
        raise Refusal("reason_required")
    if len(reason) > REASON_MAX:
        raise Refusal("reason_too_long", max=REASON_MAX)
    return reason


def _stamps(step: Action, user: Any) -> dict[str, Any]:
    if step.stamps is None:
        return {}
    return {f"{step.stamps}_by_id": user.id, f"{step.stamps}_at": clock.now()}
