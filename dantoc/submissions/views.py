"""Village-head data entry: what is due, the form page, its checks, and the receipt.

Routes, in order: pages (home, form, receipt) → fragments (checks) → actions (POST on the
form page: save draft, add a grid row, submit). Everything works as plain form POSTs with
303 redirects; with htmx, pages and fragments are chosen in :func:`dantoc.web.htmx.render`,
and a submit answers with the receipt itself (one round trip instead of two).
"""

from __future__ import annotations

import uuid
from functools import partial

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import clock
from ..accounts.permissions import authorize, require
from ..extensions import db
from ..i18n.content import tr
from ..i18n.formatting import format_datetime, format_period
from ..i18n.messages import FILE_ONLY
from ..i18n.selection import current_tag
from ..indicators.models import Form
from ..pwa import services as pwa
from ..refusal import Refusal
from ..web import kept
from ..web.downloads import attachment
from ..web.errors import refuse
from ..web.htmx import render, wants_fragment, wants_json
from . import (
    behalf,
    checks,
    comments,
    jobs,
    messages,
    queries,
    services,
    spec_cache,
    states,
    workbook,
)
from .forms import WorkbookForm
from .page import Page, submitting
from .services import Target

bp = Blueprint("submissions", __name__, url_prefix="/entry")


@bp.app_template_global("returned_comments")
def returned_comments(submission) -> list:
    """(field in words, comment) of a returned report, for the village head's pages."""
    return comments.for_village_labelled(submission)


def _load(unit_id: int, form_code: str, period_code: str, verb: str = "submission.create"):
    """Load the target of a form URL, then authorize the village (403 outside it): its own
    village head, or with ``submission.enter_for`` an officer of its commune."""
    # Last period's submission is found with the target, for every page that shows the form
    # (a submit shows a receipt; if it is refused, its page looks it up itself).
    loaded = queries.entry_target(unit_id, form_code, period_code,
                                  previous=not submitting(request.form))
    unit, version, period = loaded.unit, loaded.version, loaded.period
    if (unit is None or version is None or period is None
            or version.fill_level_id != unit.level_id):
        abort(404)
    authorize(verb, unit)
    spec_cache.read_with(loaded.stamp)  # read with the target: the form's definition needs it
    submission = loaded.submission
    if submission is not None:
        version = submission.form_version
    return Target(version, unit, period), submission


def _opened(target: Target, submission, on_behalf: bool = False) -> Page:
    """The page as opened: the saved draft, or a new UUID (nothing is written)."""
    if submission is None:
        return Page(target, None, on_behalf=on_behalf, uuid=str(uuid.uuid4()),
                    base_version="0")
    base = submission.current_version
    version = (services.version_of(submission, base + 1)
               or services.version_of(submission, base))
    data = MultiDict(version.payload) if version else None
    return Page(target, submission, data, on_behalf=on_behalf,
                uuid=str(submission.client_uuid), base_version=str(base))


@bp.route("/")
@require("submission.create")
def index():
    """Village head home: the forms due for their village in open periods, with status."""
    unit = current_user.unit
    items = queries.due(unit, clock.today()) if unit is not None else []
    return render("submissions/index.html", unit=unit, items=items,
                  labels=messages.status_labels(), today=clock.today())


@bp.route("/<int:unit_id>/<form_code>/<period_code>", methods=("GET", "POST"))
@require("submission.create")
def entry(unit_id: int, form_code: str, period_code: str):
    """The form page. GET creates nothing; POST saves a draft, adds a row or submits."""
    target, submission = _load(unit_id, form_code, period_code)
    if request.method == "POST":  # locks are checked by the services, after replays
        return _post(Page(target, submission, request.form))
    return _show(target, submission)


def _show(target: Target, submission, on_behalf: bool = False):
    """GET of a form page: the receipt (or, for the commune, the review page) once sent, why
    it is locked, or the form with the saved draft."""
    state = submission.state if submission else None
    if state in (states.SUBMITTED, states.APPROVED):
        sent = (url_for("review.detail", key=submission.client_uuid) if on_behalf
                else url_for(".receipt", key=submission.client_uuid))
        return redirect(sent, code=303)
    lock = states.lock_reason(state, period_open=target.period.is_open(clock.today()),
                              authorized=True)
    if lock is not None:
        return render("submissions/locked.html", target=target, submission=submission,
                      message=messages.lock_message(lock, target.period), on_behalf=on_behalf)
    return render("submissions/entry.html", entry=_opened(target, submission, on_behalf))


