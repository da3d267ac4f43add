"""What each importable catalog looks like: its columns, how a cell is read, how a row is saved."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_babel import lazy_gettext as _

from ..extensions import db
from ..i18n.formatting import format_date
from ..refusal import FieldError, Refusal
from . import queries, services
from .models import AdminUnit, EthnicGroup, Religion, UnitType, fold


class NumberText(str):
    """The text of a numeric spreadsheet cell (leading zeros of a code are already lost)."""

    __slots__ = ()


@dataclass(frozen=True)
class RowError:
    """One problem in an imported file: ``line`` 1 is the header, None = the whole file."""

    line: int | None
    column: str | None
    message: Any

    def __str__(self) -> str:
        if self.line is None:
            return str(self.message)
        if self.column:
            return str(_("Line %(line)s, %(column)s: %(message)s", line=self.line,
                         column=self.column, message=self.message))
        return str(_("Line %(line)s: %(message)s", line=self.line, message=self.message))


class ImportRefused(Exception):
    """The file was refused as a whole; ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


class Bad(ValueError):
    """A cell that cannot be read; the message says what is expected."""


# Cell readers -------------------------------------------------------------------------------

def text(limit: int) -> Callable[[str], str | None]:
    def read(value: str) -> str | None:
        if len(value) > limit:
            raise Bad(_("At most %(n)s characters.", n=limit))
        return value or None
    return read


def code(limit: int) -> Callable[[str], str | None]:
    def read(value: str) -> str | None:
        if isinstance(value, NumberText):
            raise Bad(_("Enter codes as text, not numbers: a number loses its leading zeros "
                        "(03388 becomes 3388)."))
        if (value and not re.fullmatch(r"[0-9A-Za-z._-]+", value)) or len(value) > limit:
            raise Bad(_("A code has at most %(n)s letters, digits, dots, dashes or "
                        "underscores.", n=limit))
        return value or None
    return read


def day(value: str) -> date | None:
    """YYYY-MM-DD (ISO) or DD/MM/YYYY, the way dates are written in Vietnam."""
    if not value:
        return None
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(value)
    except ValueError:
        raise Bad(_("Not a date: write YYYY-MM-DD or DD/MM/YYYY.")) from None


YES = {"yes", "y", "true", "1", "x", "co", "c"}
NO = {"no", "n", "false", "0", "khong", "k", ""}


def flag(value: str) -> bool:
    folded = fold(value)
    if folded in YES or folded in NO:
        return folded in YES
    raise Bad(_("Write yes or no."))


def count(value: str) -> int | None:
    if not value:
        return None
    digits = value.replace(",", "").replace(".", "").replace(" ", "")
    if not digits.isdigit():
        raise Bad(_("Write a whole number of at least 0."))
    return int(digits)


#: How a unit went into its successor, in the words of a province's list or the codes.
LINEAGE_WORDS = {"merge": "merge", "sap nhap": "merge", "nhap": "merge", "split": "split",
                 "chia tach": "split", "tach": "split", "rename": "rename", "doi ten": "rename",
                 "transfer": "transfer", "dieu chinh dia gioi": "transfer",
                 "dieu chuyen": "transfer"}


def lineage(value: str) -> str | None:
    """``merge``, ``split``, ``rename`` or ``transfer`` (or "sáp nhập", "chia tách"…)."""
    if not value:
        return None
    found = LINEAGE_WORDS.get(fold(value))
    if found is None:
        raise Bad(_("Write sáp nhập, chia tách, đổi tên or điều chỉnh địa giới."))
    return found


def unit_type(value: str) -> UnitType:
    """A unit type by code or name ("ban", "Bản"); looked up once per application context."""
    if "catalog_unit_types" not in g:  # held here, so the session does not drop them
        types = db.session.scalars(sa.select(UnitType).order_by(UnitType.id)).all()
        g.catalog_unit_types = {fold(k): t for t in types for k in (t.code, t.name)}
    found = g.catalog_unit_types.get(fold(value))
    if found is None:
        names = ", ".join(dict.fromkeys(t.name for t in g.catalog_unit_types.values()))
        raise Bad(_("Unknown unit type. Use one of: %(names)s.", names=names))
    return found


