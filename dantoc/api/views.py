"""The ``/api/v1/`` blueprint: load (the read services) → authorize (the token's verbs) →
answer (a pydantic model, which spectree serialises).

Every route is declared twice on purpose: ``@require_token`` / ``@open_data`` / ``@public``
say who may call it (the authorization matrix reads that), ``@api.validate`` says what it
takes and answers (the OpenAPI document is generated from that). The catalogs, the form
definitions and the public documents are open data (``@open_data``: no token needed, a
token sent must be valid); unit reports need a token (``@require_token``).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from spectree import Response

from ..accounts.permissions import public
from ..documents import files as stored_files
from ..extensions import db
from ..refusal import Refusal
from ..web.errors import refuse
from . import documents, queries, reports, schemas
from .auth import client_limit, open_data, require_token
from .spec import BEARER, OPEN, api, document, operations, schemas_of

bp = Blueprint("api", __name__, url_prefix="/api/v1")
client_limit(bp)

#: Ids in URLs: bounded like an integer column (a larger one is a 404, not an overflow).
ID = "int(min=1, max=2147483647)"
#: Every route may refuse: 400 (a cursor not given for this list; control characters in
#: the address, refused for the whole application), 401, 403, 429.
REFUSALS = {"HTTP_400": schemas.Problem, "HTTP_401": schemas.Problem,
            "HTTP_403": schemas.Problem, "HTTP_429": schemas.Problem}


def answers(page_model) -> Response:
    """A list's answers: the page, or a refusal."""
    return Response(HTTP_200=page_model, **REFUSALS)


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
    if request.method in ("GET", "HEAD") and response.status_code == 200 and (
            response.get_etag()[0] is None):  # a file carries its own (its SHA-256)
        response.add_etag()
        known = _known_etag(response.get_etag()[0])
        if known is not None:
            response = current_app.response_class(status=304)
            response.set_etag(known)
    if request.headers.get("Authorization"):
        response.headers["Cache-Control"] = "private, no-cache"
    elif response.status_code in (200, 304) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "public, no-cache"  # open data: revalidated
    response.vary.add("Authorization")  # a token may see more (internal documents)
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
@open_data
@api.validate(query=schemas.PageQuery, resp=answers(schemas.CatalogueVersionPage),
              security=OPEN, tags=["indicators"])
def catalogue_versions():
    """Indicator catalogue versions (TT 06/2014, TT 03/2019, TT 06/2025, local)."""
    q = _query()
    return schemas.CatalogueVersionPage(**queries.catalogue_versions(q.limit, q.cursor))


@bp.get("/indicator-groups")
@open_data
@api.validate(query=schemas.VersionedQuery, resp=answers(schemas.IndicatorGroupPage),
              security=OPEN, tags=["indicators"])
def indicator_groups():
    """Indicator groups (nhóm chỉ tiêu), with their catalogue version and department."""
    q = _query()
    return schemas.IndicatorGroupPage(**queries.indicator_groups(
        q.limit, q.cursor, q.catalogue_version, q.changed_since))


@bp.get("/indicators")
@open_data
@api.validate(query=schemas.VersionedQuery, resp=answers(schemas.IndicatorPage),
              security=OPEN, tags=["indicators"])
def indicators():
    """Indicators (chỉ tiêu): type, bounds, aggregation, choices, disaggregations."""
    q = _query()
    return schemas.IndicatorPage(**queries.indicators(q.limit, q.cursor, q.catalogue_version,
                                                      q.changed_since))


@bp.get("/ethnic-groups")
@open_data
@api.validate(query=schemas.PageQuery, resp=answers(schemas.EthnicGroupPage),
              security=OPEN, tags=["catalogs"])
def ethnic_groups():
    """The 54 ethnic groups with both official code lists (1979 and 2008)."""
    q = _query()
    return schemas.EthnicGroupPage(**queries.ethnic_groups(q.limit, q.cursor))


@bp.get("/religions")
@open_data
@api.validate(query=schemas.PageQuery, resp=answers(schemas.ReligionPage),
              security=OPEN, tags=["catalogs"])
def religions():
    """Recognised religions, with their GSO 2008 code where they have one."""
    q = _query()
    return schemas.ReligionPage(**queries.religions(q.limit, q.cursor))


@bp.get("/admin-units")
@open_data
@api.validate(query=schemas.UnitQuery, resp=answers(schemas.AdminUnitPage),
              security=OPEN, tags=["catalogs"])
def admin_units():
    """Administrative unit versions, with validity dates, parent and lineage links."""
    q = _query()
    return schemas.AdminUnitPage(**queries.admin_units(q.limit, q.cursor, q.on, q.level,
                                                       q.changed_since))