@bp.route("/for/")
@require("submission.enter_for")
def behalf_index():
    """Entry on a village's behalf (nhập thay): the villages of the officer's commune with
    the forms due in open periods, to type in or to print as paper forms."""
    commune = current_user.unit
    villages = behalf.villages_due(commune, clock.today()) if commune is not None else []
    imports = list(dict.fromkeys((d.form_version, d.period) for v in villages for d in v.items))
    return render("submissions/behalf.html", commune=commune, villages=villages,
                  imports=imports, labels=messages.status_labels())


@bp.route("/for/<int:unit_id>/<form_code>/<period_code>", methods=("GET", "POST"))
@require("submission.enter_for")
def entry_for(unit_id: int, form_code: str, period_code: str):
    """The village's form page, for a commune officer typing it in on the village's behalf:
    the same form, checks and services, marked as entered by the commune."""
    target, submission = _load(unit_id, form_code, period_code, "submission.enter_for")
    if request.method == "POST":
        return _post(Page(target, submission, request.form, on_behalf=True))
    return _show(target, submission, on_behalf=True)


@bp.route("/for/<int:unit_id>/<form_code>/<period_code>/paper")
@require("submission.enter_for")
def paper(unit_id: int, form_code: str, period_code: str):
    """The paper phiếu of a village (A4, printed from the browser): filled by hand where
    there is no phone, then typed in by the commune on this site."""
    target, _submission = _load(unit_id, form_code, period_code, "submission.enter_for")
    return render("submissions/paper.html", paper=behalf.paper(target))


def _workbook_layout(form_code: str, period_code: str):
    """The officer's commune, the form version and period of an import URL (404 unknown)."""
    commune = current_user.unit
    form = db.first_or_404(sa.select(Form).where(Form.code == form_code))
    version = queries.latest_published(form)
    period = version and queries.period_by_code(version.period_type, period_code)
    if commune is None or version is None or period is None:
        abort(404)
    authorize("submission.enter_for", commune)
    return workbook.layout(version, period, commune, clock.today())


@bp.route("/for/import/<form_code>/<period_code>", methods=("GET", "POST"))
@require("submission.enter_for")
def import_workbook(form_code: str, period_code: str):
    """Upload the commune's filled template: every cell checked by the web form's rules;
    all villages imported, or none with each error at its sheet, row and column."""
    lay = _workbook_layout(form_code, period_code)
    form, problems, status = WorkbookForm(), [], 200
    if form.validate_on_submit():
        data = form.file.data.read()
        if len(lay.villages) > jobs.BACKGROUND_VILLAGES:
            job = jobs.start(lay, data, form.file.data.filename or "", current_user)
            db.session.commit()
            return redirect(url_for("jobs.show", job_id=job.id), code=303)
        try:
            result = workbook.import_workbook(data, lay, current_user, clock.today())
        except workbook.WorkbookRefused as refused:
            db.session.rollback()
            problems, status = [str(e) for e in refused.errors], 422
        else:
            db.session.commit()
            flash(_("Imported from the file: %(new)s reports sent for review, %(same)s "
                    "unchanged.", new=len(result.submitted), same=len(result.unchanged)))
            return redirect(url_for(".behalf_index"), code=303)
    return render("submissions/import.html", layout=lay, form=form,
                  problems=problems), status


@bp.route("/for/import/<form_code>/<period_code>/template.xlsx")
@require("submission.enter_for")
def workbook_template(form_code: str, period_code: str):
    """The XLSX template of the commune's villages for one form and period."""
    lay = _workbook_layout(form_code, period_code)
    return attachment(workbook.template(lay), f"{lay.target_version.form.code}-"
                                              f"{lay.period.code}-{lay.commune.code}.xlsx")