# Kinds --------------------------------------------------------------------------------------

class Kind:
    """A catalog that can be imported: columns with their readers, the key, how to save."""

    readers: dict[str, Callable[[str], Any]] = {}
    required: tuple[str, ...] = ()

    def check_header(self, header: list[str]) -> list[str]:
        """The column names in file order; refuses unknown, repeated or missing columns."""
        columns = [re.sub(r"\s+", "_", name.strip().lower()) for name in header]
        while columns and not columns[-1]:
            columns.pop()
        errors = [RowError(1, name or None, _("Unknown column. Allowed: %(names)s.",
                                              names=", ".join(self.readers)))
                  for name in columns if name not in self.readers]
        errors += [RowError(1, name, _("This column appears twice.")) for name in set(columns)
                   if columns.count(name) > 1]
        errors += [RowError(1, name, _("This column is missing.")) for name in self.required
                   if name not in columns]
        if errors:
            raise ImportRefused(errors)
        return columns

    def parse_all(self, columns: list[str], lines) -> tuple[list[tuple[int, dict]], list]:
        """Read every row; a key repeated in the file is an error at its second line."""
        parsed, errors, seen = [], [], {}
        for number, cells in lines:
            values, problems = self.parse(number, columns, cells)
            errors += problems
            if problems:
                continue
            key = self.key(values)
            if key in seen:
                errors.append(RowError(number, None, _("Same entry as line %(line)s.",
                                                       line=seen[key])))
            seen.setdefault(key, number)
            parsed.append((number, values))
        return parsed, errors

    def parse(self, number: int, columns: list[str], cells: list) -> tuple[dict, list]:
        values, problems = {}, []
        if any(str(cell).strip() for cell in cells[len(columns):]):
            problems.append(RowError(number, None, _("This row has more cells than the header.")))
        for name, cell in zip(columns, [*cells, *[""] * len(columns)], strict=False):
            try:
                values[name] = self.readers[name](cell if isinstance(cell, NumberText)
                                                  else str(cell).strip())
            except Bad as bad:
                problems.append(RowError(number, name, bad.args[0]))
                continue
            if values[name] is None and name in self.required:
                problems.append(RowError(number, name, _("This value is required.")))
        return values, problems

    def key(self, values: dict) -> Any:
        raise NotImplementedError

    def prepare(self, parsed: list[tuple[int, dict]], memo: dict) -> None:
        """Load what many rows will need, once (optional)."""

    def finish(self, memo: dict) -> list[tuple[int, FieldError]]:
        """After every row is saved: what links rows together (optional); the errors with
        their lines."""
        return []

    def apply(self, values: dict, memo: dict) -> bool:
        """Save one row through the services; True when it created an entry.

        :param memo: lookups kept for the duration of one import.
        """
        raise NotImplementedError


