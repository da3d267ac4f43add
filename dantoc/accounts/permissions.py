"""Permissions as verbs, roles as sets of verbs, and the one ``can()`` check.

The role → verb and role → grantable-role tables below are the *defaults* seeded into the
``role_verbs`` / ``role_grants`` tables; at run time the database is the source of truth, so
a province can adjust them. ``can()`` serves views, the API and templates alike.

Every view declares its access on the function itself, so the authorization matrix test can
read it from ``app.view_functions``: ``@require(verb)``, ``@signed_in`` or ``@public``
set ``view._access`` (and ``@require`` also ``view._required_verb``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, g, request
from flask_login import current_user

from ..catalogs.models import AdminUnit, Department
from ..extensions import db
from ..web.errors import refuse
from .models import RoleGrant, RoleVerb, User
from .scope import unit_in_subtree, unscoped

VERBS = (
    "submission.create",
    "submission.enter_for",
    "submission.review",
    "submission.approve",
    "form.manage",
    "catalog.manage",
    "catalog.view",
    "user.manage",
    "document.manage",
    "announcement.manage",
    "report.view",
    "report.export",
    "report.publish",
    #: Review what arrived from outside: received reports, and accept or reject the values
    #: imported from DHIS2 (``/received``).
    "received.review",
    "sync.run",
    "audit.view",
    "translation.manage",
    "api.read",
    "api.documents",
    "api.reports",
    "api.push",
    # The admin screens of the API's machine accounts (create, rotate, revoke).
    "api.clients.manage",
)

#: Default roles: code → (Vietnamese name, verbs).
DEFAULT_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "village_head": ("Trưởng thôn / bản", ("submission.create",)),
    "commune_officer": (
        "Cán bộ xã",
        ("submission.enter_for", "submission.review", "submission.approve", "report.view",
         "catalog.view", "user.manage", "announcement.manage"),
    ),
    "department_officer": (
        "Cán bộ phòng / ban",
        ("submission.review", "report.view", "report.export", "catalog.view"),
    ),
    "province_officer": (
        "Cán bộ tỉnh",
        ("submission.review", "submission.approve", "form.manage", "catalog.manage",
         "catalog.view", "report.view", "report.export", "report.publish", "received.review",
         "document.manage", "sync.run", "translation.manage", "announcement.manage"),
    ),
    "admin": ("Quản trị hệ thống", VERBS),
    "api_client": ("Hệ thống kết nối (API)",
                   ("sync.run", "catalog.view", "report.view", "api.read",
                    "api.documents", "api.reports")),
    # A province's instance at the centre: reads (internal documents too: its staff see
    # them), and sends its approved reports and DHIS2 values (bound to its unit: it may
    # write only for units below it).
    "api_reporter": ("Hệ thống gửi báo cáo (API)",
                     ("catalog.view", "report.view", "api.read", "api.documents",
                      "api.reports", "api.push")),
}

#: Default role → roles it may assign and manage (with ``user.manage``, inside its scope).
DEFAULT_GRANTS: dict[str, tuple[str, ...]] = {
    "admin": tuple(DEFAULT_ROLES),
    "commune_officer": ("village_head",),
}

def _cached(name: str, key: str, query: Callable[[], sa.Select]) -> frozenset[str]:
    """``query``'s rows, read once per request (a page asks ``can()`` some 15 times: the
    statement is only built when it runs)."""
    cache = g.setdefault(name, {})
    if key not in cache:
        cache[key] = frozenset(db.session.scalars(query()))
    return cache[key]


def remember_verbs(role_code: str, verbs: Iterable[str]) -> None:
    """Keep, for this request, the verbs of a role read with its user (at sign-in check)."""
    g.setdefault("_verbs", {})[role_code] = frozenset(verbs)


def verbs_of(user: Any) -> frozenset[str]:
    """The verbs of the user's role, read once per request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    role = user.role_code
    return _cached("_verbs", role,
                   lambda: sa.select(RoleVerb.verb).where(RoleVerb.role_code == role))


def grantable_roles(user: Any) -> frozenset[str]:
    """The roles ``user`` may assign to, and manage in, the people of their scope."""
    if "user.manage" not in verbs_of(user):
        return frozenset()
    role = user.role_code
    return _cached("_grants", role, lambda: sa.select(RoleGrant.grantable_code).where(
        RoleGrant.role_code == role))


def in_scope(user: Any, unit: AdminUnit | None) -> bool:
    """True when ``unit`` is the user's unit or below it (old units through lineage)."""
    if user.unit_id is None:
        return unscoped(user)
    return unit is not None and unit_in_subtree(user.unit_id, unit)


def _unit_of(obj: Any) -> tuple[bool, AdminUnit | None]:
    """(bound to a unit?, the unit) for a unit, a user, or anything with ``unit``/``user``."""
    if isinstance(obj, AdminUnit):
        return True, obj
    if isinstance(obj, User) or hasattr(obj, "unit"):
        return True, obj.unit
    owner = getattr(obj, "user", None)
    if isinstance(owner, User):
        return True, owner.unit
    return False, None