@bp.get("/report-forms")
@open_data
@api.validate(query=schemas.PageQuery, resp=answers(schemas.FormPage), security=OPEN,
              tags=["forms"])
def report_forms():
    """Report forms (biểu) with their published and retired versions."""
    q = _query()
    return schemas.FormPage(**queries.forms("bieu", q.limit, q.cursor))


@bp.get("/report-forms/<form_code>/versions/<int(min=1, max=32767):number>")
@open_data
@api.validate(resp=Response(HTTP_200=schemas.FormVersion, HTTP_404=schemas.Problem,
                            **REFUSALS), security=OPEN, tags=["forms"])
def report_form_version(form_code: str, number: int):
    """One version of a report form (biểu) with its layout: sections and indicators."""
    return queries.form_version("bieu", form_code, number)


@bp.get("/questionnaires")
@open_data
@api.validate(query=schemas.PageQuery, resp=answers(schemas.FormPage), security=OPEN,
              tags=["forms"])
def questionnaires():
    """Questionnaires (phiếu) with their published and retired versions."""
    q = _query()
    return schemas.FormPage(**queries.forms("phieu", q.limit, q.cursor))


@bp.get("/questionnaires/<form_code>/versions/<int(min=1, max=32767):number>")
@open_data
@api.validate(resp=Response(HTTP_200=schemas.FormVersion, HTTP_404=schemas.Problem,
                            **REFUSALS), security=OPEN, tags=["forms"])
def questionnaire_version(form_code: str, number: int):
    """One version of a questionnaire (phiếu) with its layout: sections and indicators."""
    return queries.form_version("phieu", form_code, number)


# -- documents (open data; internal ones with the verb api.documents) ----------------------

@bp.get("/document-groups")
@open_data
@api.validate(query=schemas.ChangesQuery, resp=answers(schemas.DocumentGroupPage),
              security=OPEN, tags=["documents"])
def document_groups():
    """Document groups (nhóm văn bản), as a tree (each names its parent)."""
    q = _query()
    return schemas.DocumentGroupPage(**documents.document_groups(q.limit, q.cursor,
                                                                 q.changed_since))


@bp.get("/documents")
@open_data
@api.validate(query=schemas.DocumentQuery, resp=answers(schemas.DocumentPage),
              security=OPEN, tags=["documents"])
def documents_list():
    """Published documents (văn bản): number, type, issuer, signer, dates, validity, trích
    yếu, field, links, files; internal ones only for a token with `api.documents`."""
    q = _query()
    return schemas.DocumentPage(**documents.documents(q.limit, q.cursor, q.group,
                                                      q.changed_since))


@bp.get(f"/documents/<{ID}:document_id>")
@open_data
@api.validate(resp=Response(HTTP_200=schemas.Document, HTTP_404=schemas.Problem,
                            **REFUSALS), security=OPEN, tags=["documents"])
def document_detail(document_id: int):
    """One published document (an internal one only for a token with `api.documents`)."""
    return documents.document(document_id)


@bp.get(f"/documents/<{ID}:document_id>/files/<{ID}:file_id>")
@open_data
@api.validate(resp=Response("HTTP_200", HTTP_404=schemas.Problem, **REFUSALS),
              security=OPEN, tags=["documents"])
def document_file(document_id: int, file_id: int):
    """A file of a document, as an attachment with a safe name and its real type."""
    row = documents.document_file(document_id, file_id)
    # The bytes in memory (at most DOCUMENT_MAX_BYTES): spectree reads every answer's body,
    # which a streamed file cannot give.
    response = current_app.response_class(stored_files.path_of(row.sha256).read_bytes(),
                                          mimetype=stored_files.MEDIA_TYPES[row.kind])
    response.headers.set("Content-Disposition", "attachment", filename=row.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(row.sha256)
    return response.make_conditional(request)


# -- approved unit reports (a token with api.reports, in its unit's subtree) ---------------

@bp.get("/reports")
@require_token(reports.VERB)
@api.validate(query=schemas.ReportQuery, resp=answers(schemas.ReportPage), security=BEARER,
              tags=["reports"])
def reports_list():
    """Approved unit reports in the client's unit subtree, by form, period and unit."""
    q = _query()
    return schemas.ReportPage(**reports.reports(q.limit, q.cursor, q.form, q.period, q.unit,
                                                q.unit_valid_from))


@bp.get(f"/reports/<{ID}:report_id>")
@require_token(reports.VERB)
@api.validate(resp=Response(HTTP_200=schemas.Report, HTTP_404=schemas.Problem, **REFUSALS),
              security=BEARER, tags=["reports"])
def report_detail(report_id: int):
    """One approved unit report: its figures and the village versions they come from."""
    return reports.report(report_id)


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
