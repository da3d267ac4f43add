"""The columns that workflow tables declare alike, as mixins (no schema of their own)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..catalogs.models import AdminUnit
from ..indicators.models import Period


class WorkflowRecord:
    """Mixin of a record the workflow core moves and stamps (:meth:`.core.Workflow.claim`)
    with a version of its own: the unit reports and their publications. Each table keeps
    its own ``state`` (its states and default differ) and its ``*_by_id`` / ``*_at`` stamps.

    The village submissions (``current_version``, counting submitted versions) and the
    received reports (``received_at``) declare theirs differently, so they do not use it.
    """

    #: Counts transitions; an action acts on the version its page showed.
    version: so.Mapped[int] = so.mapped_column(default=0)
    #: The reason given with the last transition that needs one (a return, a reopening, a
    #: withdrawal), shown to the people concerned.
    state_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    #: Set by every claim (and by the services that change the row otherwise); the lists
    #: show the newest change first.
    updated_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)


class UnitAndPeriod:
    """Mixin of a record about one unit and one period (a unit report, a received report):
    the keys the lists filter by and the actors' scope is checked against."""

    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    period_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("periods.id"), index=True)

    @so.declared_attr
    def unit(cls) -> so.Mapped[AdminUnit]:
        return so.relationship(AdminUnit)

    @so.declared_attr
    def period(cls) -> so.Mapped[Period]:
        return so.relationship(Period)
