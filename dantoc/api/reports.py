"""The upward read service: approved unit reports with their figures and provenance.

A report's figures are computed by the reports package (:func:`dantoc.reports.aggregate.
compute`, in the database), from the village versions the report went up with; the answer
lists those versions, so a reader can tell which village data a figure is made of.

Only a client with the verb ``api.reports`` reads them, and only in its unit's subtree (its
unit and the units that went into it, as for an officer); a client bound to no unit reads
none, except one of the unscoped administrator role.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from ..accounts.scope import unscoped
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators.models import Form, Period
from ..refusal import Refusal
from ..reports import aggregate
from ..reports import queries as report_queries
from ..reports.models import UnitReport
from ..reports.states import APPROVED
from . import schemas
from .auth import current_client
from .pagination import page
from .queries import decimal_text, utc

VERB = "api.reports"


def _scoped() -> sa.Select:
    """The approved reports in the client's subtree.

    :raise Refusal: ``no_authority`` for a client bound to no unit.
    """
    client = current_client()
    if client.unit_id is None and not unscoped(client):
        raise Refusal("no_authority", message=_(
            "This API client is bound to no administrative unit: it may read no unit's "
            "reports."))
    return report_queries.listing(client, state=APPROVED).order_by(None)


def _summary(report: UnitReport) -> dict:
    return {"id": report.id, "form": report.form.code, "period": report.period.code,
            "period_type": report.period.period_type,
            "unit": schemas.UnitKey(code=report.unit.code, valid_from=report.unit.valid_from),
            "unit_name": report.unit.name, "state": report.state,
            "submitted_at": utc(report.submitted_at), "approved_at": utc(report.decided_at),
            "updated_at": utc(report.updated_at)}


def reports(limit: int, cursor: str | None, form: str | None, period: str | None,
            unit: str | None, unit_valid_from: date | None) -> dict:
    query = _scoped()
    if form is not None:
        query = query.where(UnitReport.form_id.in_(sa.select(Form.id).where(Form.code == form)))
    if period is not None:
        query = query.where(UnitReport.period_id.in_(
            sa.select(Period.id).where(Period.code == period)))
    if unit is not None:
        units = sa.select(AdminUnit.id).where(AdminUnit.code == unit)
        if unit_valid_from is not None:
            units = units.where(AdminUnit.valid_from == unit_valid_from)
        query = query.where(UnitReport.unit_id.in_(units))
    result = page("reports", query, UnitReport.id, limit=limit, cursor=cursor)
    items = [schemas.ReportSummary(**_summary(r)) for r in result.rows]
    return {"items": items, **result.links}


def _value(value) -> str | dict[str, int]:
    if isinstance(value, dict):
        return {str(answer): count for answer, count in value.items()}
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


def _keys(unit_ids: set[int]) -> dict[int, schemas.UnitKey]:
    if not unit_ids:
        return {}
    rows = db.session.execute(sa.select(AdminUnit.id, AdminUnit.code, AdminUnit.valid_from)
                              .where(AdminUnit.id.in_(unit_ids)))
    return {uid: schemas.UnitKey(code=code, valid_from=start) for uid, code, start in rows}


def report(report_id: int) -> schemas.Report:
    """One approved report in the client's subtree, with its figures and their sources.

    :raise Refusal: ``not_found`` when there is none (or not approved, or outside).
    """
    found = db.session.scalar(_scoped().where(UnitReport.id == report_id).options(
        so.joinedload(UnitReport.form).joinedload(Form.catalogue_version)))
    target = report_queries.target_of(found) if found is not None else None
    if target is None:
        raise Refusal("not_found")
    total = aggregate.compute(target, found)
    sources = total.sources
    keys = _keys({s.unit_id for s in sources} | {s.via for s in sources if s.via})
    return schemas.Report(
        **_summary(found), catalogue_version=found.form.catalogue_version.code,
        figures=[schemas.Figure(indicator=f.indicator.code, disaggregation=f.key,
                                value=_value(f.value), villages=f.villages)
                 for f in total.figures],
        not_aggregated=[i.code for i in total.not_aggregated],
        sources=[schemas.FigureSource(village=keys[s.unit_id], submission_version=s.version,
                                      via=keys[s.via] if s.via else None) for s in sources])
