"""The write services of ``/api/v1/`` and DHIS2 ``dataValueSets`` (docs/api.md §Reports up,
§DHIS2, §Idempotency): a blueprint of its own next to the read services' (``views.py``),
with the same rate limit, conditional GETs and refusals.

Every POST is ``@idempotent``: the view flushes (the services audit with the client's name),
the decorator commits the write together with its ``Idempotency-Key``. A body is limited to
``DANTOC_API_MAX_BODY`` bytes (1 MiB by default): a larger one is 413 ``too_large``.

The POST views are exempt from CSRF protection (``@csrf.exempt``, each listed with its reason
in ``tests/authz_routes.toml``): only a bearer token authorises them, never the session
cookie (auth.py), so a forged cross-site request has no credential to ride on.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from spectree import Response

from ..exchange import dhis2, received
from ..extensions import csrf, db
from ..refusal import Refusal
from ..web.errors import refuse
from . import exchange_schemas as x
from . import schemas
from .auth import actor, client_limit, current_client, require_token
from .idempotency import idempotent
from .spec import BEARER, api
from .views import _conditional

bp = Blueprint("api_exchange", __name__, url_prefix="/api/v1")
client_limit(bp)
bp.after_request(_conditional)

READ, PUSH = "api.reports", "api.push"
#: The largest body a write takes, unless ``API_MAX_BODY`` says otherwise.
MAX_BODY = 1024 * 1024
#: 400: a control character in the request (``bad_characters``, web/inputs.py).
REFUSALS = {"HTTP_400": schemas.Problem, "HTTP_401": schemas.Problem,
            "HTTP_403": schemas.Problem, "HTTP_429": schemas.Problem}
WRITE_REFUSALS = REFUSALS | {"HTTP_409": schemas.Problem, "HTTP_413": schemas.Problem,
                             "HTTP_415": schemas.Problem}


@bp.before_request
def _body_limit():
    """A write's body over the limit is refused before it is read (413 problem+json)."""
    limit = int(current_app.config.get("API_MAX_BODY", MAX_BODY))
    if request.method == "POST":
        request.max_content_length = limit
        if (request.content_length or 0) > limit:
            return refuse("too_large")
    return None


def json_only(view):
    """A write whose body is not JSON is 415 (after the token: an anonymous request gets
    401 whatever it sends)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not request.is_json:
            return refuse("bad_request", _("Send the body as JSON (Content-Type: "
                                           "application/json)."), status=415)
        return view(*args, **kwargs)

    return wrapper


@bp.errorhandler(Refusal)
def _refused(refusal: Refusal):
    db.session.rollback()
    members = dict(refusal.extra)
    if refusal.field and refusal.message is not None:
        members.setdefault("fields", {refusal.field: str(refusal)})
    members = {k: v for k, v in members.items() if k in ("fields", "unknown",
                                                          "current_version")}
    return refuse(refusal.code, refusal.message, **members)


def _json():
    return request.context.json


def write(rule: str, body, answers: dict, tag: str):
    """Declare a POST in one place, the same for every write: a token with ``api.push``, a
    JSON body (model ``body``) under an ``Idempotency-Key``, ``answers`` (status → model)
    besides the refusals every write may give (422 among them); exempt from CSRF (see the
    module docstring)."""

    def decorator(view):
        validated = api.validate(
            json=body, headers=x.WriteHeaders, security=BEARER, tags=[tag],
            resp=Response(**answers, HTTP_422=schemas.Problem, **WRITE_REFUSALS),
        )(csrf.exempt(view))
        return bp.post(rule)(require_token(PUSH)(json_only(idempotent(validated))))

    return decorator


@write("/reports", x.ReportPush,
       {"HTTP_200": x.ReceivedReportOut, "HTTP_201": x.ReceivedReportOut}, "reports")
def push_report():
    """Receive a province's approved unit report (figures and provenance) as a read-only
    received report: 201 the first time, 200 for the same or a newer version."""
    client = current_client()
    report, outcome = received.store(_json(), client, actor(client))
    body = x.ReceivedReportOut(
        id=report.id, state=report.state, form=report.form.code,
        form_version=report.form_version,
        period=x.PeriodOut(type=report.period.period_type, code=report.period.code),
        unit=schemas.UnitKey(code=report.unit.code, valid_from=report.unit.valid_from),
        version=report.source_version, figures=len(report.figures),
        received_at=report.received_at, updated_at=report.updated_at)
    return body, 201 if outcome == received.CREATED else 200


@bp.get("/dhis2/dataValueSets")
@require_token(READ)
@api.validate(query=x.ExportQuery,
              resp=Response(HTTP_200=x.DataValueSetOut, HTTP_422=schemas.Problem,
                            **REFUSALS), security=BEARER, tags=["dhis2"])
def data_value_sets():
    """Approved figures of one org unit and period as a DHIS2 data value set (mapped data
    elements only)."""
    q = request.context.query
    mapped = dhis2.org_unit(q.orgUnit)
    client = current_client()
    if mapped is not None and client.unit_id is not None:
        received.check_scope(client, mapped.unit)
    return x.DataValueSetOut(**dhis2.export(q.period, q.orgUnit))


@write("/dhis2/dataValueSets", x.DataValueSetIn, {"HTTP_201": x.ImportSummary}, "dhis2")
def import_data_value_set():
    """Import a DHIS2 data value set into draft reports for review (never approved): all
    values or none."""
    client = current_client()
    drafts = dhis2.import_set(_json(), client, actor(client))
    count = sum(d["values"] for d in drafts)
    summary = x.ImportSummary(
        status="SUCCESS", importCount=x.ImportCount(imported=count, updated=0, ignored=0,
                                                    deleted=0),
        drafts=[x.DraftOut(id=d["id"], orgUnit=d["orgUnit"], period=d["period"],
                           unit=schemas.UnitKey(code=d["unit"].code,
                                                valid_from=d["unit"].valid_from),
                           values=d["values"]) for d in drafts])
    return summary, 201

