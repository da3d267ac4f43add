"""Reads for the user admin screens: the people and units inside the actor's scope."""

from __future__ import annotations

import sqlalchemy as sa

from .. import clock
from ..catalogs.models import AdminLevel, AdminUnit, Department
from ..catalogs.queries import valid_on
from ..extensions import db
from .models import Device, Role, User
from .permissions import grantable_roles
from .scope import subtree, unscoped


def managed_users(actor: User, q: str | None = None) -> sa.Select:
    """The users ``actor`` may manage, by unit then name, filtered by ``q``."""
    query = (sa.select(User).outerjoin(AdminUnit, User.unit_id == AdminUnit.id)
             .where(User.role_code.in_(grantable_roles(actor)), User.id != actor.id)
             .order_by(AdminUnit.name, User.full_name, User.id))
    if not unscoped(actor):
        query = query.where(User.unit_id.in_(subtree(actor.unit_id or 0)))
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(sa.or_(User.username.ilike(pattern), User.full_name.ilike(pattern),
                                   AdminUnit.name.ilike(pattern), AdminUnit.code == q.strip()))
    return query


def unit_choices(actor: User, extra: AdminUnit | None = None,
                 level: str | None = None) -> list[tuple[int, str]]:
    """Units valid today inside the actor's scope, as (id, label), province first; only
    those of ``level`` (an admin level code, e.g. "village") when given."""
    query = (sa.select(AdminUnit).join(AdminLevel, AdminUnit.level_id == AdminLevel.id)
             .where(valid_on(clock.today())).order_by(AdminLevel.rank, AdminUnit.name))
    if level is not None:
        query = query.where(AdminLevel.code == level)
    if not unscoped(actor):
        query = query.where(AdminUnit.id.in_(subtree(actor.unit_id or 0)))
    units = list(db.session.scalars(query))
    if extra is not None and extra not in units:
        units.insert(0, extra)
    return [(unit.id, f"{unit.name} ({unit.code})") for unit in units]


def first_without(role_code: str, unit_ids: list[int]) -> int | None:
    """The first of ``unit_ids`` where no active user has ``role_code`` (else the first):
    the sensible default unit of a new village head."""
    taken = set(db.session.scalars(sa.select(User.unit_id).where(
        User.role_code == role_code, User.active.is_(True), User.unit_id.in_(unit_ids))))
    return next((i for i in unit_ids if i not in taken), unit_ids[0] if unit_ids else None)


def role_choices(actor: User) -> list[tuple[str, str]]:
    roles = db.session.scalars(sa.select(Role).where(Role.code.in_(grantable_roles(actor)))
                               .order_by(Role.name))
    return [(role.code, role.name) for role in roles]


def department_choices(none_label: str) -> list[tuple[int, str]]:
    departments = db.session.scalars(sa.select(Department).order_by(Department.name))
    return [(0, none_label)] + [(d.id, d.name) for d in departments]


def devices_of(user: User) -> list[Device]:
    return list(db.session.scalars(sa.select(Device).where(Device.user_id == user.id)
                                   .order_by(Device.revoked_at.is_not(None),
                                             Device.created_at.desc())))
