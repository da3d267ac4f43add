"""Village-data XLSX imports of communes with many villages run as background jobs."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import clock
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..indicators.models import Form
from ..jobs.models import Job
from ..jobs.queue import JobRefused, Progress, enqueue, register
from . import queries, workbook

KIND = "submissions.import_workbook"
#: A commune file with more villages than this is imported in the background.
BACKGROUND_VILLAGES = 40


def start(lay: workbook.Layout, data: bytes, filename: str, owner) -> Job:
    """Queue the import of a commune's filled template (the caller commits)."""
    return enqueue(KIND, _("Import of %(file)s", file=filename), owner=owner, data=data,
                   params={"form_code": lay.target_version.form.code,
                           "period_code": lay.period.code, "commune_id": lay.commune.id})


def _layout(params: dict, day) -> workbook.Layout:
    form = db.session.scalar(sa.select(Form).where(Form.code == params["form_code"]))
    version = form and queries.latest_published(form)
    period = version and queries.period_by_code(version.period_type, params["period_code"])
    commune = db.session.get(AdminUnit, params["commune_id"])
    if version is None or period is None or commune is None:
        raise JobRefused([{"message": _("The form or the period no longer exists.")}])
    return workbook.layout(version, period, commune, day)


@register(KIND)
def run(job: Job, progress: Progress) -> dict:
    """Check every cell and submit every filled village, in the worker's transaction."""
    day = clock.today()
    lay = _layout(job.params, day)
    progress(0, len(lay.villages))
    try:
        result = workbook.import_workbook(job.data or b"", lay, job.owner, day)
    except workbook.WorkbookRefused as refused:
        raise JobRefused([{"message": str(e)} for e in refused.errors]) from None
    progress(len(lay.villages), len(lay.villages))
    return {"submitted": len(result.submitted), "unchanged": len(result.unchanged)}
