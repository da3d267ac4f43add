"""Village heads: enrol a phone with an activation code, then unlock it with a PIN."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from ...audit import services as audit
from ...extensions import db
from ...web.htmx import render
from .. import devices, sessions
from ..forms import ActivationForm, UnlockForm
from ..permissions import public
from ..ratelimit import limit_activation, limit_pin, mark_failed
from .auth import safe_next
from .blueprint import bp


def _activation_message(reason: str) -> str:
    return {
        "used": _("This activation code has already been used. Ask your commune officer "
                  "for a new one."),
        "expired": _("This activation code has expired. Ask your commune officer for a "
                     "new one."),
    }.get(reason, _("This activation code is not valid. Check it, or ask your commune "
                    "officer for a new one."))


def _phone_name() -> str:
    agent = request.user_agent.string or ""
    return agent[:120] or _("Phone")


@bp.route("/activate", methods=("GET", "POST"))
@public
@limit_activation
def activate():
    """Enrol this phone: the activation code from the commune officer, then a new PIN."""
    form = ActivationForm(code=request.args.get("code", ""))
    if form.validate_on_submit():
        try:
            device, token = devices.activate(form.code.data, form.pin.data,
                                             form.device_name.data or _phone_name())
        except devices.ActivationError as error:
            db.session.rollback()
            mark_failed()
            audit.record("auth.activation_failed", after={"reason": error.reason})
            db.session.commit()
            form.code.errors.append(_activation_message(error.reason))
        else:
            sessions.start(device.user, device)
            db.session.commit()
            flash(_("This phone is ready. Next time, unlock it with your PIN."))
            response = redirect(url_for("web.home"), code=303)
            devices.set_device_cookie(response, token)
            return response
    return render("accounts/activate.html", form=form)


def _not_enrolled():
    flash(_("This phone is not enrolled, or it was signed out for good. Ask your commune "
            "officer for an activation code."))
    response = redirect(url_for("accounts.activate"), code=303)
    devices.forget_device_cookie(response)
    return response


@bp.route("/unlock", methods=("GET", "POST"))
@public
@limit_pin
def unlock():
    """Unlock an enrolled phone with its PIN (attempts limited; see docs/security.md)."""
    device = devices.device_for_token(request.cookies.get(devices.device_cookie_name()))
    if device is None:
        return _not_enrolled()
    form = UnlockForm()
    if form.validate_on_submit():
        if devices.check_pin(device, form.pin.data):
            sessions.start(device.user, device)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")), code=303)
        mark_failed()
        db.session.commit()
        if not device.active:
            return _not_enrolled()
        form.pin.errors.append(_("Wrong PIN."))
    return render("accounts/unlock.html", form=form, device=device)
