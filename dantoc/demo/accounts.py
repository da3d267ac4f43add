"""One demo account for every default role, with fixed, printed passwords."""

from __future__ import annotations

import sqlalchemy as sa

from ..accounts import services as accounts
from ..accounts.models import Role, User
from ..accounts.permissions import DEFAULT_ROLES
from ..catalogs.models import AdminUnit, Department
from ..extensions import db
from .units import REFORM_DATE

PROVINCE_CODE = "12"
DEMO_COMMUNE = "03388"  # Phường Đoàn Kết (from 2025-07-01)

#: role → username, password, full name, scope ("province", "commune", "village" or None).
ACCOUNTS = {
    "admin": ("demo-quantri", "demo-quantri-2026", "Quản trị hệ thống (mẫu)", None),
    "province_officer": ("demo-tinh", "demo-tinh-2026", "Cán bộ Sở (mẫu)", "province"),
    "department_officer": ("demo-phong", "demo-phong-csdt-2026", "Cán bộ phòng (mẫu)",
                           "province"),
    "commune_officer": ("demo-xa", "demo-xa-doanket-2026", "Cán bộ phường Đoàn Kết (mẫu)",
                        "commune"),
    "village_head": ("demo-thon", "demo-truongban-2026", "Trưởng bản (mẫu)", "village"),
    "api_client": ("demo-api", "demo-api-ketnoi-2026", "Hệ thống kết nối (mẫu)", None),
}


def _fallback(role_code: str) -> tuple[str, str, str, str]:
    """An account for a role added after this table was written."""
    slug = role_code.replace("_", "-")
    return f"demo-{slug}", f"demo-{slug}-2026-mau", f"{role_code} (mẫu)", "province"


def _valid_unit(code: str) -> AdminUnit | None:
    return db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.code == code, AdminUnit.valid_from <= REFORM_DATE,
        sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= REFORM_DATE)))


def _scopes(villages: list[AdminUnit]) -> dict[str | None, AdminUnit | None]:
    commune = _valid_unit(DEMO_COMMUNE)
    village = next((v for v in villages if commune and v.parent_id == commune.id), None)
    return {None: None, "province": _valid_unit(PROVINCE_CODE), "commune": commune,
            "village": village or (villages[0] if villages else None)}


def seed_accounts(departments: dict[str, Department],
                  villages: list[AdminUnit]) -> list[tuple[str, str, str]]:
    """Create the demo users that are missing; return (role label, username, password) for
    every role. The department's officer is labelled with the department whose indicator
    groups are all they see ("Cán bộ phòng / ban — Phòng Chính sách dân tộc (mẫu)")."""
    scopes = _scopes(villages)
    sign_ins = []
    for role_code in DEFAULT_ROLES:
        username, password, full_name, scope = ACCOUNTS.get(role_code) or _fallback(role_code)
        exists = db.session.scalar(sa.select(User.id).where(User.username == username))
        if exists is None:
            unit = scopes[scope]
            department = departments["demo-csdt"] if role_code == "department_officer" else None
            accounts.create_user(username, full_name, role_code, password=password,
                                 unit_id=unit.id if unit else None,
                                 department_id=department.id if department else None)
        role = db.session.get(Role, role_code)
        label = role.name if role else role_code
        if role_code == "department_officer":
            label = f"{label} — {departments['demo-csdt'].name}"
        sign_ins.append((label, username, password))
    return sign_ins
