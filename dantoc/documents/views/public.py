"""What citizens see: the home page, the library with its search, a document, a group, the
files, robots.txt and the sitemap.

These pages are the same for every visitor in a language, so they carry no CSRF token or
session and are sent with ``Cache-Control: public`` and an ETag (a phone on 2G asks again
and gets "304 Not Modified"). The language picker is a plain GET form (``?locale=``,
:mod:`dantoc.i18n.picker`).
"""

from __future__ import annotations

import hashlib

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from ...accounts.permissions import public
from ...extensions import db
from ...i18n.selection import QUERY, registry
from ...statistics import headline
from .. import files, queries, search
from ..forms import LINK_LABELS, LINK_LABELS_BACK, VALIDITY_LABELS, SearchForm
from ..models import DocumentFile, DocumentGroup
from ..services import group_ids_under
from .blueprint import bp

PER_PAGE = 20
MAX_PAGE = 1_000_000
#: Shared caches may keep a public page this long; after that they ask again (ETag).
MAX_AGE = 300


def public_page(html: str, status: int = 200) -> Response:
    """A public page with its validators: strong ETag of the body, ``Cache-Control: public``.

    Signed-in visitors get ``no-store`` from :mod:`dantoc.web.security` instead (their
    page shows their name); a page in a language asked for by ``?lang=`` is not shared.
    """
    response = make_response(html, status)
    response.vary.update(("Accept-Language", "Cookie"))
    if registry().get(request.args.get(QUERY)) is not None:
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    if current_user.is_authenticated or status != 200:
        return response
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response.make_conditional(request)


def _context() -> dict:
    return {"agency": current_app.config["AGENCY_NAME"], "validity_labels": VALIDITY_LABELS}


def home_page() -> Response:
    """The public home page: the agency, a search box, the key published figures (suppressed
    as on the statistics pages), the latest notices and documents."""
    html = render_template("documents/home.html", **_context(),
                           documents=queries.latest_documents(6),
                           announcements=queries.latest_announcements(5),
                           groups=queries.children(None), headline=headline.latest())
    return public_page(html)


def _page_number() -> int:
    try:
        return min(max(1, int(request.args.get("page", "1")[:8])), MAX_PAGE)
    except ValueError:
        return 1


def _filters(form: SearchForm) -> tuple[search.Filters, bool]:
    """The filters that are valid, and whether some were not (they are ignored, and said so)."""
    form.validate()
    ignored = bool(form.errors)
    group_ids = None
    if form.group.data and not form.group.errors:
        group = db.session.get(DocumentGroup, form.group.data)
        if group is not None and not group.retired:
            group_ids = group_ids_under(group)
    in_force = {"yes": True, "no": False}.get(form.in_force.data or "")
    return search.Filters(
        group_ids=group_ids,
        doc_type=None if form.doc_type.errors else (form.doc_type.data or None),
        issuer=None if form.issuer.errors else (form.issuer.data or None),
        year=None if form.year.errors or (form.year.data or 0) < 1 else form.year.data,
        in_force=None if form.in_force.errors else in_force), ignored


def _arguments(form: SearchForm) -> dict:
    """The query string of the current search, for the pager's links."""
    names = ("q", "group", "doc_type", "issuer", "year", "in_force")
    return {name: request.args[name][:200] for name in names if request.args.get(name)}


@bp.route("/van-ban")
@public
def index():
    """The library: search without diacritics, filters, pages."""
    form = SearchForm(request.args).fill()
    filters, ignored = _filters(form)
    results = search.run(form.q.data, filters, _page_number(), PER_PAGE)
    long_query = len(search.fold(form.q.data or "").split()) > search.MAX_TERMS
    html = render_template("documents/index.html", **_context(), form=form, results=results,
                           ignored=ignored, long_query=long_query, arguments=_arguments(form))
    return public_page(html)


@bp.route("/van-ban/<slug>")
@public
def document(slug: str):
    """One document: its metadata, links and files."""
    found = queries.public_document(slug[:200])
    if found is None:
        abort(404)
    html = render_template("documents/document.html", **_context(), document=found,
                           links=queries.links_of(found), link_labels=LINK_LABELS,
                           link_labels_back=LINK_LABELS_BACK)
    return public_page(html)


@bp.route("/van-ban/nhom/<slug>")
@public
def group(slug: str):
    """A group: its subgroups and its documents (with those of its subgroups)."""
    found = queries.group_by_slug(slug[:200])
    if found is None:
        abort(404)
    results = search.run(None, search.Filters(group_ids=group_ids_under(found)),
                         _page_number(), PER_PAGE)
    html = render_template("documents/group.html", **_context(), group=found,
                           subgroups=queries.children(found), results=results)
    return public_page(html)


@bp.route("/van-ban/<slug>/tep/<int:file_id>")
@public
def download(slug: str, file_id: int):
    """A file of a public document, as an attachment with a safe name and its real type."""
    found = queries.public_document(slug[:200])
    row = db.session.get(DocumentFile, file_id) if found is not None else None
    if row is None or row.document_id != found.id:
        abort(404)
    path = files.path_of(row.sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=files.MEDIA_TYPES[row.kind], as_attachment=True,
                         download_name=row.filename, etag=row.sha256, conditional=True,
                         max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/robots.txt")
@public
def robots():
    """Crawlers may read the public pages (library, statistics), not the staff screens
    (the publication screen under /thong-ke/ included) or the sign-in."""
    lines = ["User-agent: *", "Allow: /$", "Allow: /van-ban", "Allow: /thong-ke/",
             "Disallow: /thong-ke/cong-bo/", "Disallow: /",
             f"Sitemap: {url_for('documents.sitemap', _external=True)}", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/sitemap.xml")
@public
def sitemap():
    """The home page, the library, every public group and document."""
    from xml.sax.saxutils import escape

    import sqlalchemy as sa

    from ..models import Document

    rows = db.session.execute(sa.select(Document.slug, Document.updated_at)
                              .where(*queries.PUBLIC).order_by(Document.id)).all()
    urls = [(url_for("web.home", _external=True), None),
            (url_for("documents.index", _external=True), None)]
    urls += [(url_for("documents.group", slug=g.slug, _external=True), None)
             for g in queries.groups()]
    urls += [(url_for("documents.document", slug=slug, _external=True), updated)
             for slug, updated in rows]
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, updated in urls:
        lastmod = f"<lastmod>{updated.date().isoformat()}</lastmod>" if updated else ""
        body.append(f"<url><loc>{escape(loc)}</loc>{lastmod}</url>")
    body.append("</urlset>")
    response = Response("\n".join(body), mimetype="application/xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
