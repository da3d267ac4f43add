"""The admin screens of the machine accounts (``/api-clients/``, verb
``api.clients.manage``): the list, create, rotate and revoke.

These are pages for people, signed in with their session; the API never reads the session,
and a token opens none of these pages. A new token is shown once, in the answer to the POST
that made it (``Cache-Control: no-store``): it is never stored (only its hash), flashed,
put in a URL or logged. Load → authorize (a client bound to a unit outside one's scope is
refused like a person's account) → act; the services flush and audit, the views commit.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..accounts.models import Role
from ..accounts.permissions import authorize, require
from ..accounts.scope import subtree, unscoped
from ..catalogs.models import AdminLevel, AdminUnit
from ..catalogs.queries import valid_on
from ..extensions import db
from ..web.forms import submitted
from ..web.htmx import render
from . import clients
from .forms import ApiClientForm, ConfirmForm
from .models import ApiClient

bp = Blueprint("api_clients", __name__, url_prefix="/api-clients")

VERB = "api.clients.manage"
#: Clients are bound to a province or a commune (a village has no system of its own).
VILLAGE = "village"


def _managed(actor) -> list[ApiClient]:
    """The clients ``actor`` manages (bound to a unit of their scope; every client for the
    unscoped administrator), the active ones first, by name."""
    query = (sa.select(ApiClient)
             .options(so.selectinload(ApiClient.role), so.selectinload(ApiClient.unit))
             .order_by(ApiClient.revoked_at.is_not(None), ApiClient.name))
    if not unscoped(actor):
        query = query.where(ApiClient.unit_id.in_(subtree(actor.unit_id or 0)))
    return list(db.session.scalars(query))


def _role_choices() -> list[tuple[str, str]]:
    """The API roles, by their (Vietnamese) names, in :data:`clients.API_ROLES` order."""
    roles = {r.code: r.name for r in db.session.scalars(
        sa.select(Role).where(Role.code.in_(clients.API_ROLES)))}
    return [(code, roles[code]) for code in clients.API_ROLES if code in roles]


def _unit_choices(actor) -> list[tuple[int, str]]:
    """The units valid today above the villages in ``actor``'s scope, province first, by
    name; a name that two units share says its parent too."""
    query = (sa.select(AdminUnit).join(AdminLevel, AdminUnit.level_id == AdminLevel.id)
             .options(so.joinedload(AdminUnit.parent))
             .where(valid_on(clock.today()), AdminLevel.code != VILLAGE)
             .order_by(AdminLevel.rank, AdminUnit.name, AdminUnit.id))
    if not unscoped(actor):
        query = query.where(AdminUnit.id.in_(subtree(actor.unit_id or 0)))
    units = list(db.session.scalars(query))
    names = [u.name for u in units]
    choices = [(u.id, f"{u.name} – {u.parent.name}" if names.count(u.name) > 1 and u.parent
                else u.name) for u in units]
    if unscoped(actor):
        choices.insert(0, (0, _("(no unit)")))
    return choices


def _target(client_id: int) -> ApiClient:
    """The client ``client_id``, if the signed-in user may manage it (404 / 403 logged)."""
    client = db.get_or_404(ApiClient, client_id)
    authorize(VERB, client)
    return client


def _show_token(client: ApiClient, token: str, created: bool):
    """The one page that ever shows ``token``; nothing may keep it."""
    response = current_app.make_response(render(
        "api/client_token.html", client=client, token=token, created=created))
    response.headers["Cache-Control"] = "no-store"
    return response


def _revoked_already(client: ApiClient):
    flash(_("%(name)s is revoked: its token no longer works and it cannot get a new one.",
            name=client.name))
    return redirect(url_for("api_clients.index"), code=303)


@bp.route("/")
@require(VERB)
def index():
    """Every machine account of one's scope, revoked ones too (the audit trail names them)."""
    return render("api/clients.html", clients=_managed(current_user))


@bp.route("/new", methods=("GET", "POST"))
@require(VERB)
def new():
    """Create a machine account; the answer shows its token, once."""
    form = ApiClientForm()
    form.role_code.choices = _role_choices()
    form.unit_id.choices = _unit_choices(current_user)
    if request.method == "GET":  # the province (or one's own unit): the usual binding
        form.unit_id.data = next((unit_id for unit_id, _label in form.unit_id.choices
                                  if unit_id), None)

    def create():
        unit = db.session.get(AdminUnit, form.unit_id.data) if form.unit_id.data else None
        return clients.create_client(form.name.data, form.role_code.data, unit)

    done, made = submitted(form, create)
    if done:
        return _show_token(*made, created=True)
    return render("api/client_form.html", form=form)


def _confirmed(client_id: int, action: str, change, then):
    """The confirm-then-act page of rotate and revoke: a revoked client is answered as such;
    a confirmed POST runs ``change(client)`` (committed by :func:`submitted`), and ``then``
    answers with the client and what the change returned; else the confirmation page."""
    client = _target(client_id)
    if not client.active:
        return _revoked_already(client)
    form = ConfirmForm()
    done, result = submitted(form, lambda: change(client))
    if done:
        return then(client, result)
    return render("api/client_confirm.html", client=client, form=form, action=action)


@bp.route("/<int:client_id>/rotate", methods=("GET", "POST"))
@require(VERB)
def rotate(client_id: int):
    """Confirm, then give the client a new token (shown once); the old one stops at once."""
    return _confirmed(client_id, "rotate", clients.rotate_client,
                      lambda client, token: _show_token(client, token, created=False))


def _now_revoked(client: ApiClient, _revoked: ApiClient):
    flash(_("%(name)s was revoked: its token no longer works.", name=client.name))
    return redirect(url_for("api_clients.index"), code=303)


@bp.route("/<int:client_id>/revoke", methods=("GET", "POST"))
@require(VERB)
def revoke(client_id: int):
    """Confirm, then revoke the client: its token is refused at once, for good."""
    return _confirmed(client_id, "revoke", clients.revoke_client, _now_revoked)
