"""A small unit tree for authorization tests, shaped like DHIS2's test tree (A→B→C, A→D),
plus another province and an old commune merged into B in 2025.

    A  province            Z  other province
    ├── B  commune         └── Y  commune
    │   └── C  village         └── X  village
    ├── D  commune (sibling of B)
    └── O  old commune, 2000-01-01..2025-06-30, merged into B  (lineage O → B)
        └── OV old village under O (no lineage of its own)
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from dantoc.accounts.models import User
from dantoc.catalogs.models import AdminLevel, AdminUnit, Department, UnitLineage, UnitType
from dantoc.extensions import db
from tests.factories import fresh_client, make_user, signed_in

__all__ = ["Clock", "Tree", "add_unit", "build_tree", "fresh_client", "load_route_description",
           "make", "sign_in"]

LEVELS = {"province": 1, "commune": 3, "village": 4}
TYPES = {"province": "tinh", "commune": "xa", "village": "thon"}
START = date(2000, 1, 1)
REFORM = date(2025, 7, 1)
_seq = itertools.count(1)


def _level(code: str) -> AdminLevel:
    level = db.session.scalar(sa.select(AdminLevel).where(AdminLevel.rank == LEVELS[code]))
    if level is None:
        level = AdminLevel(code=code, rank=LEVELS[code], name=code)
        db.session.add(level)
        db.session.flush()
    return level


def _type(level_code: str) -> UnitType:
    level = _level(level_code)
    unit_type = db.session.scalar(sa.select(UnitType).where(UnitType.code == TYPES[level_code]))
    if unit_type is None:
        unit_type = UnitType(code=TYPES[level_code], name=TYPES[level_code], level_id=level.id)
        db.session.add(unit_type)
        db.session.flush()
    return unit_type


def add_unit(code: str, name: str, level: str, parent: AdminUnit | None = None, *,
             valid_from: date = START, valid_to: date | None = None) -> AdminUnit:
    unit_type = _type(level)
    unit = AdminUnit(code=code, name=name, level_id=unit_type.level_id,
                     unit_type_id=unit_type.id, parent_id=parent.id if parent else None,
                     valid_from=valid_from, valid_to=valid_to)
    db.session.add(unit)
    db.session.flush()
    return unit


@dataclass
class Tree:
    units: dict[str, AdminUnit] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)

    def __getitem__(self, key: str) -> AdminUnit:
        return self.units[key]


def build_tree() -> Tree:
    """Create the tree above and two departments; commit."""
    tree = Tree()
    a = add_unit("ZZA", "Tỉnh A", "province")
    b = add_unit("ZZB", "Xã B", "commune", a)
    tree.units.update(A=a, B=b, C=add_unit("ZZC", "Bản C", "village", b),
                      D=add_unit("ZZD", "Xã D", "commune", a))
    z = add_unit("ZZZ", "Tỉnh Z", "province")
    y = add_unit("ZZY", "Xã Y", "commune", z)
    tree.units.update(Z=z, Y=y, X=add_unit("ZZX", "Bản X", "village", y))
    old = add_unit("ZZO", "Xã O (cũ)", "commune", a, valid_to=date(2025, 6, 30))
    tree.units.update(O=old, OV=add_unit("ZZOV", "Bản OV (cũ)", "village", old,
                                         valid_to=date(2025, 6, 30)))
    db.session.add(UnitLineage(kind="merge", from_unit_id=old.id, to_unit_id=b.id,
                               effective_date=REFORM))
    for code in ("d1", "d2"):
        department = Department(code=f"zz-{code}", name=f"Phòng {code}")
        db.session.add(department)
        tree.departments[code] = department
    db.session.commit()
    return tree


def make(role: str, unit: AdminUnit | None, department: Department | None = None, *,
         username: str | None = None, password: bool = True) -> User:
    """A user of ``role`` scoped to ``unit`` of the tree (``None``: unscoped), with the shared
    test password unless ``password=False``; committed."""
    return make_user(role, unit_code=None, scope=unit, department=department,
                     username=username or f"{role}-{unit.code if unit else 'all'}-{next(_seq)}",
                     password=password)


#: Put a signed-in session for a user in a client's cookie: :func:`tests.factories.signed_in`.
sign_in = signed_in


class Clock:
    """Moves the clock of the throttle and of the session checks (``sessions.now``)."""

    def __init__(self, monkeypatch):
        from dantoc.accounts import sessions

        self.offset = 0.0
        monkeypatch.setattr(sessions, "now", lambda: time.time() + self.offset)

    def advance(self, minutes: float) -> None:
        self.offset += minutes * 60


def load_route_description() -> dict:
    """tests/authz_routes.toml: the machine-readable route description."""
    import tomllib
    from pathlib import Path

    return tomllib.loads((Path(__file__).parent / "authz_routes.toml").read_text("utf-8"))
