"""Received reports and their figures, and the DHIS2 mapping tables.

A :class:`ReceivedReport` is figures this instance did not compute itself:

- ``origin = "push"``, state ``received``: a province's *approved* unit report, sent up by
  its ``flask sync push``. Read-only: the province approved it; a newer version of the same
  report (reopened and approved again there) replaces its figures, an older one is refused.
- ``origin = "dhis2"``, state ``draft``: values imported from a DHIS2 ``dataValueSets``
  document, kept for review. An import is never an approved report; a reviewer accepts it
  (``received``, then used like a pushed report) or rejects it with a reason (``rejected``):
  the review table is :data:`~.states.FLOW`.

Units are stored as unit versions (codes are reused after the 2025 merges: a pushed report
names its unit by ``(code, valid_from)``), periods and indicators as rows of this instance.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..accounts.models import User
from ..api.models import ApiClient
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators.models import Form, IndicatorCell
from ..workflow.columns import UnitAndPeriod
from .states import DHIS2, DRAFT, ORIGINS, PUSH, RECEIVED, REJECTED, STATES

__all__ = ["DEFAULT_COC", "DHIS2", "DRAFT", "ORIGINS", "PUSH", "RECEIVED", "REJECTED", "STATES",
           "Dhis2DataElement", "Dhis2OrgUnit", "ReceivedFigure", "ReceivedReport"]
#: The category option combo of a data element without disaggregation, the same UID in
#: every DHIS2 instance.
DEFAULT_COC = "HllvX50cXC0"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ReceivedReport(UnitAndPeriod, db.Model):
    """Figures of one unit and period that came from elsewhere (see the module docstring)."""

    __tablename__ = "received_reports"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    origin: so.Mapped[str] = so.mapped_column(sa.String(10))
    state: so.Mapped[str] = so.mapped_column(sa.String(10))
    #: The API client that sent it (its name is in the audit trail too).
    client_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("api_clients.id"), index=True)
    #: The report form and version (a DHIS2 import has none: its values are by indicator).
    form_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("forms.id"), index=True)
    form_version: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    # unit_id, period_id and their relationships: UnitAndPeriod.
    #: The sender's version of its report (a pushed report: it grows at every transition).
    source_version: so.Mapped[int | None] = so.mapped_column()
    #: Where the figures come from: the village versions and the units missing with their
    #: reasons (a push), or the DHIS2 document's header (an import).
    provenance: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    received_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                        default=clock.now)
    updated_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    #: Counts review transitions (the shared workflow core's claim compares it): the
    #: version a page showed is the one its decision acts on.
    version: so.Mapped[int] = so.mapped_column(default=0)
    #: The reviewer's reason of a rejection.
    state_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decided_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    form: so.Mapped[Form | None] = so.relationship()
    client: so.Mapped[ApiClient] = so.relationship()
    decided_by: so.Mapped[User | None] = so.relationship()
    figures: so.Mapped[list[ReceivedFigure]] = so.relationship(
        back_populates="report", cascade="all, delete-orphan",
        order_by="ReceivedFigure.id")

    __table_args__ = (
        # One received copy per report (a DHIS2 draft has no form: NULLs never collide).
        sa.UniqueConstraint("origin", "form_id", "unit_id", "period_id",
                            name="uq_received_reports_one"),
        sa.CheckConstraint(_in("origin", ORIGINS), name="origin"),
        sa.CheckConstraint(_in("state", STATES), name="state"),
        # A pushed report is received (approved where it comes from); an import arrives as a
        # draft and is accepted (received) or rejected by a reviewer here.
        sa.CheckConstraint(f"origin <> '{PUSH}' OR state = '{RECEIVED}'",
                           name="pushed_is_received"),
        sa.CheckConstraint(f"state <> '{REJECTED}' OR state_reason IS NOT NULL",
                           name="rejected_has_reason"),
        sa.CheckConstraint(f"origin <> '{PUSH}' OR (form_id IS NOT NULL "
                           "AND form_version IS NOT NULL AND source_version IS NOT NULL)",
                           name="pushed_has_form"),
    )


class ReceivedFigure(IndicatorCell, db.Model):
    """One figure: a number, or the villages per answer of a choice indicator."""

    __tablename__ = "received_figures"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    report_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("received_reports.id", ondelete="CASCADE"), index=True)
    # indicator_id, disaggregation and indicator: IndicatorCell.
    value_numeric: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(18, 4))
    #: A choice indicator's figure: answer code → villages.
    value_counts: so.Mapped[dict | None] = so.mapped_column(sa.JSON(none_as_null=True))
    #: Villages that contributed (None: not known, a DHIS2 value).
    villages: so.Mapped[int | None] = so.mapped_column()

    report: so.Mapped[ReceivedReport] = so.relationship(back_populates="figures")

    __table_args__ = (
        sa.UniqueConstraint("report_id", "indicator_id", "disaggregation",
                            name="uq_received_figures_one"),
        sa.CheckConstraint("(value_numeric IS NULL) <> (value_counts IS NULL)",
                           name="one_value"),
    )

    @property
    def value(self):
        return self.value_counts if self.value_counts is not None else self.value_numeric


class Dhis2DataElement(IndicatorCell, db.Model):
    """An indicator and disaggregation ↔ a DHIS2 data element and category option combo."""

    __tablename__ = "dhis2_data_elements"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # indicator_id, disaggregation and indicator: IndicatorCell.
    data_element: so.Mapped[str] = so.mapped_column(sa.String(50))
    category_option_combo: so.Mapped[str] = so.mapped_column(sa.String(50), default=DEFAULT_COC)

    __table_args__ = (
        sa.UniqueConstraint("indicator_id", "disaggregation", name="uq_dhis2_data_elements_ours"),
        sa.UniqueConstraint("data_element", "category_option_combo",
                            name="uq_dhis2_data_elements_theirs"),
    )


class Dhis2OrgUnit(db.Model):
    """A unit version ↔ a DHIS2 organisation unit (its code or UID)."""

    __tablename__ = "dhis2_org_units"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("admin_units.id"), unique=True)
    org_unit: so.Mapped[str] = so.mapped_column(sa.String(50), unique=True)

    unit: so.Mapped[AdminUnit] = so.relationship()
