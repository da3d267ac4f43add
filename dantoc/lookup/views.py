"""The lookup screen: choices in the query string (a URL to share), the table, its exports.

Load → authorize → act: the choices are read and checked against what exists and what the
person may see (units of their scope, pending data only for those who may see it), then the
table is computed (:mod:`.query`) and shown, or sent as CSV or XLSX.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import clock
from ..accounts.permissions import authorize, can, deny, require
from ..catalogs.models import AdminUnit, fold
from ..catalogs.queries import units_on
from ..extensions import db
from ..i18n.content import tr
from ..i18n.formatting import format_number, format_period
from ..indicators import descriptions, visibility
from ..indicators.models import Indicator, Period
from ..submissions.messages import status_labels
from ..web.downloads import CSV, attachment
from ..web.errors import refuse
from ..web.htmx import render
from ..web.inputs import MAX_INT, db_int
from ..workflow import actors
from . import dashboard as dashboard_
from . import export, query
from . import jobs as lookup_jobs
from .forms import LookupForm

bp = Blueprint("lookup", __name__, url_prefix="/lookup")

DIMENSION_LABELS = {"ethnic_group": _l("Ethnic group"), "sex": _l("Sex"),
                    "religion": _l("Religion")}


def _indicator_choices(q: str | None) -> list[Indicator]:
    """The indicators the lookup offers: aggregated numbers and derived ones, of the
    officer's department's groups when they have a department."""
    aggregated = sa.and_(Indicator.value_type.in_(query.AGGREGATED_TYPES),
                         Indicator.aggregation != "none")
    rows = db.session.scalars(sa.select(Indicator).where(
        sa.or_(aggregated, Indicator.formula.is_not(None)),
        visibility.only_visible(Indicator.id, current_user))
        .order_by(Indicator.group_id, Indicator.code)).all()
    if q:
        words = fold(q).split()
        rows = [i for i in rows if all(w in fold(f"{i.code} {i.name}") for w in words)]
    return rows


def _unit_choices() -> list[tuple[int, str]]:
    """0: the whole province (a row per commune), or one commune (a row per village)."""
    communes = [u for u in units_on(clock.today(), level="commune")
                if can(current_user, "report.view", u)]
    whole = [(0, _("Whole province (by commune)"))] if current_user.unit_id is None or (
        current_user.unit and current_user.unit.level.code == "province") else []
    return whole + [(u.id, _("%(commune)s (by village)", commune=tr(u, "name")))
                    for u in sorted(communes, key=lambda u: fold(u.name))]


def _form() -> tuple[LookupForm, list[Indicator], list[Period]]:
    form = LookupForm(request.args)
    indicators = _indicator_choices(request.args.get("q"))
    chosen = {int(v) for v in request.args.getlist("indicator")
              if v.isdigit() and int(v) <= MAX_INT}
    offered = indicators + [i for i in _indicator_choices(None)
                            if i.id in chosen and i not in indicators]
    form.indicator.choices = [(i.id, tr(i, "name")) for i in offered]
    periods = list(db.session.scalars(sa.select(Period).order_by(Period.period_type,
                                                                   Period.start_date)))
    labels = [(p.id, format_period(p)) for p in periods]
    form.period_from.choices = form.period_to.choices = labels
    form.unit.choices = _unit_choices()
    form.by.choices = [(d, str(DIMENSION_LABELS[d])) for d in query.DIMENSIONS]
    return form, offered, periods


def _request(form: LookupForm, offered: list[Indicator], periods: list[Period]):
    """The checked request, or None with the problems added to the form."""
    if not request.args.get("indicator"):
        return None  # the page as first opened: choices only
    ok = form.validate()
    offered_ids = {str(i.id) for i in offered}
    if any(v not in offered_ids for v in request.args.getlist("indicator")):
        # unknown, not a number, or another department's: the same words, never the id
        form.indicator.errors = [_("An indicator you chose does not exist or is not among "
                                   "the indicators you may see. Choose from the list.")]
        ok = False
    if not form.indicator.data:
        form.indicator.errors = [*form.indicator.errors, _("Choose at least one indicator.")]
        ok = False
    by_id = {p.id: p for p in periods}
    first, last = by_id.get(form.period_from.data), by_id.get(form.period_to.data)
    if first is None or last is None:
        form.period_from.errors = [*form.period_from.errors, _("Choose the periods.")]
        return None
    if first.period_type != last.period_type:
        form.period_to.errors = [*form.period_to.errors,
                                 _("Both periods must be of the same kind (months, quarters…).")]
        ok = False
    elif first.start_date > last.start_date:
        form.period_to.errors = [*form.period_to.errors,
                                 _("The last period is before the first: swap them.")]
        ok = False
    if not ok:
        return None
    scope = db.session.get(AdminUnit, form.unit.data) if form.unit.data else None
    if scope is not None:
        authorize("report.view", scope)
    chosen = [i for i in offered if i.id in set(form.indicator.data)]
    span = [p for p in periods if p.period_type == first.period_type
            and first.start_date <= p.start_date <= last.start_date]
    pending = bool(form.pending.data) and actors.sees_pending(current_user)
    return query.Request(tuple(chosen), tuple(span), scope, tuple(form.by.data or ()),
                         bool(form.swap.data), pending, bool(form.rebase.data), clock.today())


@bp.route("/")
@require("report.view")
def index():
    """Choose indicators, periods, units and breakdowns; see the table; export it."""
    form, offered, periods = _form()
    wanted = _request(form, offered, periods)
    table = None
    # Choices that were sent but do not make a table (none, backwards, unknown): 422.
    status = 422 if wanted is None and request.args.get("indicator") else 200
    background = False
    if wanted is not None:
        cells = query.estimate(wanted)
        background = lookup_jobs.in_background(cells) and cells <= query.MAX_CELLS
        kind = request.args.get("format")
        if background and kind in lookup_jobs.FORMATS:
            return _offer_job(wanted, kind, cells)
        try:
            table = query.run(wanted)
        except query.TooLarge:
            message = _("This table would have more than %(n)s cells. Choose fewer "
                        "indicators, periods or breakdowns.",
                        n=format_number(query.MAX_CELLS))
            return refuse("invalid", message, html=lambda: render(
                "lookup/index.html", form=form, table=None, problem=message,
                sees_pending=actors.sees_pending(current_user), export_url=_export_url))
        if kind in lookup_jobs.FORMATS:
            return _download(table, kind, wanted.indicators)
    return render("lookup/index.html", "lookup/_table.html", form=form, table=table,
                  problem=None, sees_pending=actors.sees_pending(current_user),
                  export_url=_export_url, job_url=_job_url, background=background,
                  indicators=wanted.indicators if wanted else (),
                  described=descriptions.described), status


def _offer_job(wanted: query.Request, kind: str, cells: int):
    """The page that starts a large export in the background (a GET starts nothing)."""
    return render("jobs/start_export.html", title=_("Data lookup (%(format)s)",
                                                     format=kind.upper()),
                  what=", ".join(tr(i, "name") for i in wanted.indicators),
                  size=_("about %(n)s cells", n=format_number(cells)),
                  action=_job_url(kind), back=_export_url(None))


@bp.route("/export", methods=("POST",))
@require("report.view")
def export_job():
    """Start the export of a large table (the choices are in the query string, checked as
    for the page); the job's page shows its progress and, at the end, the file."""
    kind = request.args.get("format")
    form, offered, periods = _form()
    wanted = _request(form, offered, periods)
    if wanted is None or kind not in lookup_jobs.FORMATS:
        abort(422)
    job = lookup_jobs.start(wanted, kind, current_user)
    db.session.commit()
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


