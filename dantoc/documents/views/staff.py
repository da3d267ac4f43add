"""Staff screens: documents, groups and announcements. Load → authorize → act; the services
flush and audit, the view commits."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from ... import clock
from ...accounts.permissions import authorize, can, require
from ...catalogs.models import AdminLevel, AdminUnit, Department
from ...extensions import db
from ...refusal import FieldError, Refusal
from ...web.errors import refuse
from ...web.forms import show_error, submitted
from ...web.htmx import render
from .. import queries, services
from ..forms import (
    LINK_LABELS,
    LINK_LABELS_BACK,
    VALIDITY_LABELS,
    AnnouncementForm,
    DocumentForm,
    FileForm,
    GroupForm,
    LinkForm,
    StateForm,
)
from ..models import Announcement, DocState, Document, DocumentGroup
from .blueprint import bp


def _my_groups() -> list[DocumentGroup]:
    """The groups whose documents the signed-in person may manage."""
    return [g for g in queries.groups() if can(current_user, "document.manage", g)]


def _group_or_refuse(group_id: int | None) -> DocumentGroup:
    group = db.session.get(DocumentGroup, group_id) if group_id else None
    if group is None:
        raise FieldError(_("Choose a group."), "group")
    authorize("document.manage", group)
    return group


# Documents ---------------------------------------------------------------------------------

@bp.route("/documents/")
@require("document.manage")
def manage():
    """The documents of the groups this person manages, newest change first."""
    groups = _my_groups()
    state = request.args.get("state") if request.args.get("state") in DocState.ALL else None
    rows = queries.staff_documents([g.id for g in groups], state)
    return render("documents/manage.html", documents=rows, state=state,
                  state_labels=_state_labels())


def _state_labels() -> dict:
    return {DocState.DRAFT: _("Draft"), DocState.PUBLISHED: _("Published"),
            DocState.RETIRED: _("Retired")}


@bp.route("/documents/new", methods=("GET", "POST"))
@require("document.manage")
def create():
    """A new document, kept as a draft until someone publishes it."""
    form = DocumentForm().fill(_my_groups())

    def write():
        return services.create_document(**form.values(_group_or_refuse(form.group.data)))

    done, document = submitted(form, write)
    if done:
        flash(_("Document saved as a draft."))
        return redirect(url_for(".edit", document_id=document.id), code=303)
    return render("documents/edit.html", form=form, document=None), (
        422 if form.errors or form.form_errors else 200)


def _load(document_id: int) -> Document:
    document = db.get_or_404(Document, document_id)
    authorize("document.manage", document)
    return document


def _edit_page(document: Document, form=None, file_form=None, link_form=None, status=200):
    form = form or DocumentForm(obj=document, formdata=None).fill(_my_groups())
    if form.group.data is None:
        form.group.data = document.group_id
    page = render("documents/edit.html", form=form, document=document,
                  file_form=file_form or FileForm(formdata=None),
                  link_form=link_form or LinkForm(formdata=None),
                  state_form=StateForm(formdata=None), links=queries.links_of(document, False),
                  link_labels=LINK_LABELS, link_labels_back=LINK_LABELS_BACK,
                  actions=services.possible_actions(document),
                  state_labels=_state_labels(), validity_labels=VALIDITY_LABELS)
    return page, status


@bp.route("/documents/<int:document_id>", methods=("GET", "POST"))
@require("document.manage")
def edit(document_id: int):
    """Correct a document's metadata; attach files, link documents, publish or retire."""
    document = _load(document_id)
    if request.method == "GET":
        return _edit_page(document)
    form = DocumentForm().fill(_my_groups())

    def write():
        return services.update_document(document,
                                        **form.values(_group_or_refuse(form.group.data)))

    done, _result = submitted(form, write)
    if done:
        flash(_("Changes saved."))
        return redirect(url_for(".edit", document_id=document.id), code=303)
    return _edit_page(document, form=form,
                      status=422 if form.errors or form.form_errors else 200)


@bp.route("/documents/<int:document_id>/state", methods=("POST",))
@require("document.manage")
def change_state(document_id: int):
    """Publish, unpublish, retire or restore."""
    document = _load(document_id)
    return _state_change(lambda action: services.change_state(document, action),
                         lambda: _("Status: %(state)s.", state=_state_labels()[document.state]),
                         url_for(".edit", document_id=document.id))


def _state_change(change, done, back: str):
    """The action of a StateForm through ``change``: 400 for a bad form, the refusal (nothing
    kept), or commit, say ``done()`` and go ``back``."""
    form = StateForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        change(form.action.data)
    except Refusal as refusal:
        db.session.rollback()
        return refuse(refusal.code)
    db.session.commit()
    flash(done())
    return redirect(back, code=303)


@bp.route("/documents/<int:document_id>/files", methods=("POST",))
@require("document.manage")
def upload(document_id: int):
    """Attach a file: checked by its content, stored under its hash; nothing kept if refused."""
    document = _load(document_id)
    form = FileForm()
    if form.validate_on_submit():
        upload_file = form.file.data
        try:
            services.attach_file(document, upload_file.read(), upload_file.filename)
        except FieldError as error:
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("File attached."))
            return redirect(url_for(".edit", document_id=document.id), code=303)
    return _edit_page(document, file_form=form, status=422)