@bp.route("/receipt/<uuid:key>")
@require("submission.create")
def receipt(key: uuid.UUID):
    """What the server received: UUID, version, time and counts."""
    submission = queries.find_by_uuid(key)
    if submission is None:
        abort(404)
    authorize("submission.create", submission)
    version = services.version_of(submission, submission.current_version)
    if version is None:
        return redirect(_page_url(submission), code=303)
    return render("submissions/receipt.html", "submissions/_receipt.html",
                  **_receipt_context(submission, version))


@bp.route("/<int:unit_id>/<form_code>/<period_code>/check", methods=("POST",))
@require("submission.create")
def check(unit_id: int, form_code: str, period_code: str):
    """HTMX fragment: the messages of every field for what is typed now (writes nothing)."""
    target, submission = _load(unit_id, form_code, period_code)
    page = Page(target, submission, request.form)
    return render("submissions/entry.html", "submissions/_checks.html", entry=page)


@bp.route("/for/<int:unit_id>/<form_code>/<period_code>/check", methods=("POST",))
@require("submission.enter_for")
def check_for(unit_id: int, form_code: str, period_code: str):
    """:func:`check` for the commune's entry on a village's behalf."""
    target, submission = _load(unit_id, form_code, period_code, "submission.enter_for")
    page = Page(target, submission, request.form, on_behalf=True)
    return render("submissions/entry.html", "submissions/_checks.html", entry=page)


def _page_url(submission) -> str:
    return url_for(".entry", unit_id=submission.unit_id, form_code=submission.form.code,
                   period_code=submission.period.code)


def _receipt_context(submission, version, counts: tuple[int, int] | None = None) -> dict:
    """What ``submissions/_receipt.html`` shows: the submission (its state decides the
    messages), the state's label, and this report's own values as ``slot``."""
    return {"submission": submission, "status": messages.status_label(submission.state),
            "slot": _receipt_slots(submission, version, counts)}


def _receipt_slots(submission, version, counts: tuple[int, int] | None = None) -> dict:
    """The receipt's values that differ from one report to the next (kept.fragment's
    slots)."""
    values, indicators = counts or queries.value_counts(version)
    return {"form": submission.form.name, "village": submission.unit.name,
            "period": format_period(submission.period), "number": version.number,
            "received": format_datetime(version.submitted_at),
            "answers": ngettext("%(num)s value", "%(num)s values", values) + ", "
            + ngettext("%(num)s indicator", "%(num)s indicators", indicators),
            "uuid": submission.client_uuid, "code": submission.receipt_code}


def _receipt_fragment(submission, version, counts: tuple[int, int] | None) -> str:
    """The receipt a submit answers htmx with. A report just submitted (the usual answer)
    looks the same in every submit of a locale except for its values: that markup is
    rendered once per locale and kept; any other state is rendered afresh."""
    context = _receipt_context(submission, version, counts)
    slots = context.pop("slot")
    tag = current_tag()
    variant = ((tag, request.script_root) if tag in FILE_ONLY and not submission.state_reason
               and submission.state == states.SUBMITTED else None)
    return kept.fragment("submissions/_receipt.html", variant, slots, swap=True, **context)


def _post(page: Page):
    identity = page.form.identity()
    if identity is None:
        abort(400)
    verb = page.form.verb()
    if verb == "submit":
        return _submit(page, *identity)
    if verb == "add":
        return render("submissions/entry.html", entry=page)
    return _save(page, *identity)


def _write(page: Page, write, then):
    """Run a service write for the page: commit and answer ``then(result)``, or answer the
    refusal (nothing of it is kept). The answer shows what this transaction wrote: the
    commit keeps the objects as they are instead of expiring them, which re-read the
    submission, its form, unit, period, version and the user (seven statements) for the
    receipt."""
    try:
        result = write()
    except Refusal as error:
        return _refused(page, error)
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    return then(result)


def _save(page: Page, key: uuid.UUID, base: int):
    """Save a draft: keeps what was typed, even invalid text; 303 back, or a status swap."""
    return _write(page, lambda: services.save_draft(page.target, key, base, page.payload(),
                                                    current_user, source=page.source,
                                                    found=page.submission),
                  lambda _s: _saved(page))


def _saved(page: Page):
    if wants_fragment():
        page.saved_at = clock.now()
        return render("submissions/entry.html", "submissions/_status.html", entry=page)
    flash(_("Draft saved. You can continue later."))
    return redirect(page.url(), code=303)


