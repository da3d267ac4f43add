"""Dated, versionable catalogs.

Administrative units are keyed on ``(code, valid_from)``: after the 2025 reform a new commune
took the code of one of its old communes, often one with another name, so a code alone does
not identify a unit. A unit row is one version of a unit, valid over ``[valid_from, valid_to]``
(both inclusive, ``valid_to`` NULL = still valid). Lineage links carry history across merges,
splits, renames and transfers.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..extensions import db
from ..sync.origin import Pulled

#: Stands for "valid since before our records" where the start date was not researched.
#: Shown as "—" in the interface; a real date is required for new units.
UNKNOWN_START = date(1, 1, 1)

LINEAGE_KINDS = ("merge", "split", "rename", "transfer")


class AdminLevel(db.Model):
    """A level of the administrative hierarchy. Which levels exist when is data, not code."""

    __tablename__ = "admin_levels"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    #: 1 = province, 2 = district, 3 = commune, 4 = village: a parent has a smaller rank.
    rank: so.Mapped[int] = so.mapped_column(sa.SmallInteger, unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    valid_from: so.Mapped[date] = so.mapped_column(sa.Date, default=UNKNOWN_START)
    valid_to: so.Mapped[date | None] = so.mapped_column(sa.Date)

    __table_args__ = (
        sa.CheckConstraint("rank BETWEEN 1 AND 9", name="rank_range"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
    )


class UnitType(db.Model):
    """A kind of unit at one level: tỉnh, huyện, xã, phường, đặc khu, thôn, bản, …"""

    __tablename__ = "unit_types"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(30), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    level_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("admin_levels.id"), index=True)

    level: so.Mapped[AdminLevel] = so.relationship()


class AdminUnit(Pulled, db.Model):
    """One version of an administrative unit (đơn vị hành chính)."""

    __tablename__ = "admin_units"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(20))
    valid_from: so.Mapped[date] = so.mapped_column(sa.Date)
    valid_to: so.Mapped[date | None] = so.mapped_column(sa.Date)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    unit_type_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit_types.id"), index=True)
    level_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("admin_levels.id"), index=True)
    #: The parent *version*; its validity must cover this unit's validity.
    parent_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    #: Demo rows invented for illustration are flagged and shown as sample data.
    is_sample: so.Mapped[bool] = so.mapped_column(default=False)
    #: Other spellings (for example in the legal text), separated by "; ".
    aliases: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    source: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: Code, name and aliases without diacritics, lower case: for accent-insensitive search.
    #: Kept up to date by the flush listeners below.
    search_key: so.Mapped[str | None] = so.mapped_column(sa.String(600))
    #: When the row last changed: the API's change feed (``?changed_since=``) reads it.
    updated_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now,
        server_default=sa.func.current_timestamp())

    unit_type: so.Mapped[UnitType] = so.relationship()
    level: so.Mapped[AdminLevel] = so.relationship()
    parent: so.Mapped[AdminUnit | None] = so.relationship(remote_side=[id])

    __table_args__ = (
        sa.UniqueConstraint("code", "valid_from", name="uq_admin_units_code_valid_from"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        sa.Index("ix_admin_units_code_dates", "code", "valid_from", "valid_to"),
        sa.Index("ix_admin_units_updated", "updated_at", "id"),
    )

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def __repr__(self) -> str:
        return f"<AdminUnit {self.code} {self.name} {self.valid_from}..{self.valid_to}>"


def fold(text: str | None) -> str:
    """Lower case without diacritics or punctuation: "Đoàn Kết" → "doan ket"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.split(r"[^0-9a-z]+", bare.lower())).strip()


@sa.event.listens_for(AdminUnit, "before_insert")
@sa.event.listens_for(AdminUnit, "before_update")
def _refresh_search_key(_mapper, _connection, unit: AdminUnit) -> None:
    unit.search_key = fold(f"{unit.code} {unit.name} {unit.aliases or ''}")[:600]


class UnitLineage(db.Model):
    """A link from a unit version to its successor: merge, split, rename or transfer."""

    __tablename__ = "unit_lineage"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    from_unit_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    to_unit_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    effective_date: so.Mapped[date] = so.mapped_column(sa.Date)
    #: For splits: the share of the old unit that went to the new one (0 < share ≤ 1).
    share: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(7, 6))
    legal_basis: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    from_unit: so.Mapped[AdminUnit] = so.relationship(foreign_keys=[from_unit_id])
    to_unit: so.Mapped[AdminUnit] = so.relationship(foreign_keys=[to_unit_id])

    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('merge', 'split', 'rename', 'transfer')", name="kind"
        ),
        sa.CheckConstraint("from_unit_id <> to_unit_id", name="distinct_units"),
        sa.CheckConstraint("share IS NULL OR (share > 0 AND share <= 1)", name="share_range"),
        sa.UniqueConstraint("from_unit_id", "to_unit_id", name="uq_unit_lineage_pair"),
    )


@sa.event.listens_for(UnitLineage, "after_insert")
@sa.event.listens_for(UnitLineage, "after_update")
@sa.event.listens_for(UnitLineage, "after_delete")
def _touch_linked_units(_mapper, connection, link: UnitLineage) -> None:
    """A lineage link is part of both units' answers (predecessors, successors): a new,
    changed or removed link is a change of both in the API's change feed."""
    table = AdminUnit.__table__
    connection.execute(table.update().where(table.c.id.in_(
        (link.from_unit_id, link.to_unit_id))).values(updated_at=clock.now()))


class EthnicGroup(Pulled, db.Model):
    """One of the 54 ethnic groups, with both official code lists (1979 and 2008)."""

    __tablename__ = "ethnic_groups"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: QĐ 121-TCTK/PPCĐ (1979) code, "01" Kinh … "54" Rơ Măm.
    code: so.Mapped[str] = so.mapped_column(sa.String(2), unique=True)
    #: QĐ 1019/QĐ-TCTK (2008) code; only 17 of 54 agree with the 1979 list.
    code_2008: so.Mapped[str] = so.mapped_column(sa.String(2), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    #: The spelling in common use today, e.g. "Mông / H'Mông" for the official "HMông".
    common_name: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    other_names: so.Mapped[str | None] = so.mapped_column(sa.Text)
    language_family: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    language_group: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    lives_in_community_in_province: so.Mapped[bool] = so.mapped_column(default=False)
    note: so.Mapped[str | None] = so.mapped_column(sa.Text)


class Religion(Pulled, db.Model):
    """A recognised religion; GSO 2008 code where it has one."""

    __tablename__ = "religions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: GSO QĐ 1019/QĐ-TCTK (2008) code; two recognised religions have none.
    code: so.Mapped[str | None] = so.mapped_column(sa.String(2), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(150), unique=True)
    census_label: so.Mapped[str | None] = so.mapped_column(sa.String(150))
    recognised: so.Mapped[bool] = so.mapped_column(default=True)
    followers_census_2019: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    organisations: so.Mapped[str | None] = so.mapped_column(sa.Text)
    note: so.Mapped[str | None] = so.mapped_column(sa.Text)


class Department(db.Model):
    """A department (phòng / ban) of the provincial agency; owns indicator groups."""

    __tablename__ = "departments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(30), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