def _department_of(obj: Any) -> tuple[bool, int | None]:
    """(bound to a department?, its id) for a department, an indicator group or indicator."""
    if isinstance(obj, Department):
        return True, obj.id
    if isinstance(obj, User) or isinstance(getattr(obj, "user", None), User):
        return False, None  # people are managed by unit, not by department
    if getattr(obj, "is_authenticated", False) is True:
        return False, None  # and machine accounts (an API client is an actor too)
    if hasattr(obj, "department_id"):
        return True, obj.department_id
    group = getattr(obj, "group", None)
    if group is not None and hasattr(group, "department_id"):
        return True, group.department_id
    return False, None


def _manages(user: Any, obj: Any) -> bool:
    target = obj if isinstance(obj, User) else getattr(obj, "user", None)
    if not isinstance(target, User):
        return True
    return target.id != user.id and target.role_code in grantable_roles(user)


def can(user: Any, verb: str, obj: Any = None) -> bool:
    """Whether ``user`` may do ``verb``, on ``obj`` when given.

    ``obj`` may be an administrative unit, anything with a ``unit`` (scope: the user's
    subtree; an API client bound to no unit: the unscoped administrator only), anything
    with a ``department_id`` or a ``group`` (department staff: their own department only),
    or a user or their device (``user.manage``: a role the user may grant).
    """
    if verb not in verbs_of(user):
        return False
    if obj is None:
        return True
    bound, unit = _unit_of(obj)
    if bound and not in_scope(user, unit):
        return False
    bound, department_id = _department_of(obj)
    if bound and user.department_id is not None and department_id != user.department_id:
        return False
    return verb != "user.manage" or _manages(user, obj)


#: Where a signed-in user starts, on their work: the first of these verbs they have decides.
#: The province (who manages the forms) on completeness, the commune (who decides on village
#: reports) on the review inbox, other readers of reports on completeness, the village head
#: on what is due.
LANDINGS = (("form.manage", "reports.completeness"), ("submission.approve", "review.index"),
            ("report.view", "reports.completeness"), ("submission.create", "submissions.index"),
            ("catalog.view", "catalogs.index"))


def landing(user: Any) -> str | None:
    """The endpoint ``user`` starts at after signing in (None: the public home page)."""
    return next((endpoint for verb, endpoint in LANDINGS if can(user, verb)), None)


def deny(verb: str | None = None, obj: Any = None, message: str | None = None):
    """Refuse the request with 403 (``no_authority``) and a localized message; log it in the
    audit trail."""
    log_denial(verb, obj)
    abort(current_app.make_response(refuse("no_authority", message)))


def log_denial(verb: str | None = None, obj: Any = None) -> None:
    """Write the ``authz.denied`` audit row (once per request) and a log line."""
    from ..audit import services as audit

    if g.get("_denial_logged"):
        return
    g._denial_logged = True
    db.session.rollback()  # nothing of a refused request is kept, only the log row
    detail = {"verb": verb, "method": request.method, "path": request.path[:200]}
    audit.record("authz.denied", obj, after=detail)
    db.session.commit()
    current_app.logger.warning("authorization denied: %s %s %s for %s", verb, request.method,
                               request.path, getattr(current_user, "username", "?"))


def log_other_denials(response):
    """after_request: a 403 from a view that refused without :func:`deny` is logged too."""
    if (response.status_code == 403 and not g.get("_denial_logged")
            and current_user.is_authenticated):
        log_denial(getattr(request.endpoint and current_app.view_functions.get(
            request.endpoint), "_required_verb", None))
    return response


def authorize(verb: str, obj: Any = None) -> None:
    """Stop the request (403, logged) unless the signed-in user may do ``verb`` on ``obj``."""
    if not can(current_user, verb, obj):
        from flask_babel import gettext as _

        message = _("This is outside your area of responsibility.") if obj is not None and (
            verb in verbs_of(current_user)) else None
        deny(verb, obj, message)


def _mark(view: Callable, access: str, verb: str | None = None) -> Callable:
    view._access = access
    view._required_verb = verb
    return view


def require(verb: str) -> Callable:
    """Decorator for views: sign-in page when signed out, 403 (logged) without ``verb``."""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from ..extensions import login_manager

                return login_manager.unauthorized()
            authorize(verb)
            return view(*args, **kwargs)

        return _mark(wrapper, "verb", verb)

    return decorator


def signed_in(view: Callable) -> Callable:
    """Decorator for views open to every signed-in user (their own account pages)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            from ..extensions import login_manager

            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return _mark(wrapper, "login")


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone, signed in or not (declared, not assumed)."""
    return _mark(view, "public")
