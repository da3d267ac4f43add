"""Catalog imports too large for one request (up to 20,000 rows) run as background jobs."""

from __future__ import annotations

import io

from flask_babel import gettext as _

from ..jobs.models import Job
from ..jobs.queue import JobRefused, Progress, enqueue, register
from .importer import ImportRefused, import_file

KIND = "catalog.import"
#: Files with more rows than this are imported in the background (a request has 30 s).
BACKGROUND_ROWS = 500


def start(kind: str, data: bytes, filename: str, owner) -> Job:
    """Queue the import of ``data`` (the caller commits)."""
    return enqueue(KIND, _("Import of %(file)s", file=filename), owner=owner,
                   params={"kind": kind, "filename": filename}, data=data)


@register(KIND)
def run(job: Job, progress: Progress) -> dict:
    """Import the job's file in the worker's transaction: all rows or none."""
    try:
        result = import_file(job.params["kind"], io.BytesIO(job.data or b""),
                             job.params["filename"], actor=job.owner, progress=progress)
    except ImportRefused as refused:
        raise JobRefused([{"line": e.line, "column": e.column, "message": str(e)}
                          for e in refused.errors]) from None
    return {"created": result.created, "updated": result.updated}
