"""Load the reference catalogs shipped in ``catalogs/data`` (sources in ``data/SOURCES.md``).

Insert-only and idempotent: a row already present (matched on its natural key) is left as it
is, so running the loader again changes nothing and never overwrites a province's own
corrections. Called by ``flask seed-reference`` and by the test database build.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date
from importlib import resources

import sqlalchemy as sa

from ..audit import services as audit
from ..extensions import db
from .models import (
    UNKNOWN_START,
    AdminLevel,
    AdminUnit,
    EthnicGroup,
    Religion,
    UnitLineage,
    UnitType,
    fold,
)

DATA = resources.files(__package__) / "data"
#: First day of the two-level local government (NQ 1670/NQ-UBTVQH15 in operation).
REFORM_DATE = date(2025, 7, 1)
LAST_DAY_BEFORE_REFORM = date(2025, 6, 30)
TABLES = ("admin_levels", "unit_types", "admin_units", "unit_lineage", "ethnic_groups",
          "religions")

#: code, rank, name, valid_to
LEVELS = (
    ("province", 1, "Cấp tỉnh", None),
    ("district", 2, "Cấp huyện", LAST_DAY_BEFORE_REFORM),
    ("commune", 3, "Cấp xã", None),
    ("village", 4, "Thôn, bản, tổ dân phố", None),
)
#: code, name, level code
UNIT_TYPES = (
    ("tinh", "Tỉnh", "province"),
    ("thanh_pho_tw", "Thành phố trực thuộc trung ương", "province"),
    ("huyen", "Huyện", "district"),
    ("quan", "Quận", "district"),
    ("thi_xa", "Thị xã", "district"),
    ("thanh_pho_tinh", "Thành phố thuộc tỉnh", "district"),
    ("xa", "Xã", "commune"),
    ("phuong", "Phường", "commune"),
    ("thi_tran", "Thị trấn", "commune"),
    ("dac_khu", "Đặc khu", "commune"),
    ("thon", "Thôn", "village"),
    ("ban", "Bản", "village"),
    ("to_dan_pho", "Tổ dân phố", "village"),
)
#: Name prefix → unit type, for the province and district rows of the units file.
PREFIX_TYPES = {"Tỉnh": "tinh", "Thành phố trực thuộc trung ương": "thanh_pho_tw",
                "Huyện": "huyen", "Quận": "quan", "Thị xã": "thi_xa", "Thành phố": "thanh_pho_tinh"}
COMMUNE_TYPES = {"Xã": "xa", "Phường": "phuong", "Thị trấn": "thi_tran", "Đặc khu": "dac_khu"}

SOURCE_OLD = ("Danh mục ĐVHC của Tổng cục Thống kê tại 01/03/2025 (GitHub daohoangson/dvhcvn, "
              "data/dvhcvn.json)")
SOURCE_NEW = "Cục Thống kê CV 1027/CTK-CSCL (25/06/2025), Phụ lục I; QĐ 19/2025/QĐ-TTg"
SOURCE_PROVINCE = "Cục Thống kê CV 915/CTK-CSCL; NQ 60-NQ/TW"
MERGE_BASIS = "NQ 1670/NQ-UBTVQH15 (16/06/2025)"


def _rows(filename: str) -> list[dict[str, str]]:
    text = (DATA / filename).read_text(encoding="utf-8")
    return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(
        io.StringIO(text))]


def _get_or_add(counts: Counter, model, key: dict, **values):
    """The row matching ``key``, or a new one with ``values`` (counted as created)."""
    row = db.session.scalar(sa.select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        db.session.add(row)
        counts[model.__tablename__] += 1
    return row


def load_reference() -> dict[str, int]:
    """Load levels, unit types, Lai Châu units with lineage, ethnic groups and religions.

    :return: the number of rows created per table (all zero when everything was there).
    """
    counts: Counter = Counter()
    levels = {code: _get_or_add(counts, AdminLevel, {"code": code}, rank=rank, name=name,
                                valid_from=UNKNOWN_START, valid_to=valid_to)
              for code, rank, name, valid_to in LEVELS}
    types = {code: _get_or_add(counts, UnitType, {"code": code}, name=name, level=levels[lvl])
             for code, name, lvl in UNIT_TYPES}
    db.session.flush()
    _load_units(counts, types)
    _load_ethnic_groups(counts)
    _load_religions(counts)
    db.session.flush()
    if counts:
        audit.record("catalog.reference.load", after=dict(counts))
    return {table: counts[table] for table in TABLES}


# Administrative units ----------------------------------------------------------------------

def _unit_type(row: dict[str, str], types: dict[str, UnitType]) -> UnitType:
    level, _sep, type_name = row["level"].partition(":")
    if level.startswith("commune"):
        return types[COMMUNE_TYPES[type_name]]
    prefix = max((p for p in PREFIX_TYPES if row["name"].startswith(p + " ")), key=len)
    return types[PREFIX_TYPES[prefix]]


def _aliases(row: dict[str, str], unit_type: UnitType) -> str | None:
    """Other spellings quoted in the note ("NQ 1670 spells …"), with the type prefix.

    Names capitalise every syllable, so a lower-case syllable ("Pa ủ") also gets its
    capitalised form ("Pa Ủ").
    """
    if not row["name"].startswith(unit_type.name + " "):
        return None
    base = row["name"].removeprefix(unit_type.name + " ")
    variants = set(re.findall(r'"([^"]+)"', row["note"]))
    variants.add(" ".join(word[:1].upper() + word[1:] for word in base.split()))
    names = sorted(f"{unit_type.name} {v}" for v in variants if v != base)
    return "; ".join(names) or None


def _source(row: dict[str, str]) -> str:
    """The legal source people read (Vietnamese). The CSV's ``note`` is the maintainers' own
    English remark (SOURCES.md): it is not shown to users (issue #14)."""
    if row["level"] == "province":
        return SOURCE_PROVINCE
    return SOURCE_NEW if row["valid_from"] else SOURCE_OLD


def _version_on(units: dict[tuple[str, date], AdminUnit], code: str, day: date) -> AdminUnit:
    return next(u for (c, _f), u in units.items() if c == code and u.valid_on(day))


def _load_units(counts: Counter, types: dict[str, UnitType]) -> None:
    rows = _rows("laichau_admin_units.csv")
    units: dict[tuple[str, date], AdminUnit] = {}
    for row in rows:
        valid_from = date.fromisoformat(row["valid_from"]) if row["valid_from"] else UNKNOWN_START
        valid_to = date.fromisoformat(row["valid_to"]) if row["valid_to"] else None
        unit_type = _unit_type(row, types)
        parent = _version_on(units, row["parent_code"], valid_from) if row["parent_code"] else None
        units[row["code"], valid_from] = _get_or_add(
            counts, AdminUnit, {"code": row["code"], "valid_from": valid_from},
            valid_to=valid_to, name=row["name"], unit_type=unit_type, level=unit_type.level,
            parent=parent, aliases=_aliases(row, unit_type) or _old_spelling(units, row),
            source=_source(row))
    db.session.flush()
    _load_lineage(counts, rows, units)


def _old_spelling(units: dict[tuple[str, date], AdminUnit], row: dict[str, str]) -> str | None:
    """A new unit named with a variant spelling of its old namesake keeps the old spelling."""
    old = units.get((row["code"], UNKNOWN_START))
    if row["valid_from"] and old is not None and row["name"] in (old.aliases or "").split("; "):
        return old.name
    return None


def _lineage_kind(old: AdminUnit, new: AdminUnit, inflow: int) -> str:
    if inflow > 1:
        return "merge"
    return "transfer" if fold(old.name) == fold(new.name) else "rename"


def _load_lineage(counts: Counter, rows: list[dict[str, str]],
                  units: dict[tuple[str, date], AdminUnit]) -> None:
    merged = [row for row in rows if row["merged_into_code"]]
    inflow = Counter(row["merged_into_code"] for row in merged)
    for row in merged:
        old = units[row["code"], UNKNOWN_START]
        new = units[row["merged_into_code"], REFORM_DATE]
        basis = re.search(r"\((NQ 1670[^)]*)\)", row["note"])
        _get_or_add(counts, UnitLineage, {"from_unit_id": old.id, "to_unit_id": new.id},
                    kind=_lineage_kind(old, new, inflow[row["merged_into_code"]]),
                    effective_date=REFORM_DATE,
                    legal_basis=basis.group(1) if basis else MERGE_BASIS)


# Ethnic groups and religions ---------------------------------------------------------------

def _load_ethnic_groups(counts: Counter) -> None:
    for row in _rows("ethnic_groups.csv"):
        _get_or_add(
            counts, EthnicGroup, {"code": row["code"]}, code_2008=row["code_2008_qd1019"],
            name=row["name_vi"], common_name=row["name_common_spelling"] or None,
            other_names=row["other_names"] or None, language_family=row["language_family"],
            language_group=row["language_group_vi"],
            lives_in_community_in_province=row["lives_in_community_in_laichau"] == "yes",
            note=row["note"] or None)


def _load_religions(counts: Counter) -> None:
    for row in _rows("religions.csv"):
        name = row["name_vi"] if row["code"] else row["name_2019_census_label"]
        key = {"code": row["code"]} if row["code"] else {"code": None, "name": name}
        values = {"name": name} if row["code"] else {}
        _get_or_add(
            counts, Religion, key, **values, census_label=row["name_2019_census_label"] or None,
            recognised=row["one_of_16_recognised_religions"] == "yes",
            followers_census_2019=int(row["followers_census_2019"] or 0) or None,
            organisations=row["main_organisations"] or None, note=row["note"] or None)
