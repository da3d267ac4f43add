"""Permissions as verbs, roles as sets of verbs, and the one ``can()`` check.

The role → verb table below is the *default* seeded into the ``roles`` / ``role_verbs``
tables; at run time the database is the source of truth, so a province can adjust it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import abort, g
from flask_login import current_user

from ..extensions import db
from .models import RoleVerb, User

VERBS = (
    "submission.create",
    "submission.review",
    "submission.approve",
    "form.manage",
    "catalog.manage",
    "catalog.view",
    "user.manage",
    "document.manage",
    "report.view",
    "report.export",
    "sync.run",
    "audit.view",
)

#: Default roles: code → (Vietnamese name, verbs).
DEFAULT_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "village_head": ("Trưởng thôn / bản", ("submission.create",)),
    "commune_officer": (
        "Cán bộ xã",
        ("submission.review", "submission.approve", "report.view", "catalog.view",
         "user.manage"),
    ),
    "department_officer": (
        "Cán bộ phòng / ban",
        ("submission.review", "report.view", "report.export", "catalog.view"),
    ),
    "province_officer": (
        "Cán bộ tỉnh",
        ("submission.review", "submission.approve", "form.manage", "catalog.manage",
         "catalog.view", "report.view", "report.export", "document.manage", "sync.run"),
    ),
    "admin": ("Quản trị hệ thống", VERBS),
    "api_client": ("Hệ thống kết nối (API)", ("sync.run", "catalog.view", "report.view")),
}


def verbs_of(user: Any) -> frozenset[str]:
    """The verbs of the user's role, read once per request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cache = g.setdefault("_verbs", {})
    if user.role_code not in cache:
        rows = db.session.scalars(sa.select(RoleVerb.verb).where(RoleVerb.role_code ==
                                                                 user.role_code))
        cache[user.role_code] = frozenset(rows)
    return cache[user.role_code]


def in_scope(user: User, unit: Any) -> bool:
    """True when ``unit`` is the user's unit or below it in the tree."""
    if user.unit_id is None:
        return user.role_code == "admin"
    node = unit
    for _ in range(10):  # the tree is at most a few levels deep
        if node is None:
            return False
        if node.id == user.unit_id:
            return True
        node = node.parent
    return False


def can(user: Any, verb: str, obj: Any = None) -> bool:
    """Whether ``user`` may do ``verb``, on ``obj`` when given.

    ``obj`` may be an administrative unit (scope check) or anything with a ``unit``
    attribute.
    """
    if verb not in verbs_of(user):
        return False
    if obj is None:
        return True
    unit = obj if hasattr(obj, "parent_id") and hasattr(obj, "level_id") else getattr(
        obj, "unit", None)
    return unit is None or in_scope(user, unit)


def require(verb: str) -> Callable:
    """Decorator for views: 401 when signed out, 403 when the role lacks ``verb``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from ..extensions import login_manager

                return login_manager.unauthorized()
            if not can(current_user, verb):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
