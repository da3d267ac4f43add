"""User administration: province admins manage everyone, commune officers the village
heads of their commune. Load → authorize → act → render, every change audited."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...extensions import db
from ...web.htmx import render
from ...web.inputs import page_number
from .. import devices, queries, services
from ..forms import ActionForm, UserForm, UserSearchForm
from ..models import Device, User
from ..permissions import authorize, require
from ..qr import qr_svg
from ..scope import unscoped
from .blueprint import bp

VILLAGE_HEAD = "village_head"


def _target(user_id: int) -> User:
    """The user ``user_id``, if the signed-in user may manage them (404 / 403 logged)."""
    user = db.get_or_404(User, user_id)
    authorize("user.manage", user)
    return user


def _action() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


def _fill_choices(form: UserForm, target: User | None = None) -> dict[str, bool]:
    """Fill the choices with what the signed-in user may grant; returns which of the
    optional fields apply to them (a commune officer, who enrols village heads only, picks
    neither a role, a department nor a password, and only villages)."""
    form.role_code.choices = queries.role_choices(current_user)
    roles = [code for code, _label in form.role_code.choices]
    heads_only = roles == [VILLAGE_HEAD]
    form.unit_id.choices = queries.unit_choices(current_user, target.unit if target else None,
                                                level="village" if heads_only else None)
    if unscoped(current_user):
        form.unit_id.choices.insert(0, (0, _("(whole system, no unit)")))
    form.department_id.choices = queries.department_choices(_("(none)"))
    return {"role": len(roles) > 1, "password": not heads_only,
            "department": "department_officer" in roles}


def _defaults(form: UserForm) -> None:
    """A new user's role and unit as asked (``?role=``, ``?unit=``: completeness's "create
    an account" link), else the only role, and for a village head the first village that
    has none."""
    roles = [code for code, _label in form.role_code.choices]
    wanted = request.args.get("role")
    form.role_code.data = wanted if wanted in roles else (roles[0] if len(roles) == 1
                                                            else None)
    units = [unit_id for unit_id, _label in form.unit_id.choices if unit_id]
    unit = request.args.get("unit", type=int)
    if unit in units:
        form.unit_id.data = unit
    elif form.role_code.data == VILLAGE_HEAD:
        form.unit_id.data = queries.first_without(VILLAGE_HEAD, units)


@bp.route("/users")
@require("user.manage")
def users():
    """The people the signed-in user manages, by unit, with search and pages."""
    form = UserSearchForm(request.args)
    form.validate()
    page = db.paginate(queries.managed_users(current_user, form.q.data),
                       per_page=current_app.config["PAGE_SIZE"], page=page_number(),
                       error_out=False)
    return render("accounts/users.html", "accounts/_user_rows.html", form=form, results=page,
                  q=form.q.data or "")


@bp.route("/users/new", methods=("GET", "POST"))
@require("user.manage")
def user_new():
    """Create a user in one's scope with a role one may grant."""
    form = UserForm()
    applies = _fill_choices(form)
    if request.method == "GET":
        _defaults(form)
    if form.validate_on_submit():
        if form.role_code.data != VILLAGE_HEAD and not form.password.data:
            form.password.errors.append(_("Staff need a password to sign in."))
        else:
            try:
                user = services.create_user(
                    form.username.data, form.full_name.data, form.role_code.data,
                    password=form.password.data or None, unit_id=form.unit_id.data,
                    department_id=form.department_id.data, phone=form.phone.data,
                    email=form.email.data)
            except ValueError:
                db.session.rollback()
                form.username.errors.append(_("This username is taken."))
            else:
                db.session.commit()
                flash(_("The account was created."))
                return redirect(url_for("accounts.user_detail", user_id=user.id), code=303)
    return render("accounts/user_form.html", form=form, user=None, applies=applies)


@bp.route("/users/<int:user_id>")
@require("user.manage")
def user_detail(user_id: int):
    """One user: scope, status, devices, and the actions on them."""
    user = _target(user_id)
    return render("accounts/user_detail.html", user=user, devices=queries.devices_of(user),
                  form=ActionForm())


@bp.route("/users/<int:user_id>/edit", methods=("GET", "POST"))
@require("user.manage")
def user_edit(user_id: int):
    """Change a user's name, role, scope unit, department or password."""
    user = _target(user_id)
    form = UserForm(obj=user)
    applies = _fill_choices(form, user)
    form.username.data = user.username  # not editable: it is what people sign in with
    if form.validate_on_submit():
        services.update_user(user, form.data)
        db.session.commit()
        flash(_("The changes were saved."))
        return redirect(url_for("accounts.user_detail", user_id=user.id), code=303)
    return render("accounts/user_form.html", form=form, user=user, applies=applies)


@bp.route("/users/<int:user_id>/disable", methods=("POST",))
@require("user.manage")
def user_disable(user_id: int):
    """Disable an account: its sessions end and its phones are revoked at once."""
    return _set_active(user_id, False, _("The account was disabled and signed out everywhere."))


@bp.route("/users/<int:user_id>/enable", methods=("POST",))
@require("user.manage")
def user_enable(user_id: int):
    """Enable a disabled account again."""
    return _set_active(user_id, True, _("The account was enabled."))


def _set_active(user_id: int, active: bool, message: str):
    user = _target(user_id)
    _action()
    services.set_active(user, active)
    db.session.commit()
    flash(message)
    return redirect(url_for("accounts.user_detail", user_id=user.id), code=303)


def _show_code(user: User, row, code: str):
    link = url_for("accounts.activate", code=code, _external=True)
    response = current_app.make_response(render(
        "accounts/activation.html", user=user, code=code, link=link, qr=qr_svg(link),
        expires_at=row.expires_at))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/users/<int:user_id>/activation", methods=("POST",))
@require("user.manage")
def user_activation(user_id: int):
    """Issue a one-time activation code (text, link and QR code) for a village head."""
    user = _target(user_id)
    _action()
    if not user.active:
        flash(_("Enable the account first."))
        return redirect(url_for("accounts.user_detail", user_id=user.id), code=303)
    row, code = devices.issue_activation(user, current_user)
    db.session.commit()
    return _show_code(user, row, code)


@bp.route("/users/<int:user_id>/reset-pin", methods=("POST",))
@require("user.manage")
def user_reset_pin(user_id: int):
    """Forgotten PIN or lost phone: revoke every phone and issue a new activation code."""
    user = _target(user_id)
    _action()
    row, code = devices.reset_pin(user, current_user)
    db.session.commit()
    return _show_code(user, row, code)


@bp.route("/users/<int:user_id>/devices/<int:device_id>/revoke", methods=("POST",))
@require("user.manage")
def device_revoke(user_id: int, device_id: int):
    """Revoke one phone: its session ends at once and its PIN stops working."""
    user = _target(user_id)
    device = db.get_or_404(Device, device_id)
    if device.user_id != user.id:
        abort(404)
    _action()
    if device.active:
        devices.revoke_device(device)
        db.session.commit()
    flash(_("The phone was signed out for good."))
    return redirect(url_for("accounts.user_detail", user_id=user.id), code=303)
