"""The ``/api/v1/`` blueprint: load (the read services) → authorize (the token's verbs) →
answer (a pydantic model, which spectree serialises).

Every route is declared twice on purpose: ``@require_token`` / ``@public`` say who may call
it (the authorization matrix reads that), ``@api.validate`` says what it takes and answers
(the OpenAPI document is generated from that).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from spectree import Response

from ..accounts.permissions import public
from ..extensions import db
from ..refusal import Refusal
from ..web.errors import refuse
from . import queries, schemas
from .auth import client_limit, require_token
from .spec import BEARER, api, document, operations, schemas_of

bp = Blueprint("api", __name__, url_prefix="/api/v1")
client_limit(bp)

VERB = "api.read"
REFUSALS = {"HTTP_401": schemas.Problem, "HTTP_403": schemas.Problem,
            "HTTP_429": schemas.Problem}


def answers(page_model) -> Response:
    """A list's answers: the page, or a refusal (400: a cursor not given for this list)."""
    return Response(HTTP_200=page_model, HTTP_400=schemas.Problem, **REFUSALS)


def _known_etag(etag: str) -> str | None:
    """The tag of ``If-None-Match`` that names this answer, whatever compression the client
    got it with (Flask-Compress sends ``"<etag>:gzip"`` for a compressed answer)."""
    for raw in request.headers.get("If-None-Match", "").split(","):
        tag = raw.strip().removeprefix("W/").strip('"')
        if tag and tag.partition(":")[0] == etag:
            return tag
    return None


@bp.after_request
def _conditional(response):
    """Strong ETag on every successful read, 304 to ``If-None-Match``: a sync that finds a
    page unchanged downloads nothing. Answers to a token are private and revalidated."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.add_etag()
        known = _known_etag(response.get_etag()[0])
        if known is not None:
            response = current_app.response_class(status=304)
            response.set_etag(known)
    if request.headers.get("Authorization"):
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Authorization")
    return response


@bp.errorhandler(Refusal)
def _refused(refusal: Refusal):
    db.session.rollback()
    members = {"fields": {refusal.field: str(refusal)}} if refusal.field and (
        refusal.message is not None) else {}
    return refuse(refusal.code, refusal.message, **members)


def _query():
    return request.context.query


@bp.get("/catalogue-versions")
@require_token(VERB)
@api.validate(query=schemas.PageQuery, resp=answers(schemas.CatalogueVersionPage),
              security=BEARER, tags=["indicators"])
def catalogue_versions():
    """Indicator catalogue versions (TT 06/2014, TT 03/2019, TT 06/2025, local)."""
    q = _query()
    return schemas.CatalogueVersionPage(**queries.catalogue_versions(q.limit, q.cursor))


@bp.get("/indicator-groups")
@require_token(VERB)
@api.validate(query=schemas.VersionedQuery, resp=answers(schemas.IndicatorGroupPage),
              security=BEARER, tags=["indicators"])
def indicator_groups():
    """Indicator groups (nhóm chỉ tiêu), with their catalogue version and department."""
    q = _query()
    return schemas.IndicatorGroupPage(**queries.indicator_groups(
        q.limit, q.cursor, q.catalogue_version))


@bp.get("/indicators")
@require_token(VERB)
@api.validate(query=schemas.VersionedQuery, resp=answers(schemas.IndicatorPage),
              security=BEARER, tags=["indicators"])
def indicators():
    """Indicators (chỉ tiêu): type, bounds, aggregation, choices, disaggregations."""
    q = _query()
    return schemas.IndicatorPage(**queries.indicators(q.limit, q.cursor, q.catalogue_version))


@bp.get("/ethnic-groups")
@require_token(VERB)
@api.validate(query=schemas.PageQuery, resp=answers(schemas.EthnicGroupPage),
              security=BEARER, tags=["catalogs"])
def ethnic_groups():
    """The 54 ethnic groups with both official code lists (1979 and 2008)."""
    q = _query()
    return schemas.EthnicGroupPage(**queries.ethnic_groups(q.limit, q.cursor))


@bp.get("/religions")
@require_token(VERB)
@api.validate(query=schemas.PageQuery, resp=answers(schemas.ReligionPage),
              security=BEARER, tags=["catalogs"])
def religions():
    """Recognised religions, with their GSO 2008 code where they have one."""
    q = _query()
    return schemas.ReligionPage(**queries.religions(q.limit, q.cursor))


@bp.get("/admin-units")
@require_token(VERB)
@api.validate(query=schemas.UnitQuery, resp=answers(schemas.AdminUnitPage),
              security=BEARER, tags=["catalogs"])
def admin_units():
    """Administrative unit versions, with validity dates, parent and lineage links."""
    q = _query()
    return schemas.AdminUnitPage(**queries.admin_units(q.limit, q.cursor, q.on, q.level))


@bp.get("/report-forms")
@require_token(VERB)
@api.validate(query=schemas.PageQuery, resp=answers(schemas.FormPage), security=BEARER,
              tags=["forms"])
def report_forms():
    """Report forms (biểu) with their published and retired versions."""
    q = _query()
    return schemas.FormPage(**queries.forms("bieu", q.limit, q.cursor))


@bp.get("/report-forms/<form_code>/versions/<int(min=1, max=32767):number>")
@require_token(VERB)
@api.validate(resp=Response(HTTP_200=schemas.FormVersion, HTTP_404=schemas.Problem,
                            **REFUSALS), security=BEARER, tags=["forms"])
def report_form_version(form_code: str, number: int):
    """One version of a report form (biểu) with its layout: sections and indicators."""
    return queries.form_version("bieu", form_code, number)


@bp.get("/questionnaires")
@require_token(VERB)
@api.validate(query=schemas.PageQuery, resp=answers(schemas.FormPage), security=BEARER,
              tags=["forms"])
def questionnaires():
    """Questionnaires (phiếu) with their published and retired versions."""
    q = _query()
    return schemas.FormPage(**queries.forms("phieu", q.limit, q.cursor))


@bp.get("/questionnaires/<form_code>/versions/<int(min=1, max=32767):number>")
@require_token(VERB)
@api.validate(resp=Response(HTTP_200=schemas.FormVersion, HTTP_404=schemas.Problem,
                            **REFUSALS), security=BEARER, tags=["forms"])
def questionnaire_version(form_code: str, number: int):
    """One version of a questionnaire (phiếu) with its layout: sections and indicators."""
    return queries.form_version("phieu", form_code, number)


@bp.get("/openapi.json")
@public
@api.validate(resp=Response("HTTP_200"), tags=["reference"])
def openapi():
    """This API's OpenAPI 3.1 document."""
    return jsonify(document())


@bp.get("/")
@public
@api.validate(resp=Response("HTTP_200"), tags=["reference"])
def reference():
    """The API reference as a page: paths, parameters and schemas (no scripts, no CDN)."""
    spec = document()
    schemas_ = schemas_of(spec)
    return render_template("api/reference.html", spec=spec, operations=operations(spec),
                           schemas=schemas_, schema_names={s["name"] for s in schemas_})
