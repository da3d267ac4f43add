"""The ``/api/v1/`` blueprint: load (the read services) → authorize (the token's verbs) →
answer (a pydantic model, which spectree serialises).

Every route says who may call it (``@require_token`` / ``@open_data`` / ``@public``: the
authorization matrix reads that) and what it takes and answers (``@api.validate``: the
OpenAPI document is generated from that). The reads say both in one decorator,
:func:`listing` for a paginated list and :func:`one` for an item (:func:`route` beneath
them). The catalogs, the form definitions and the public documents are open data (no token
needed, a token sent must be valid); unit reports need a token with their verb.
"""

from __future__ import annotations

from functools import wraps

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
#: A form's version number in URLs: bounded like its small integer column.
VERSION = "int(min=1, max=32767)"
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


def route(rule: str, resp: Response, tag: str, verb: str | None = None, query=None,
          endpoint: str | None = None):
    """Declare a read in one place: who may call it (``verb``: a token with that verb;
    None: open data) and what it takes and answers (``@api.validate``, from which the
    OpenAPI document is generated), so that the security the document states is always the
    one the view enforces."""
    access, security = (open_data, OPEN) if verb is None else (require_token(verb), BEARER)

    def decorator(view):
        validated = api.validate(query=query, resp=resp, security=security, tags=[tag])(view)
        return bp.get(rule, endpoint=endpoint)(access(validated))

    return decorator


def listing(rule: str, query, page, tag: str, verb: str | None = None,
            endpoint: str | None = None):
    """A paginated list (:func:`route`): the view takes the validated ``query`` and returns
    what its read service returns (items and cursor), which becomes the ``page`` model."""

    def decorator(view):
        @wraps(view)
        def answer():
            return page(**view(request.context.query))

        return route(rule, answers(page), tag, verb, query, endpoint)(answer)

    return decorator


def one(rule: str, model, tag: str, verb: str | None = None, endpoint: str | None = None):
    """One item by its address (:func:`route`): ``model``, or 404."""
    return route(rule, Response(HTTP_200=model, HTTP_404=schemas.Problem, **REFUSALS), tag,
                 verb, endpoint=endpoint)


@listing("/catalogue-versions", schemas.PageQuery, schemas.CatalogueVersionPage, "indicators")
def catalogue_versions(q):
    """Indicator catalogue versions (TT 06/2014, TT 03/2019, TT 06/2025, local)."""
    return queries.catalogue_versions(q.limit, q.cursor)


@listing("/indicator-groups", schemas.VersionedQuery, schemas.IndicatorGroupPage, "indicators")
def indicator_groups(q):
    """Indicator groups (nhóm chỉ tiêu), with their catalogue version and department."""
    return queries.indicator_groups(q.limit, q.cursor, q.catalogue_version, q.changed_since)


@listing("/indicators", schemas.VersionedQuery, schemas.IndicatorPage, "indicators")
def indicators(q):
    """Indicators (chỉ tiêu): type, bounds, aggregation, choices, disaggregations."""
    return queries.indicators(q.limit, q.cursor, q.catalogue_version, q.changed_since)


@listing("/ethnic-groups", schemas.PageQuery, schemas.EthnicGroupPage, "catalogs")
def ethnic_groups(q):
    """The 54 ethnic groups with both official code lists (1979 and 2008)."""
    return queries.ethnic_groups(q.limit, q.cursor)


@listing("/religions", schemas.PageQuery, schemas.ReligionPage, "catalogs")
def religions(q):
    """Recognised religions, with their GSO 2008 code where they have one."""
    return queries.religions(q.limit, q.cursor)


@listing("/admin-units", schemas.UnitQuery, schemas.AdminUnitPage, "catalogs")
def admin_units(q):
    """Administrative unit versions, with validity dates, parent and lineage links."""
    return queries.admin_units(q.limit, q.cursor, q.on, q.level, q.changed_since)


def form_routes(path: str, kind: str, lists: str, versions: str) -> None:
    """The two reads of one kind of form, alike for report forms (biểu) and questionnaires
    (phiếu): the list at ``/<path>`` (summary ``lists``) and one version with its layout
    (summary ``versions``); their endpoints are named after the path (``report_forms``,
    ``report_form_version``)."""

    def forms(q):
        return queries.forms(kind, q.limit, q.cursor)

    def version(form_code: str, number: int):
        return queries.form_version(kind, form_code, number)

    forms.__doc__, version.__doc__ = lists, versions
    name = path.replace("-", "_")
    listing(f"/{path}", schemas.PageQuery, schemas.FormPage, "forms", endpoint=name)(forms)
    one(f"/{path}/<form_code>/versions/<{VERSION}:number>", schemas.FormVersion, "forms",
        endpoint=f"{name.removesuffix('s')}_version")(version)


form_routes("report-forms", "bieu", "Report forms (biểu) with their published and retired "
            "versions.", "One version of a report form (biểu) with its layout: sections and "
            "indicators.")
form_routes("questionnaires", "phieu", "Questionnaires (phiếu) with their published and "
            "retired versions.", "One version of a questionnaire (phiếu) with its layout: "
            "sections and indicators.")


# -- documents (open data; internal ones with the verb api.documents) ----------------------

@listing("/document-groups", schemas.ChangesQuery, schemas.DocumentGroupPage, "documents")
def document_groups(q):
    """Document groups (nhóm văn bản), as a tree (each names its parent)."""
    return documents.document_groups(q.limit, q.cursor, q.changed_since)


@listing("/documents", schemas.DocumentQuery, schemas.DocumentPage, "documents")
def documents_list(q):
    """Published documents (văn bản): number, type, issuer, signer, dates, validity, trích
    yếu, field, links, files; internal ones only for a token with `api.documents`."""
    return documents.documents(q.limit, q.cursor, q.group, q.changed_since)


@one(f"/documents/<{ID}:document_id>", schemas.Document, "documents")
def document_detail(document_id: int):
    """One published document (an internal one only for a token with `api.documents`)."""
    return documents.document(document_id)


@route(f"/documents/<{ID}:document_id>/files/<{ID}:file_id>",
       Response("HTTP_200", HTTP_404=schemas.Problem, **REFUSALS), "documents")
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

@listing("/reports", schemas.ReportQuery, schemas.ReportPage, "reports", verb=reports.VERB)
def reports_list(q):
    """Approved unit reports in the client's unit subtree, by form, period and unit."""
    return reports.reports(q.limit, q.cursor, q.form, q.period, q.unit, q.unit_valid_from)


@one(f"/reports/<{ID}:report_id>", schemas.Report, "reports", verb=reports.VERB)
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
