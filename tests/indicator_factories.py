"""Factories for the indicator tests, and the few reference rows they need.

``ensure_reference()`` adds the levels, unit types and units the indicator and demo tests
use when the reference loader has not provided them (it is idempotent either way).
"""

from __future__ import annotations

import itertools
from datetime import date

import sqlalchemy as sa

from dantoc.catalogs.models import UNKNOWN_START, AdminLevel, AdminUnit, UnitType
from dantoc.extensions import db
from dantoc.indicators import services
from dantoc.indicators.models import CatalogueVersion, Form, IndicatorGroup

REFORM = date(2025, 7, 1)
_seq = itertools.count(1)

LEVELS = (("province", 1, "Cấp tỉnh"), ("commune", 3, "Cấp xã"), ("village", 4, "Thôn, bản"))
TYPES = (("tinh", "Tỉnh", "province"), ("phuong", "Phường", "commune"),
         ("xa", "Xã", "commune"), ("thon", "Thôn", "village"), ("ban", "Bản", "village"))


def _get_or_add(model, key: dict, **values):
    row = db.session.scalar(sa.select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        db.session.add(row)
        db.session.flush()
    return row


def ensure_reference() -> None:
    """Province 12 and Phường Đoàn Kết (03388, from 2025-07-01) with their levels and types."""
    levels = {code: _get_or_add(AdminLevel, {"code": code}, rank=rank, name=name)
              for code, rank, name in LEVELS}
    types = {code: _get_or_add(UnitType, {"code": code}, name=name, level_id=levels[lvl].id)
             for code, name, lvl in TYPES}
    province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "12"))
    if province is None:
        province = _get_or_add(AdminUnit, {"code": "12", "valid_from": UNKNOWN_START},
                               name="Tỉnh Lai Châu", unit_type_id=types["tinh"].id,
                               level_id=levels["province"].id)
    _get_or_add(AdminUnit, {"code": "03388", "valid_from": REFORM}, name="Phường Đoàn Kết",
                unit_type_id=types["phuong"].id, level_id=levels["commune"].id,
                parent_id=province.id)
    db.session.commit()


def level(code: str) -> AdminLevel:
    return db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == code))


def make_catalogue(code: str | None = None, **values) -> CatalogueVersion:
    return services.create_catalogue_version(
        code=code or f"CV{next(_seq)}", name=values.pop("name", "Bộ chỉ tiêu thử"),
        valid_from=values.pop("valid_from", REFORM), **values)


def make_group(version: CatalogueVersion, code: str | None = None, **values) -> IndicatorGroup:
    return services.create_group(catalogue_version=version, code=code or f"G{next(_seq)}",
                                 name=values.pop("name", "Nhóm thử"), **values)


def make_indicator(group: IndicatorGroup, code: str, value_type: str = "integer", **values):
    return services.create_indicator(group=group, code=code,
                                     name=values.pop("name", f"Chỉ tiêu {code}"),
                                     value_type=value_type, **values)


def make_form(version: CatalogueVersion, code: str | None = None, *,
              period_type: str = "year", level_code: str = "village") -> Form:
    ensure_reference()
    return services.create_form(code=code or f"F{next(_seq)}", kind="phieu",
                                name="Phiếu thử", catalogue_version=version,
                                fill_level=level(level_code), period_type=period_type)


def make_household_catalogue() -> tuple[CatalogueVersion, IndicatorGroup, dict]:
    """A catalogue with households / poor / near_poor / has_school / health indicators."""
    version = make_catalogue()
    group = make_group(version)
    indicators = {code: make_indicator(group, code) for code in
                  ("households", "poor", "near_poor")}
    indicators["has_school"] = make_indicator(group, "has_school", "yes_no")
    indicators["health"] = make_indicator(group, "health", "choice",
                                          choices=[("a", "Gần"), ("b", "Xa")])
    return version, group, indicators
