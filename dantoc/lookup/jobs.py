"""Lookup tables too large to write in a request (more than ``EXPORT_BACKGROUND_CELLS``
cells) are exported as CSV or XLSX by a background job (docs/jobs.md)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..accounts.permissions import authorize, can, deny
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..i18n.content import tr
from ..indicators.models import Indicator, Period
from ..jobs.models import Job
from ..jobs.queue import File, JobRefused, Progress, enqueue, register, unfinished_same
from ..web.downloads import CSV, XLSX
from ..workflow import actors
from . import export, query

KIND = "lookup.export"
FORMATS = {"csv": CSV, "xlsx": XLSX}


def in_background(cells: int) -> bool:
    """Whether a table of ``cells`` cells is exported by a job rather than in the request."""
    return cells > current_app.config["EXPORT_BACKGROUND_CELLS"]


def filename(kind: str) -> str:
    return f"tra-cuu-{clock.today().isoformat()}.{kind}"


def start(wanted: query.Request, kind: str, owner) -> Job:
    """Queue the export of the (checked, authorized) request as ``kind`` (csv or xlsx); the
    owner's unfinished job for the same table when there is one. The caller commits."""
    params = {"format": kind, "indicators": [i.id for i in wanted.indicators],
              "periods": [p.id for p in wanted.periods],
              "scope": wanted.scope.id if wanted.scope else None, "by": list(wanted.by),
              "swap": wanted.swap, "pending": wanted.pending}
    title = _("Data lookup (%(format)s): %(indicators)s", format=kind.upper(),
              indicators=", ".join(tr(i, "name") for i in wanted.indicators))
    return unfinished_same(KIND, owner, params) or enqueue(KIND, title, owner=owner,
                                                           params=params)


def _whole_province_allowed(user) -> bool:
    return user.unit_id is None or user.unit.level.code == "province"


def _allowed(user, params: dict) -> tuple[bool, AdminUnit | None, list[Indicator]]:
    """Whether ``user`` may (still) see the table of ``params``, its scope and indicators."""
    scope = db.session.get(AdminUnit, params["scope"]) if params["scope"] else None
    indicators = list(db.session.scalars(sa.select(Indicator).where(
        Indicator.id.in_(params["indicators"])).order_by(Indicator.group_id, Indicator.code)))
    ok = (can(user, "report.view") and len(indicators) == len(params["indicators"])
          and all(can(user, "report.view", i) for i in indicators)
          and (can(user, "report.view", scope) if params["scope"]
               else _whole_province_allowed(user)))
    if params["scope"] and scope is None:
        ok = False
    return ok, scope, indicators


def may_download(job: Job) -> None:
    """The file is given only while its owner may still see every part of the table."""
    ok, scope, _indicators = _allowed(current_user, job.params)
    if not ok:
        if scope is not None:
            authorize("report.view", scope)
        deny("report.view")


@register(KIND, may_download=may_download)
def run(job: Job, progress: Progress) -> File:
    """Compute the table as its owner would see it, then write the file row by row."""
    params = job.params
    ok, scope, indicators = _allowed(job.owner, params) if job.owner else (False, None, [])
    if not ok:
        raise JobRefused([{"message": _("You may no longer see these figures.")}])
    periods = list(db.session.scalars(sa.select(Period).where(Period.id.in_(params["periods"]))
                                      .order_by(Period.start_date)))
    wanted = query.Request(tuple(indicators), tuple(periods), scope, tuple(params["by"]),
                           bool(params["swap"]),
                           bool(params["pending"]) and actors.sees_pending(job.owner))
    try:
        table = query.run(wanted)
    except query.TooLarge:
        raise JobRefused([{"message": _("This table would have more than %(n)s cells.",
                                        n=query.MAX_CELLS)}]) from None
    kind = params["format"]
    lines = len(table.rows) + 2
    progress(0, lines)
    if kind == "csv":
        body = export.to_csv(table, progress)
    else:
        body = export.to_xlsx(table, _("Data lookup"), indicators, progress)
    return File(body, filename(kind), FORMATS[kind])
