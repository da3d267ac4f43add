"""Catalogue versions, indicator groups and disaggregations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ...catalogs.models import Department
from ...extensions import db
from ...refusal import FieldError
from ...sync import origin
from ..models import (
    DISAGGREGATION_SOURCES,
    CatalogueVersion,
    Disaggregation,
    DisaggregationOption,
    IndicatorGroup,
)
from .common import (
    changed,
    check_code,
    check_dates,
    check_unique,
    clean_text,
    created,
    unique_in_version,
)

_VERSION_FIELDS = ("code", "name", "legal_basis", "valid_from", "valid_to")
_GROUP_FIELDS = ("catalogue_version_id", "code", "name", "department_id", "position")


def _version_values(code: str, name: str, valid_from: date | None, valid_to: date | None,
                    legal_basis: str | None) -> dict:
    check_dates(valid_from, valid_to, start_field="valid_from", end_field="valid_to")
    return {"code": check_code(code), "name": clean_text(name, "name", max_length=200),
            "legal_basis": clean_text(legal_basis, "legal_basis", required=False),
            "valid_from": valid_from, "valid_to": valid_to}


def create_catalogue_version(*, code: str, name: str, valid_from: date | None,
                             valid_to: date | None = None,
                             legal_basis: str | None = None) -> CatalogueVersion:
    """Create a version of the indicator system (audited).

    :raise FieldError: on a taken code, a blank name or an end before the start, or a code
        outside the local range at a province (:mod:`dantoc.sync.origin`).
    """
    values = _version_values(code, name, valid_from, valid_to, legal_basis)
    origin.check_local_code(values["code"])
    check_unique(CatalogueVersion, code=values["code"])
    return created("indicators.catalogue.create", CatalogueVersion(**values), _VERSION_FIELDS)


def update_catalogue_version(version: CatalogueVersion, *, code: str, name: str,
                             valid_from: date | None, valid_to: date | None = None,
                             legal_basis: str | None = None) -> CatalogueVersion:
    """Change a catalogue version's code, name, legal basis or validity (audited).

    :raise FieldError: as :func:`create_catalogue_version`.
    :raise Refusal: ``national_record`` for a version copied from the centre.
    """
    origin.check_editable(version)
    values = _version_values(code, name, valid_from, valid_to, legal_basis)
    origin.check_local_code(values["code"], current=version.code)
    check_unique(CatalogueVersion, version, code=values["code"])
    return changed("indicators.catalogue.update", version, values)


def _group_values(catalogue_version: CatalogueVersion, code: str, name: str,
                  department: Department | None, position: int | None) -> dict:
    if catalogue_version is None:
        raise FieldError(_("This field is required."), "catalogue_version")
    return {"catalogue_version_id": catalogue_version.id,
            "code": check_code(code, max_length=20), "name": clean_text(name, "name"),
            "department_id": department.id if department else None, "position": position or 0}


def create_group(*, catalogue_version: CatalogueVersion, code: str, name: str,
                 department: Department | None = None,
                 position: int | None = None) -> IndicatorGroup:
    """Create an indicator group (nhóm chỉ tiêu) owned by a department (audited).

    :raise FieldError: on a code taken in the catalogue version or a blank name.
    """
    values = _group_values(catalogue_version, code, name, department, position)
    origin.check_local_code(values["code"])
    unique_in_version(IndicatorGroup, values)
    return created("indicators.group.create", IndicatorGroup(**values), _GROUP_FIELDS)


def update_group(group: IndicatorGroup, *, code: str, name: str,
                 department: Department | None = None,
                 position: int | None = None) -> IndicatorGroup:
    """Rename, re-code, re-order or hand a group to another department (audited).

    The catalogue version does not change: the group's indicators were coded within it.

    :raise FieldError: as :func:`create_group`.
    :raise Refusal: ``national_record`` for a group copied from the centre.
    """
    origin.check_editable(group)
    values = _group_values(group.catalogue_version, code, name, department, position)
    origin.check_local_code(values["code"], current=group.code)
    unique_in_version(IndicatorGroup, values, group)
    return changed("indicators.group.update", group, values)


def create_disaggregation(*, code: str, name: str, source: str = "options",
                          options: Sequence[tuple[str, str]] = ()) -> Disaggregation:
    """Create a disaggregation (phân tổ) with its fixed options (audited).

    :raise FieldError: on a taken code, an unknown source, or options for a source that
        takes its options from a catalog.
    """
    code = check_code(code)
    origin.check_local_code(code)
    if db.session.scalar(sa.select(Disaggregation.id).where(Disaggregation.code == code)):
        raise FieldError(_("This code is already used."), "code")
    if source not in DISAGGREGATION_SOURCES:
        raise FieldError(_("Not a valid choice."), "source")
    if (source == "options") != bool(options):
        raise FieldError(_("Options are needed exactly when the source is a fixed list."),
                         "options")
    disaggregation = Disaggregation(code=code, name=clean_text(name, "name", max_length=100),
                                    source=source)
    disaggregation.options = [DisaggregationOption(code=check_code(c, "options"), label=label,
                                                   position=i) for i, (c, label)
                              in enumerate(options)]
    created("indicators.disaggregation.create", disaggregation, ("code", "name", "source"))
    return disaggregation
