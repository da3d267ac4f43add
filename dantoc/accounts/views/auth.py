"""Staff sign-in and sign-out, own account, own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ...audit import services as audit
from ...extensions import db
from ...web.htmx import render
from .. import devices, services, sessions
from ..forms import LoginForm, LogoutForm, PasswordChangeForm
from ..models import Device, User
from ..permissions import public, signed_in
from ..ratelimit import limit_login, mark_failed, set_known_cookie
from .blueprint import bp


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in; anything else goes home (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(
            target).netloc and "\\" not in target:
        return target
    return url_for("web.home")


def _enrolled_phone() -> bool:
    return devices.device_for_token(request.cookies.get(devices.device_cookie_name())) is not None


@bp.route("/login", methods=("GET", "POST"))
@public
@limit_login
def login():
    """Staff sign-in with username and password; an enrolled phone goes to its PIN."""
    if request.method == "GET" and not request.args.get("password") and _enrolled_phone():
        return redirect(url_for("accounts.unlock", next=request.args.get("next")), code=303)
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            mark_failed()
            audit.record("auth.login_failed", after={"username": form.username.data[:60]})
            db.session.commit()
            form.password.errors.append(_("Wrong username or password."))
        else:
            sessions.start(user)
            audit.record("auth.login", user, actor=user)
            db.session.commit()
            response = redirect(safe_next(request.args.get("next")), code=303)
            set_known_cookie(response, user.username)
            return response
    return render("accounts/login.html", form=form)


@bp.route("/logout", methods=("POST",))
@signed_in
def logout():
    """Sign out and revoke every copy of this session cookie; optionally forget the phone."""
    form = LogoutForm()
    form.validate_on_submit()
    user = db.session.get(User, current_user.id)
    device = db.session.get(Device, session.get("device_id") or 0)
    services.end_sessions(user)
    audit.record("auth.logout", user, actor=user)
    if form.forget.data and device is not None and device.active:
        devices.revoke_device(device)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    response = redirect(url_for("accounts.login"), code=303)
    if form.forget.data:
        devices.forget_device_cookie(response)
    # The HTTP cache only: "storage" would also wipe the phone's unsent outbox (docs/offline.md);
    # the page's script has already removed this user's cached pages and outbox key.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.route("/me")
@signed_in
def me():
    """The signed-in user's own account: scope, password change, sign out."""
    device = db.session.get(Device, session.get("device_id") or 0)
    return render("accounts/me.html", user=current_user, device=device, form=LogoutForm())


@bp.route("/password", methods=("GET", "POST"))
@signed_in
def password():
    """Change one's own password; every other session of the account ends."""
    form = PasswordChangeForm(current_user.username)
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        if not user.password_hash or not services.authenticate(user.username,
                                                                form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            services.change_password(user, form.new_password.data)
            db.session.commit()
            sessions.start(user)  # this session continues with the new nonce
            flash(_("Your password was changed. Other sessions were signed out."))
            return redirect(url_for("accounts.me"), code=303)
    return render("accounts/password.html", form=form)