@bp.route("/documents/<int:document_id>/links", methods=("POST",))
@require("document.manage")
def link(document_id: int):
    """Record that this document replaces, amends or guides another."""
    document = _load(document_id)
    form = LinkForm()

    def write():
        target = db.session.scalar(sa.select(Document).where(
            Document.number == (form.target.data or "").strip()))
        return services.add_link(document, target, form.kind.data)

    done, _result = submitted(form, write)
    if done:
        flash(_("Link saved."))
        return redirect(url_for(".edit", document_id=document.id), code=303)
    return _edit_page(document, link_form=form, status=422)


# Groups ------------------------------------------------------------------------------------

def _group_form(form: GroupForm, own: DocumentGroup | None) -> GroupForm:
    form.parent.choices = [SelectChoice(None, _("(top level)"))] + [
        SelectChoice(g.id, "– " * queries.depth(g) + g.name) for g in queries.groups(True)
        if own is None or g.id != own.id]
    departments = db.session.scalars(sa.select(Department).order_by(Department.code))
    if current_user.department_id is None:
        form.department.choices = [SelectChoice(None, _("(no department)"))]
    else:
        form.department.choices = []
    form.department.choices += [SelectChoice(d.id, d.name) for d in departments
                                if current_user.department_id in (None, d.id)]
    return form


@bp.route("/documents/groups")
@require("document.manage")
def groups():
    """The tree of document groups."""
    return render("documents/groups.html", groups=queries.groups(True), depth=queries.depth)


@bp.route("/documents/groups/new", methods=("GET", "POST"))
@bp.route("/documents/groups/<int:doc_group_id>", methods=("GET", "POST"))
@require("document.manage")
def group_edit(doc_group_id: int | None = None):
    """Create or change a group (retiring it hides it and its page from citizens)."""
    group = db.get_or_404(DocumentGroup, doc_group_id) if doc_group_id else None
    if group is not None:
        authorize("document.manage", group)
    form = _group_form(GroupForm(obj=group) if group else GroupForm(), group)
    if group is not None and request.method == "GET":
        form.parent.data, form.department.data = group.parent_id, group.department_id

    def write():
        parent = db.session.get(DocumentGroup, form.parent.data) if form.parent.data else None
        if current_user.department_id is not None and (
                form.department.data != current_user.department_id):
            raise FieldError(_("Choose your department."), "department")
        return services.save_group(group, name=form.name.data, parent=parent,
                                   department_id=form.department.data,
                                   position=form.position.data or 0,
                                   retired=form.retired.data)

    done, _result = submitted(form, write)
    if done:
        flash(_("Group saved."))
        return redirect(url_for(".groups"), code=303)
    return render("documents/group_form.html", form=form, group=group), (
        422 if form.errors or form.form_errors else 200)


# Announcements -----------------------------------------------------------------------------

def _speaking_units() -> list[AdminUnit]:
    """The province and the communes valid today that this person speaks for."""
    day = clock.today()
    rows = db.session.scalars(sa.select(AdminUnit).join(AdminLevel, AdminUnit.level_id ==
                                                        AdminLevel.id).where(
        AdminLevel.rank.in_((1, 3)), AdminUnit.valid_from <= day,
        sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= day)).order_by(
        AdminLevel.rank, AdminUnit.name))
    return [u for u in rows if can(current_user, "announcement.manage", u)]


@bp.route("/documents/announcements")
@require("announcement.manage")
def announcements():
    """The notices of the units this person speaks for."""
    rows = [a for a in queries.all_announcements()
            if can(current_user, "announcement.manage", a)]
    return render("documents/announcements.html", announcements=rows,
                  state_form=StateForm(formdata=None))


@bp.route("/documents/announcements/new", methods=("GET", "POST"))
@bp.route("/documents/announcements/<int:announcement_id>", methods=("GET", "POST"))
@require("announcement.manage")
def announcement_edit(announcement_id: int | None = None):
    """Write or correct a notice (a new one is a draft until published)."""
    notice = db.get_or_404(Announcement, announcement_id) if announcement_id else None
    if notice is not None:
        authorize("announcement.manage", notice)
    form = AnnouncementForm(obj=notice) if notice else AnnouncementForm()
    form.unit.choices = [SelectChoice(u.id, u.name) for u in _speaking_units()]
    if notice is None and request.method == "GET":
        form.dated.data = clock.today()
    if notice is not None and request.method == "GET":
        form.unit.data = notice.unit_id

    def write():
        unit = db.session.get(AdminUnit, form.unit.data)
        if unit is None or not can(current_user, "announcement.manage", unit):
            raise FieldError(_("Choose the province or commune that gives the notice."),
                             "unit")
        return services.save_announcement(notice, unit=unit, title=form.title.data,
                                          body=form.body.data, dated=form.dated.data)

    done, _result = submitted(form, write)
    if done:
        flash(_("Notice saved."))
        return redirect(url_for(".announcements"), code=303)
    return render("documents/announcement_form.html", form=form, notice=notice), (
        422 if form.errors or form.form_errors else 200)


@bp.route("/documents/announcements/<int:announcement_id>/state", methods=("POST",))
@require("announcement.manage")
def announcement_state(announcement_id: int):
    """Publish, withdraw or take back a notice."""
    notice = db.get_or_404(Announcement, announcement_id)
    authorize("announcement.manage", notice)
    return _state_change(lambda action: services.change_announcement(notice, action),
                         lambda: _("Notice updated."), url_for(".announcements"))
