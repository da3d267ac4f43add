"""Reports up: what a province sends (:func:`payload`, read by ``flask sync push``) and how
the centre stores it (:func:`store`, behind ``POST /api/v1/reports``).

The payload is a pure function of an approved report: its figures are computed from the
village versions it was submitted with, which never change, so the same report at the same
version always gives the same body (``flask sync push`` relies on it to replay a request
whose answer was lost). Services flush and audit; the caller commits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import clock
from ..accounts.scope import unit_in_subtree
from ..audit import services as audit
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators.models import Form, FormStatus, FormVersion, Indicator
from ..refusal import Refusal
from ..reports import aggregate, states
from ..reports.models import UnitReport
from ..reports.queries import target_of
from ..submissions.queries import period_by_code
from .models import PUSH, RECEIVED, ReceivedFigure, ReceivedReport


def decimal_text(value: Decimal | int) -> str:
    """``Decimal('18.0000')`` → ``"18"``; ``Decimal('0.50')`` → ``"0.5"``."""
    return format(Decimal(value).normalize(), "f")


def figure_value(value: Any) -> str | dict[str, int]:
    if isinstance(value, dict):
        return {str(answer): int(count) for answer, count in value.items()}
    return decimal_text(value)


def unit_key(unit: AdminUnit) -> dict:
    return {"code": unit.code, "valid_from": unit.valid_from.isoformat()}


def payload(report: UnitReport) -> dict:
    """The JSON body that sends the approved ``report`` up (docs/api.md §Reports up)."""
    if report.state != states.APPROVED:
        raise ValueError(f"report {report.id} is not approved")
    t = target_of(report)
    result = aggregate.compute(t, report)
    sources = result.sources
    villages = {u.id: u for u in db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.id.in_({s.unit_id for s in sources})))} if sources else {}
    return {
        "form": report.form.code, "form_version": t.form_version.number,
        "period": {"type": report.period.period_type, "code": report.period.code},
        "unit": unit_key(report.unit), "version": report.version,
        "submitted_at": report.submitted_at.isoformat(),
        "approved_at": report.decided_at.isoformat(),
        "figures": [{"indicator": f.indicator.code, "disaggregation": f.key,
                     "value": figure_value(f.value), "villages": f.villages}
                    for f in result.figures],
        "sources": sorted(({"unit": unit_key(villages[s.unit_id]), "version": s.version}
                           for s in sources),
                          key=lambda s: (s["unit"]["code"], s["unit"]["valid_from"],
                                         s["version"])),
        "missing": [{"code": m.get("code") or "", "name": m.get("name") or "",
                     "state": m.get("state") or "", "reason": m.get("reason") or ""}
                    for m in report.missing_note or []],
    }


# -- at the centre --------------------------------------------------------------------------

def unit_by_key(code: str, valid_from) -> AdminUnit | None:
    """The unit version ``(code, valid_from)``: never by code alone (codes are reused)."""
    return db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == code,
                                                        AdminUnit.valid_from == valid_from))


def check_scope(client, unit: AdminUnit) -> None:
    """A client writes only for its own unit and the units below it.

    :raise Refusal: ``no_authority`` for a client bound to no unit, or to another one.
    """
    if client.unit_id is None or not unit_in_subtree(client.unit_id, unit):
        raise Refusal("no_authority", message=_outside(unit))


def _outside(unit: AdminUnit) -> str:
    return _("This API client may not send data for unit %(code)s (from %(day)s): it is not "
             "its unit or below it.", code=unit.code, day=unit.valid_from.isoformat())


def _unknown(what: list[str]) -> Refusal:
    return Refusal("unknown_reference", message=_(
        "Not known here: %(what)s. Nothing was changed.", what="; ".join(what)),
        unknown=what)


def _resolve(body) -> tuple[Form, FormVersion, AdminUnit, Any, dict[str, Indicator]]:
    missing = []
    form = db.session.scalar(sa.select(Form).where(Form.code == body.form))
    version = form and db.session.scalar(sa.select(FormVersion).where(
        FormVersion.form_id == form.id, FormVersion.number == body.form_version,
        FormVersion.status.in_((FormStatus.PUBLISHED, FormStatus.RETIRED))))
    if version is None:
        missing.append(f"form {body.form} version {body.form_version}")
    unit = unit_by_key(body.unit.code, body.unit.valid_from)
    if unit is None:
        missing.append(f"unit {body.unit.code} (from {body.unit.valid_from.isoformat()})")
    period = period_by_code(body.period.type, body.period.code)
    if period is None:
        missing.append(f"period {body.period.code} ({body.period.type})")
    indicators: dict[str, Indicator] = {}
    if form is not None:
        codes = {f.indicator for f in body.figures}
        indicators = {i.code: i for i in db.session.scalars(sa.select(Indicator).where(
            Indicator.catalogue_version_id == form.catalogue_version_id,
            Indicator.code.in_(codes)))} if codes else {}
        missing += [f"indicator {code}" for code in sorted(codes - set(indicators))]
    if missing:
        raise _unknown(missing)
    return form, version, unit, period, indicators


def _figures(body, indicators: dict[str, Indicator]) -> list[ReceivedFigure]:
    seen, rows = set(), []
    for n, figure in enumerate(body.figures):
        key = (figure.indicator, figure.disaggregation)
        if key in seen:
            raise Refusal("invalid", field=f"figures.{n}", message=_twice())
        seen.add(key)
        counts = figure.value if isinstance(figure.value, dict) else None
        rows.append(ReceivedFigure(
            indicator_id=indicators[figure.indicator].id, disaggregation=figure.disaggregation,
            value_numeric=None if counts is not None else Decimal(figure.value),
            value_counts=counts, villages=figure.villages))
    return rows


def _twice() -> str:
    return _("The same indicator and disaggregation appear twice.")


def _provenance(body) -> dict:
    return {"submitted_at": body.submitted_at.isoformat(),
            "approved_at": body.approved_at.isoformat(),
            "sources": [{"unit": {"code": s.unit.code, "valid_from": s.unit.valid_from.isoformat()},
                         "version": s.version} for s in body.sources],
            "missing": [m.model_dump() for m in body.missing]}


SNAPSHOT = ("origin", "state", "client_id", "form_id", "form_version", "unit_id", "period_id",
            "source_version")


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def store(body, client, actor) -> tuple[ReceivedReport, str]:
    """Store a pushed approved report as a received (read-only) report, audited with the
    client's name. Returns the report and :data:`CREATED`, :data:`UPDATED` or
    :data:`UNCHANGED`.

    - first time: created;
    - the same version again: nothing changes (the sender lost our answer);
    - a newer version (reopened and approved again at the sender): the figures are replaced;
    - an older version: refused, the newer one stays.

    :raise Refusal: ``unknown_reference`` (422), ``no_authority`` (403), ``stale`` (409),
        ``invalid`` (422: a figure twice).
    """
    form, version, unit, period, indicators = _resolve(body)
    check_scope(client, unit)
    figures = _figures(body, indicators)
    existing = db.session.scalar(sa.select(ReceivedReport).where(
        ReceivedReport.origin == PUSH, ReceivedReport.form_id == form.id,
        ReceivedReport.unit_id == unit.id, ReceivedReport.period_id == period.id))
    if existing is not None:
        if existing.source_version == body.version:
            return existing, UNCHANGED
        if existing.source_version > body.version:
            raise Refusal("stale", existing, current_version=existing.source_version)
        before = audit.snapshot(existing, SNAPSHOT)
        existing.figures.clear()
        db.session.flush()  # the old figures go before the new ones (same keys)
        existing.figures.extend(figures)
        existing.form_version, existing.source_version = version.number, body.version
        existing.client_id, existing.provenance = client.id, _provenance(body)
        existing.updated_at = clock.now()
        db.session.flush()
        audit.record("received.update", existing, before=before,
                     after=audit.snapshot(existing, SNAPSHOT) | {"figures": len(figures)},
                     actor=actor)
        return existing, UPDATED
    report = ReceivedReport(origin=PUSH, state=RECEIVED, client_id=client.id, form_id=form.id,
                            form_version=version.number, unit_id=unit.id, period_id=period.id,
                            source_version=body.version, provenance=_provenance(body),
                            figures=figures)
    db.session.add(report)
    db.session.flush()
    audit.record("received.create", report,
                 after=audit.snapshot(report, SNAPSHOT) | {"figures": len(figures)}, actor=actor)
    return report, CREATED
