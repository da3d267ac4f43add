"""The documents blueprint: public pages under ``/van-ban`` (readable Vietnamese URLs),
staff screens under ``/documents``."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, request

from ...catalogs.checks import show_date

bp = Blueprint("documents", __name__)

#: Endpoints that accept a file: the request may be as large as the configured attachment.
UPLOADS = frozenset({"documents.upload"})


@bp.url_value_preprocessor
def _allow_large_upload(endpoint, _values) -> None:
    """Raise the body limit for uploads only. URL value preprocessors run before the CSRF
    check reads the form, so the larger limit is in force when the body is parsed."""
    if endpoint in UPLOADS:
        request.max_content_length = current_app.config["DOCUMENT_MAX_BYTES"] + 64 * 1024


@bp.app_template_filter("doc_date")
def doc_date(day: date | None) -> str:
    """dd/mm/yyyy, or "—" when the sources do not say."""
    return show_date(day) if day else "—"
