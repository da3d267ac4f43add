"""One way to answer with a file to download (XLSX, CSV): type and a safe file name."""

from __future__ import annotations

import re

from flask import Response, make_response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def attachment(body: bytes, filename: str, media_type: str = XLSX) -> Response:
    """``body`` as a download named ``filename`` (only letters, digits, ``.-_`` kept, so
    the header cannot be broken by a code or a period label)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:120] or "download"
    response = make_response(body)
    response.headers.update({"Content-Type": media_type,
                             "Content-Disposition": f'attachment; filename="{safe}"'})
    return response
