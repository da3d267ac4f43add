"""The language switch (every page) and the translator workflow (``/i18n/…``)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..accounts.permissions import public, require
from ..extensions import db
from ..web.htmx import render
from . import coverage, exchange, exchange_formats, services
from .forms import ExportForm, ImportForm, LocaleForm
from .locales import DEFAULT
from .selection import COOKIE, PICKED, QUERY, registry

bp = Blueprint("i18n", __name__, url_prefix="/i18n")


def switch_options() -> list[tuple[str, str]]:
    return [(loc.tag, loc.display_name) for loc in registry().offered()]


def _safe_next(target: str | None) -> str:
    """A local path to go back to, without ``?lang=`` (it would override the new choice)."""
    target = target or ""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.netloc or "\\" in target:
        return url_for("web.home")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k != QUERY])
    return urlunsplit(("", "", parts.path, query, ""))


def _locale_or_404(tag: str):
    locale = registry().get(tag)
    if locale is None:
        abort(404)
    return locale


@bp.route("/locale", methods=("POST",))
@public
def switch():
    """Remember the chosen language on this device (cookie) and for the signed-in user."""
    form = LocaleForm(switch_options())
    if not form.validate():
        abort(400)
    tag = registry()[form.locale.data].tag
    if current_user.is_authenticated:
        services.set_user_locale(current_user, tag)
        db.session.commit()
    response = redirect(_safe_next(form.next.data), code=303)
    response.set_cookie(COOKIE, tag, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    if not current_user.is_authenticated:  # kept for the profile at sign-in
        response.set_cookie(PICKED, tag, samesite="Lax", httponly=True, secure=request.is_secure)
    return response


@bp.route("/")
@require("translation.manage")
def index():
    """Coverage of every language, for interface text and for content."""
    rows = coverage.report(registry().offered())
    return render("i18n/index.html", rows=rows)


@bp.route("/<tag>")
@require("translation.manage")
def detail(tag: str):
    """One language: its coverage, an export form and an import form."""
    locale = _locale_or_404(tag)
    return _detail_page(locale, ImportForm())


def _detail_page(locale, import_form, errors=(), status=200):
    row = coverage.report([locale])[0]
    page = render("i18n/detail.html", locale=locale, row=row, export_form=ExportForm(),
                  import_form=import_form, errors=list(errors), source=locale.tag == DEFAULT)
    return page, status


@bp.route("/<tag>/export")
@require("translation.manage")
def export(tag: str):
    """Download what is left to translate (or everything) as XLSX, CSV or PO."""
    locale = _locale_or_404(tag)
    form = ExportForm(request.args)
    if locale.tag == DEFAULT or not form.validate():
        abort(400)
    rows = exchange.export_rows(locale, everything=form.scope.data == "all")
    data = exchange_formats.write(rows, form.format.data, locale.tag)
    response = make_response(data)
    response.mimetype = exchange_formats.FORMATS[form.format.data].split(";")[0]
    response.headers["Content-Disposition"] = (
        f'attachment; filename="dantoc-{locale.catalog_dir.replace("@", "-")}-'
        f'{clock.today().isoformat()}.{form.format.data}"')
    return response


@bp.route("/<tag>/import", methods=("POST",))
@require("translation.manage")
def import_(tag: str):
    """Import a translated file: every row or none, with line-numbered errors."""
    locale = _locale_or_404(tag)
    form = ImportForm()
    if not form.validate():
        return _detail_page(locale, form, status=422)
    upload = form.file.data
    try:
        rows = exchange_formats.read(upload.read(), upload.filename or "", locale.tag)
        result = exchange.apply(locale, rows)
    except exchange.ImportRefused as refused:
        db.session.rollback()
        return _detail_page(locale, form, refused.errors[:100], status=422)
    db.session.commit()
    flash(_("Imported: %(changed)s changed, %(unchanged)s unchanged, %(empty)s left empty.",
            changed=result.changed, unchanged=result.unchanged, empty=result.empty))
    return redirect(url_for("i18n.detail", tag=locale.tag), code=303)
