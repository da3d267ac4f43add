"""Catalog overview, import, ethnic groups, religions and departments."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import clock
from ...accounts.permissions import require
from ...extensions import db
from ...web.forms import submitted
from ...web.htmx import render
from .. import jobs, queries, services
from ..forms import DepartmentForm, ImportForm, TextFilterForm
from ..importer import KINDS, ImportRefused, import_file, read_table
from ..models import Department, EthnicGroup, Religion, fold
from .blueprint import bp

#: An example row per importable catalog, for the downloadable templates.
EXAMPLES = {
    "units": {"code": "03388-001", "name": "Tổ dân phố 1", "unit_type": "Tổ dân phố",
              "parent_code": "03388", "valid_from": "2025-07-01", "is_sample": "no"},
    "ethnic_groups": {"code": "03", "code_2008": "03", "name": "Thái",
                      "lives_in_community_in_province": "yes"},
    "religions": {"code": "01", "name": "Phật giáo", "recognised": "yes"},
}


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@bp.route("/")
@require("catalog.view")
def index():
    """Overview: what each catalog holds today."""
    day = clock.today()
    return render("catalogs/index.html", day=day, by_level=queries.counts_by_level(day),
                  ethnic_groups=_count(EthnicGroup), departments=_count(Department),
                  religions=_count(Religion, Religion.recognised))


@bp.route("/import", methods=("GET", "POST"))
@require("catalog.manage")
def import_page():
    """Upload a CSV or XLSX file; every row is checked and all are imported, or none. A file
    of more than ``jobs.BACKGROUND_ROWS`` rows is imported by a background job, whose page
    shows its progress (a 20,000-row file takes longer than a request may)."""
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        data, filename = upload.stream.read(), upload.filename or ""
        try:
            if _rows(data, filename) > jobs.BACKGROUND_ROWS:
                job = jobs.start(form.kind.data, data, filename, current_user)
                db.session.commit()
                return redirect(url_for("jobs.show", job_id=job.id), code=303)
            result = import_file(form.kind.data, io.BytesIO(data), filename)
        except ImportRefused as refused:
            db.session.rollback()
            problems = refused.errors
        else:
            db.session.commit()
            flash(_("Imported: %(created)s new, %(updated)s updated.",
                    created=result.created, updated=result.updated))
            return redirect(url_for(".import_page"), code=303)
    return render("catalogs/import.html", form=form, problems=problems, kinds=KINDS,
                  background_rows=jobs.BACKGROUND_ROWS)


def _rows(data: bytes, filename: str) -> int:
    """The file's rows (file-level refusals such as a wrong type come out here, at once)."""
    return len(read_table(data, filename)[1])


@bp.route("/import/<kind>.csv")
@require("catalog.view")
def import_template(kind: str):
    """A CSV with the accepted columns and one example row."""
    if kind not in KINDS:
        abort(404)
    columns = list(KINDS[kind].readers)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(EXAMPLES[kind])
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={kind}.csv"})


@bp.route("/ethnic-groups")
@require("catalog.view")
def ethnic_groups():
    """The 54 ethnic groups with both code lists; searchable by any name, without accents."""
    form = TextFilterForm(request.args)
    words = fold(form.q.data).split()
    groups = [g for g in db.session.scalars(sa.select(EthnicGroup).order_by(EthnicGroup.code))
              if all(w in fold(f"{g.code} {g.code_2008} {g.name} {g.common_name} "
                                f"{g.other_names}") for w in words)]
    return render("catalogs/ethnic_groups.html", "catalogs/_ethnic_rows.html", form=form,
                  groups=groups)


@bp.route("/religions")
@require("catalog.view")
def religions():
    """Religions: the 16 recognised ones, with the GSO code where there is one."""
    rows = db.session.scalars(sa.select(Religion).order_by(
        Religion.recognised.desc(), Religion.code.is_(None), Religion.code, Religion.name))
    return render("catalogs/religions.html", religions=list(rows))


@bp.route("/departments")
@require("catalog.view")
def departments():
    """Departments (phòng, ban) of the provincial agency."""
    return _departments_page(DepartmentForm(formdata=None))


def _departments_page(form: DepartmentForm):
    rows = db.session.scalars(sa.select(Department).order_by(Department.code))
    return render("catalogs/departments.html", departments=list(rows), form=form)


@bp.route("/departments/new", methods=("POST",))
@require("catalog.manage")
def department_create():
    """Add a department."""
    form = DepartmentForm()
    done, _department = submitted(form, lambda: services.create_department(form.code.data,
                                                                           form.name.data))
    if not done:
        return _departments_page(form)
    flash(_("The department was added."))
    return redirect(url_for(".departments"), code=303)