@bp.route("/dashboard")
@require("report.view")
def dashboard():
    """The province's (or a commune's) dashboard: completeness of the current period and the
    trend of key indicators, charts beside their numbers."""
    scope = None
    chosen = request.args.get("unit", 0, type=db_int)
    if chosen > 0:
        scope = db.get_or_404(AdminUnit, chosen)
    elif current_user.unit is not None and current_user.unit.level.code == "commune":
        scope = current_user.unit
    if scope is not None:
        authorize("report.view", scope)
    elif current_user.unit_id is not None and current_user.unit.level.code != "province":
        deny("report.view")
    day = clock.today()
    return render("lookup/dashboard.html", scope=scope, units=_unit_choices(),
                  completeness=dashboard_.completeness(scope, day),
                  trends=dashboard_.trends(scope, dashboard_.key_indicators(
                      current_user, period_type=dashboard_.trend_type(day)), day),
                  labels=status_labels(), chart=dashboard_, described=descriptions.described)


def _export_url(kind: str | None) -> str:
    args = request.args.to_dict(flat=False)
    args["format"] = [kind] if kind else []
    return url_for("lookup.index", **args)


def _job_url(kind: str) -> str:
    args = request.args.to_dict(flat=False)
    args["format"] = [kind]
    return url_for("lookup.export_job", **args)


def _download(table: query.Table, kind: str, indicators=()):
    name = lookup_jobs.filename(kind)
    if kind == "csv":
        return attachment(export.to_csv(table), name, CSV)
    return attachment(export.to_xlsx(table, _("Data lookup"), indicators), name)
