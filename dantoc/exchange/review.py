"""Reviewing what arrived from outside: the received reports in a reviewer's scope, one
report's provenance in words, and the two decisions on a DHIS2 draft.

The decisions are rows of :data:`.states.FLOW` run by the shared workflow core
(:meth:`dantoc.workflow.Workflow.transition`): reason rule, one conditional update on
(state, version), one audit row in the same transaction. Services flush; views commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators.models import Form, Period
from ..reports.queries import filtered
from . import states
from .models import ReceivedFigure, ReceivedReport


def listing(user: Any, period_id: int | None = None, form_id: int | None = None,
            state: str | None = None) -> sa.Select:
    """The received reports of units in ``user``'s scope, newest first, filtered."""
    query = sa.select(ReceivedReport).options(
        so.joinedload(ReceivedReport.unit), so.joinedload(ReceivedReport.period),
        so.joinedload(ReceivedReport.form), so.joinedload(ReceivedReport.client))
    query = filtered(query, ReceivedReport, user, period_id, form_id,
                     state if state in states.STATES else None)
    return query.order_by(ReceivedReport.received_at.desc(), ReceivedReport.id.desc())


def filter_choices() -> tuple[list[Period], list[Form]]:
    """The periods and the forms that received reports have (newest period first)."""
    periods = db.session.scalars(sa.select(Period).where(Period.id.in_(
        sa.select(ReceivedReport.period_id))).order_by(Period.start_date.desc(), Period.code))
    forms = db.session.scalars(sa.select(Form).where(Form.id.in_(
        sa.select(ReceivedReport.form_id))).order_by(Form.code))
    return list(periods), list(forms)


def figures(report: ReceivedReport) -> list[ReceivedFigure]:
    """The report's figures with their indicators (and choices, disaggregations) loaded, in
    the order of the indicators' groups and codes, the total before its breakdowns."""
    rows = db.session.scalars(sa.select(ReceivedFigure).where(
        ReceivedFigure.report_id == report.id).options(so.joinedload(ReceivedFigure.indicator)))
    return sorted(rows, key=lambda f: (f.indicator.group.position, f.indicator.group.code,
                                       f.indicator.code, f.disaggregation != "",
                                       f.disaggregation))


@dataclass(frozen=True)
class Source:
    """A unit named by the sender as ``(code, valid_from)``, and the unit here if known."""

    code: str
    valid_from: date | None
    unit: AdminUnit | None
    version: int | None = None


def _units(keys: set[tuple[str, str]]) -> dict[tuple[str, str], AdminUnit]:
    codes = {code for code, _day in keys}
    if not codes:
        return {}
    found = {}
    for unit in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.code.in_(codes))):
        found[(unit.code, unit.valid_from.isoformat())] = unit
    return found


def sources(report: ReceivedReport) -> list[Source]:
    """The village versions a pushed report was made of, each with its unit here (so that
    the page shows its name), in the order of the names."""
    given = report.provenance.get("sources") or []
    units = _units({(s["unit"]["code"], s["unit"]["valid_from"]) for s in given})
    rows = [Source(s["unit"]["code"], _day(s["unit"]["valid_from"]),
                   units.get((s["unit"]["code"], s["unit"]["valid_from"])), s.get("version"))
            for s in given]
    return sorted(rows, key=lambda s: (s.unit.name if s.unit else s.code,
                                       s.valid_from or date.min))


def missing(report: ReceivedReport) -> list[dict[str, str]]:
    """The units the sender named as missing (its name for them) with their reasons."""
    return [{"name": m.get("name") or m.get("code") or "", "reason": m.get("reason") or ""}
            for m in report.provenance.get("missing") or []]


def _moment(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if isinstance(text, str) else None
    except ValueError:
        return None


def header(report: ReceivedReport) -> dict[str, Any]:
    """What the sender said about the report besides its figures, ready to show: a pushed
    report's submission and approval moments at the sender; a DHIS2 document's data set
    (an identifier of the sending system) and day of completion."""
    given = report.provenance or {}
    return {"submitted_at": _moment(given.get("submitted_at")),
            "approved_at": _moment(given.get("approved_at")),
            "data_set": given.get("dataSet"), "completed_on": _day(given.get("completeDate"))}


def decide(report: ReceivedReport, action: str, user: Any, version: int,
           reason: str | None = None) -> ReceivedReport:
    """Accept or reject a draft (audited ``received.accept`` / ``received.reject``).

    :param version: the report version the reviewer's page showed.
    :raise Refusal: ``reason_required`` (a rejection without a reason),
        ``reason_too_long``, ``stale`` (changed meanwhile, or another reviewer won the
        claim), ``invalid_transition`` (not a draft).
    """
    return states.FLOW.transition(report, action, user, version=version, reason=reason,
                                  details={"origin": report.origin,
                                           "figures": len(report.figures)})