def _submit(page: Page, key: uuid.UUID, base: int):
    """Submit: full validation; on errors the draft keeps the input and nothing is submitted."""
    if page.checks.blocking:
        return _write(page, lambda: services.save_draft(page.target, key, base, page.payload(),
                                                        current_user, source=page.source,
                                                        found=page.submission),
                      lambda _s: _invalid(page))
    cells = page.checks.cells  # read by the checks
    if cells is None:
        cells = checks.cells(page.spec, page.grids, page.form)
    received = (_received_for_village if page.on_behalf else partial(
        _received, counts=(len(cells), len({c.item.indicator.id for c in cells}))))
    return _write(page, lambda: services.submit(page.target, key, base, page.payload(), cells,
                                                current_user, source=page.source,
                                                found=page.submission), received)


def _invalid(page: Page):
    """The draft was kept with its errors: say what to fix."""
    if wants_json():
        return refuse("invalid", fields={name: [m.text for m in msgs]
                                         for name, msgs in page.checks.messages.items()})
    return render("submissions/entry.html", entry=page.shown())  # 200: with the messages


def _received(result: services.Result, counts: tuple[int, int] | None = None):
    """The original result: 201/200 JSON; for htmx the receipt fragment (about 1 KB instead
    of a 5 KB page: 1 s less of airtime on 2G) with its URL pushed; without JavaScript a 303
    to the receipt page. ``counts``: (values, indicators) of what was submitted, which a new
    version holds exactly (a replay's are read)."""
    submission, version = result.submission, result.version
    if result.replayed:
        counts = None
    if wants_json():
        values, indicators = counts or queries.value_counts(version)
        db.session.expire(version, ["submitted_at"])  # as stored, and as a replay reads it
        response = jsonify(uuid=str(submission.client_uuid), version=version.number,
                           submitted_at=version.submitted_at.isoformat(), values=values,
                           indicators=indicators,
                           receipt=url_for(".receipt", key=submission.client_uuid))
        response.status_code = 200 if result.replayed else 201
    elif request.htmx:  # the receipt itself, one round trip fewer, as a fragment
        response = make_response(_receipt_fragment(submission, version, counts))
        # Whatever htmx aimed at (a boosted form targets the body): the receipt goes into
        # <main>, the header stays, the address becomes the receipt's.
        response.headers.update({"HX-Retarget": "#main", "HX-Reswap": "innerHTML show:window:top",
                                 "HX-Push-Url": url_for(".receipt", key=submission.client_uuid)})
    else:
        response = redirect(url_for(".receipt", key=submission.client_uuid), code=303)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _received_for_village(result: services.Result):
    """Entered on the village's behalf: on to the review page, where another officer
    decides (the entering officer cannot approve it, four eyes). A JSON client (the phone's
    outbox, sending again a submit whose answer it missed) gets the same acknowledgement as
    for a village head's report: a redirect would read to it as a session that ended."""
    if wants_json():
        return _received(result)
    submission = result.submission
    flash(_("The report of %(village)s was entered on its behalf. Another officer of the "
            "commune reviews it.", village=tr(submission.unit, "name")))
    return redirect(url_for("review.detail", key=submission.client_uuid), code=303)


def _refused(page: Page, error: Refusal):
    """Nothing of a refused write is kept; say why, with the stable code for clients."""
    db.session.rollback()
    page.refusal = messages.refusal(error, page.target.period)
    current = error.obj.current_version if error.obj is not None else None
    return refuse(error.code, page.refusal, html=lambda: render("submissions/entry.html",
                                                                entry=page.shown()),
                  current_version=current)


@bp.after_request
def _quarantine(response):
    """A JSON submit refused for its state or scope (an offline outbox's replay, usually) is
    kept in the server's quarantine (docs/offline.md); the refusal itself is unchanged."""
    refused = current_user.is_authenticated and pwa.refused_submit(response)
    if refused:
        try:
            pwa.quarantine_refusal(current_user, *refused)
        except Exception:  # the refusal must still reach the phone, which keeps its copy
            db.session.rollback()
            current_app.logger.exception("could not quarantine a refused submit")
    return response