class Units(Kind):
    """Administrative units, villages included (thôn, bản, tổ dân phố: issue #14), with
    where a closed unit went: ``went_into_code`` (the successor valid the day after
    ``valid_to``), ``lineage`` (merge by default) and its ``legal_basis``, recorded as
    lineage like the 2025 commune merges. Importing the same file again adds nothing."""

    readers = {"code": code(20), "name": text(200), "unit_type": unit_type,
               "parent_code": code(20), "valid_from": day, "valid_to": day, "is_sample": flag,
               "aliases": text(300), "source": text(2000), "went_into_code": code(20),
               "lineage": lineage, "legal_basis": text(200)}
    required = ("code", "name", "unit_type", "valid_from")
    LINKS = ("went_into_code", "lineage", "legal_basis")

    def key(self, values: dict) -> Any:
        return values["code"], values["valid_from"]

    def prepare(self, parsed: list[tuple[int, dict]], memo: dict) -> None:
        """The versions already recorded under the file's codes, in a few queries."""
        codes = sorted({values["code"] for _line, values in parsed})
        memo["existing"] = existing = {}
        for start in range(0, len(codes), 500):
            for unit in db.session.scalars(sa.select(AdminUnit).where(
                    AdminUnit.code.in_(codes[start:start + 500]))):
                existing[unit.code, unit.valid_from] = unit

    def apply(self, values: dict, memo: dict) -> bool:
        fields = {name: value for name, value in values.items()
                  if name != "parent_code" and name not in self.LINKS}
        if "parent_code" in values:
            fields["parent"] = self._parent(values["parent_code"], values["valid_from"], memo)
        existing = memo["existing"].get((values["code"], values["valid_from"]))
        if existing is not None:
            unit, created = services.update_unit(existing, **fields), False
        else:
            unit, created = services.create_unit(**fields), True
        if values.get("went_into_code"):
            memo.setdefault("links", []).append((memo.get("line"), unit, values))
        return created

    def finish(self, memo: dict) -> list[tuple[int, FieldError]]:
        """The lineage of the closed units, once every successor of the file exists."""
        errors = []
        for line, unit, values in memo.get("links", []):
            try:
                self._link(unit, values)
            except Refusal as error:  # a refused link, or one between units of the centre
                errors.append((line, FieldError(str(error), "went_into_code")))
        return errors

    @staticmethod
    def _link(unit: AdminUnit, values: dict) -> None:
        if unit.valid_to is None:
            raise FieldError(_("A unit that went into another needs its valid_to date."),
                             "valid_to")
        effective = unit.valid_to + timedelta(days=1)
        successor = queries.resolve(values["went_into_code"], effective)
        if successor is None:
            raise FieldError(_("No unit has the code %(code)s on %(day)s, the day after "
                               "valid_to.", code=values["went_into_code"],
                               day=format_date(effective)), "went_into_code")
        if queries.linked(unit, successor):
            return  # the same file again
        services.add_lineage(kind=values.get("lineage") or "merge", from_unit=unit,
                             to_unit=successor, effective_date=effective,
                             legal_basis=values.get("legal_basis"))

    @staticmethod
    def _parent(code: str | None, start: date, memo: dict) -> AdminUnit | None:
        """The parent version, remembered: a file of villages names few communes.

        The memo also keeps the parents loaded (the session only holds them weakly).
        """
        known = memo.get((code, start))
        if known is None or not known.valid_on(start):
            known = memo[code, start] = services.parent_for(code, start)
        return known


class EthnicGroups(Kind):
    readers = {"code": code(2), "code_2008": code(2), "name": text(60), "common_name": text(60),
               "other_names": text(2000), "language_family": text(60),
               "language_group": text(60), "lives_in_community_in_province": flag,
               "note": text(2000)}
    required = ("code", "code_2008", "name")

    def key(self, values: dict) -> Any:
        return values["code"]

    def apply(self, values: dict, memo: dict) -> bool:
        existing = db.session.scalar(sa.select(EthnicGroup).filter_by(code=values["code"]))
        services.save_ethnic_group(existing, **values)
        return existing is None


class Religions(Kind):
    readers = {"code": code(2), "name": text(150), "census_label": text(150),
               "recognised": flag, "followers_census_2019": count,
               "organisations": text(2000), "note": text(2000)}
    required = ("name",)

    def key(self, values: dict) -> Any:
        return values.get("code") or fold(values["name"])

    def apply(self, values: dict, memo: dict) -> bool:
        match = {"code": values["code"]} if values.get("code") else {"name": values["name"]}
        existing = db.session.scalar(sa.select(Religion).filter_by(**match))
        services.save_religion(existing, **values)
        return existing is None


KINDS: dict[str, Kind] = {"units": Units(), "ethnic_groups": EthnicGroups(),
                          "religions": Religions()}
