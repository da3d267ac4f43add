"""Indicator catalogues: versions, groups, indicators and forms through the services."""

from __future__ import annotations

import itertools

from dantoc.indicators import services
from dantoc.indicators.models import CatalogueVersion, Form, IndicatorGroup
from tests.factories.places import REFORM, ensure_reference, level

_seq = itertools.count(1)


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
