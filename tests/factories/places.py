"""Reference rows the factories need: levels, unit types, a commune and sample villages.

The migrated test database already holds the reference catalogs (``load_reference``); these
helpers find a row there and add it only when it is missing, so each is idempotent.
"""

from __future__ import annotations

import itertools
from datetime import date

import sqlalchemy as sa

from dantoc.catalogs.models import UNKNOWN_START, AdminLevel, AdminUnit, UnitType
from dantoc.extensions import db

REFORM = date(2025, 7, 1)
_seq = itertools.count(1)

LEVELS = (("province", 1, "Cấp tỉnh"), ("commune", 3, "Cấp xã"), ("village", 4, "Thôn, bản"))
TYPES = (("tinh", "Tỉnh", "province"), ("phuong", "Phường", "commune"),
         ("xa", "Xã", "commune"), ("thon", "Thôn", "village"), ("ban", "Bản", "village"))


def get_or_add(model, key: dict, **values):
    """The row of ``model`` matching ``key``, added (flushed) with ``values`` if missing."""
    row = db.session.scalar(sa.select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        db.session.add(row)
        db.session.flush()
    return row


def ensure_reference() -> None:
    """Province 12 and Phường Đoàn Kết (03388, from 2025-07-01) with their levels and types."""
    levels = {code: get_or_add(AdminLevel, {"code": code}, rank=rank, name=name)
              for code, rank, name in LEVELS}
    types = {code: get_or_add(UnitType, {"code": code}, name=name, level_id=levels[lvl].id)
             for code, name, lvl in TYPES}
    province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "12"))
    if province is None:
        province = get_or_add(AdminUnit, {"code": "12", "valid_from": UNKNOWN_START},
                              name="Tỉnh Lai Châu", unit_type_id=types["tinh"].id,
                              level_id=levels["province"].id)
    get_or_add(AdminUnit, {"code": "03388", "valid_from": REFORM}, name="Phường Đoàn Kết",
               unit_type_id=types["phuong"].id, level_id=levels["commune"].id,
               parent_id=province.id)
    db.session.commit()


def level(code: str) -> AdminLevel:
    return db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == code))


def _commune(code: str = "03388") -> AdminUnit:
    existing = db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.code == code, AdminUnit.valid_from <= REFORM,
        sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= REFORM)))
    if existing is not None:
        return existing
    commune = get_or_add(AdminLevel, {"code": "commune"}, rank=3, name="Cấp xã")
    kind = get_or_add(UnitType, {"code": "xa"}, name="Xã", level=commune)
    return get_or_add(AdminUnit, {"code": code, "valid_from": REFORM},
                      name=f"Xã thử {code}", unit_type=kind, level=commune)


def make_village(code: str | None = None, commune_code: str = "03388") -> AdminUnit:
    """A sample village (level ``village``) under a current commune, valid from 2025-07-01."""
    code = code or f"{commune_code}-T{next(_seq):02d}"
    village = get_or_add(AdminLevel, {"code": "village"}, rank=4, name="Thôn, bản")
    kind = get_or_add(UnitType, {"code": "ban"}, name="Bản", level=village)
    return get_or_add(AdminUnit, {"code": code, "valid_from": REFORM},
                      name=f"Bản thử {code} (mẫu)", unit_type=kind, level=village,
                      parent=_commune(commune_code), is_sample=True)
