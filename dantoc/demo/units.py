"""Sample departments of the provincial Sở and sample villages under every current commune."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..catalogs import services as catalogs
from ..catalogs.models import AdminLevel, AdminUnit, Department, UnitType
from ..extensions import db

REFORM_DATE = date(2025, 7, 1)
SOURCE = "Dữ liệu mẫu để trình diễn (dantoc seed-demo), không phải số liệu thật."

#: code → name; the real organisation chart of the Sở Dân tộc và Tôn giáo was not researched.
DEPARTMENTS = {
    "demo-csdt": "Phòng Chính sách dân tộc (mẫu)",
    "demo-khth": "Phòng Kế hoạch – Tổng hợp (mẫu)",
    "demo-tg": "Phòng Quản lý tín ngưỡng, tôn giáo (mẫu)",
    "demo-vp": "Văn phòng Sở (mẫu)",
}
#: Village number → unit type code: two bản and one thôn per commune.
VILLAGE_TYPES = {1: "ban", 2: "ban", 3: "thon"}
_FIRST = ("Nà", "Pá", "Huổi", "Nậm", "Phiêng", "Co", "Hua", "Tà")
_SECOND = ("Cang", "Hỏm", "Luông", "Khoang", "Sảo", "Tấu", "Mấn", "Lếch", "Pầu", "Ún")


class DemoError(RuntimeError):
    """The demo cannot be loaded (reference catalogs missing)."""


def seed_departments() -> dict[str, Department]:
    """The sample departments, by code (created where missing)."""
    found = {}
    for code, name in DEPARTMENTS.items():
        found[code] = db.session.scalar(sa.select(Department).where(Department.code == code)) \
            or catalogs.create_department(code, name)
    return found


def current_communes() -> list[AdminUnit]:
    """The commune-level units valid on the first day of the two-level government."""
    return list(db.session.scalars(sa.select(AdminUnit).join(AdminLevel).where(
        AdminLevel.code == "commune", AdminUnit.valid_from <= REFORM_DATE,
        sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= REFORM_DATE),
        AdminUnit.is_sample.is_(False)).order_by(AdminUnit.code)))


def village_name(type_name: str, commune_index: int, number: int) -> str:
    """An invented, clearly marked village name such as "Bản Nà Cang (mẫu)"."""
    first = _FIRST[(commune_index + number) % len(_FIRST)]
    second = _SECOND[(3 * commune_index + number) % len(_SECOND)]
    return f"{type_name} {first} {second} (mẫu)"


def _unit_types() -> dict[str, UnitType]:
    types = {t.code: t for t in db.session.scalars(sa.select(UnitType).where(
        UnitType.code.in_(set(VILLAGE_TYPES.values()))))}
    if len(types) < len(set(VILLAGE_TYPES.values())):
        raise DemoError("Unit types “ban” and “thon” are missing: run flask seed-reference.")
    return types


def seed_villages() -> list[AdminUnit]:
    """Three sample villages under each current commune (created where missing).

    :raise DemoError: when there is no current commune or no village unit type.
    """
    communes, types = current_communes(), _unit_types()
    if not communes:
        raise DemoError("No commune valid on 2025-07-01: run flask seed-reference first.")
    villages = []
    for index, commune in enumerate(communes):
        for number, type_code in VILLAGE_TYPES.items():
            code = f"{commune.code}-B{number:02d}"
            village = db.session.scalar(sa.select(AdminUnit).where(
                AdminUnit.code == code, AdminUnit.valid_from == REFORM_DATE))
            villages.append(village or catalogs.create_unit(
                code=code, name=village_name(types[type_code].name, index, number),
                unit_type=types[type_code], parent=commune, valid_from=REFORM_DATE,
                is_sample=True, source=SOURCE))
    return villages
