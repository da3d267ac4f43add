"""Sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..audit import services as audit
from ..extensions import db, login_manager
from ..web.htmx import render
from . import services
from .forms import LoginForm
from .models import User

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the user of a session; a stale nonce (revoked session) loads nobody."""
    pk, _sep, nonce = user_id.partition(":")
    if not pk.isdigit():
        return None
    user = db.session.get(User, int(pk))
    if user is None or not nonce or user.session_nonce != nonce or not user.active:
        return None
    return user


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(
            target).netloc:
        return target
    return url_for("web.home")


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Staff sign-in with username and password."""
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data.strip(), form.password.data)
        if user is None:
            audit.record("auth.login_failed", after={"username": form.username.data[:60]})
            db.session.commit()
            form.password.errors.append(_("Wrong username or password."))
        else:
            session.clear()  # a fresh session at sign-in: no fixation
            login_user(user)
            audit.record("auth.login", user, actor=user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")), code=303)
    return render("accounts/login.html", form=form)


@bp.route("/logout", methods=("POST",))
@login_required
def logout():
    """Sign out and revoke every copy of this session cookie."""
    user = db.session.get(User, current_user.id)
    services.end_sessions(user)
    audit.record("auth.logout", user, actor=user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("accounts.login"), code=303)
