"""The JSON shapes of the API, as pydantic models: the views build them, spectree turns them
into the OpenAPI document, so the document and the answers cannot drift apart.

Identifiers are the catalogs' codes, never database ids (they differ between instances);
administrative units are identified by ``(code, valid_from)`` because codes were reused
after the 2025 merges. Names are the Vietnamese names as stored; dates are ISO 8601.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..catalogs.models import LINEAGE_KINDS
from ..documents.models import DOC_TYPES, LINK_KINDS, Validity, Visibility
from ..indicators.models import AGGREGATIONS, DISAGGREGATION_SOURCES, PERIOD_TYPES, VALUE_TYPES

#: Page sizes: what a client gets without asking, and the most it may ask for.
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                        r"(Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE)

DecimalText = str  # decimals travel as strings ("12.5"): no binary floating point on the way


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- query parameters -----------------------------------------------------------------------

class PageQuery(BaseModel):
    """Cursor pagination; unknown parameters are refused (422), not ignored."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                       description=f"Items per page, 1 to {MAX_LIMIT}.")
    cursor: str | None = Field(None, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$",
                               description="The `next_cursor` of the previous page (opaque).")


def _iso_moment(value):
    """Only an ISO 8601 moment (pydantic would also read ``0`` as 1970); one without an
    offset is UTC; a moment that cannot be said in UTC is refused, not a 500."""
    if value is None:
        return None
    if not (isinstance(value, str) and ISO_MOMENT.fullmatch(value)):
        raise ValueError("not an ISO 8601 moment")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError) as error:
        raise ValueError("not an ISO 8601 moment") from error


class ChangesQuery(PageQuery):
    """The change feed: ``changed_since`` lists what changed at or after that moment, in
    the order of change, retired and closed items included."""

    changed_since: datetime | None = Field(
        None, description="Only the items changed at or after this moment (ISO 8601; UTC "
                          "when it has no offset), oldest change first, including retired "
                          "and closed ones.")

    @field_validator("changed_since", mode="before")
    @classmethod
    def _moment(cls, value):
        return _iso_moment(value)


class VersionedQuery(ChangesQuery):
    catalogue_version: str | None = Field(
        None, max_length=30, description="Only this catalogue version (its code).")


class UnitQuery(ChangesQuery):
    on: date | None = Field(None, description="Only the unit versions valid on this day.")
    level: str | None = Field(None, max_length=20,
                              description="Only this level (`province`, `commune`, …).")

    @field_validator("on", mode="before")
    @classmethod
    def _iso_day(cls, value):
        """Only ``YYYY-MM-DD``: pydantic would also read ``0`` as 1970-01-01."""
        if value is not None and not (isinstance(value, str) and ISO_DAY.fullmatch(value)):
            raise ValueError("not an ISO date (YYYY-MM-DD)")
        return value


class DocumentQuery(ChangesQuery):
    group: str | None = Field(None, max_length=120,
                              description="Only this document group (its slug).")


class ReportQuery(PageQuery):
    form: str | None = Field(None, max_length=30, description="Only this form (its code).")
    period: str | None = Field(None, max_length=30,
                               description="Only this period (its code: `2026`, `2026-Q3`).")
    unit: str | None = Field(None, max_length=20, description="Only this unit (its code).")
    unit_valid_from: date | None = Field(
        None, description="With `unit`: only the unit version that starts on this day.")

    @field_validator("unit_valid_from", mode="before")
    @classmethod
    def _iso_day(cls, value):
        if value is not None and not (isinstance(value, str) and ISO_DAY.fullmatch(value)):
            raise ValueError("not an ISO date (YYYY-MM-DD)")
        return value


# -- errors ---------------------------------------------------------------------------------

class Problem(BaseModel):
    """RFC 9457 problem details (docs/errors.md)."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="The stable error code (docs/errors.md).")
    fields: dict[str, str] | None = Field(None, description="Bad parameters and why.")
    error: dict | None = Field(None, description="The first JSON shape, for old clients.")


# -- catalogs -------------------------------------------------------------------------------

class CatalogueVersion(Out):
    code: str
    name: str
    legal_basis: str | None
    valid_from: date
    valid_to: date | None


class Department(Out):
    code: str
    name: str


class IndicatorGroup(Out):
    code: str
    name: str
    catalogue_version: str = Field(description="The code of its catalogue version.")
    department: Department | None
    position: int
    updated_at: datetime = Field(description="When it last changed (the change feed).")


class Choice(Out):
    code: str
    label: str


class DisaggregationOut(Out):
    code: str
    name: str
    source: Literal[DISAGGREGATION_SOURCES]  # type: ignore[valid-type]
    options: list[Choice] = Field(description="Fixed options (empty when the source is "
                                              "the ethnic-group or religion catalog).")


class Indicator(Out):
    code: str
    name: str
    catalogue_version: str
    group: str = Field(description="The code of its indicator group.")
    unit_of_measure: str | None
    value_type: Literal[VALUE_TYPES]  # type: ignore[valid-type]
    aggregation: Literal[AGGREGATIONS]  # type: ignore[valid-type]
    min_value: DecimalText | None
    max_value: DecimalText | None
    required: bool
    help_text: str | None
    choices: list[Choice]
    disaggregations: list[DisaggregationOut]
    updated_at: datetime = Field(description="When it last changed (the change feed).")


class EthnicGroup(Out):
    code: str = Field(description="Code of QĐ 121-TCTK/PPCĐ (1979).")
    code_2008: str = Field(description="Code of QĐ 1019/QĐ-TCTK (2008).")
    name: str
    common_name: str | None
    other_names: str | None
    language_family: str | None
    language_group: str | None
    lives_in_community_in_province: bool
    note: str | None


class Religion(Out):
    code: str | None = Field(description="GSO 2008 code; two recognised religions have "
                                         "none, and are identified by name.")
    name: str
    census_label: str | None
    recognised: bool
    followers_census_2019: int | None
    organisations: str | None
    note: str | None


class UnitKey(Out):
    """A unit version: codes are reused, so the code and the start date together."""

    code: str
    valid_from: date


class LineageLink(Out):
    kind: Literal[LINEAGE_KINDS]  # type: ignore[valid-type]
    unit: UnitKey = Field(description="The unit at the other end of the link.")
    effective_date: date
    share: DecimalText | None = Field(description="Splits: the share of the old unit.")
    legal_basis: str | None


class AdminUnit(Out):
    code: str
    valid_from: date = Field(description="0001-01-01: valid since before our records.")
    valid_to: date | None
    name: str
    level: str
    unit_type: str
    parent: UnitKey | None
    is_sample: bool = Field(description="Invented demo data.")
    aliases: str | None
    predecessors: list[LineageLink]
    successors: list[LineageLink]
    updated_at: datetime = Field(description="When it last changed (the change feed): "
                                             "closing a unit sets `valid_to` and changes it.")


# -- forms ----------------------------------------------------------------------------------

class FormVersionSummary(Out):
    number: int
    status: Literal["published", "retired"]
    fill_level: str
    period_type: Literal[PERIOD_TYPES]  # type: ignore[valid-type]
    published_at: datetime


class Form(Out):
    code: str
    kind: Literal["bieu", "phieu"]
    name: str
    catalogue_version: str
    legal_basis: str | None
    versions: list[FormVersionSummary] = Field(description="Published and retired versions.")


class FormItem(Out):
    position: int
    indicator: str = Field(description="The indicator's code in the form's catalogue version.")


class FormSection(Out):
    position: int
    title: str
    items: list[FormItem]


class FormVersion(FormVersionSummary):
    form: str
    kind: Literal["bieu", "phieu"]
    catalogue_version: str
    sections: list[FormSection]


# -- documents ------------------------------------------------------------------------------

class DocumentGroup(Out):
    slug: str = Field(description="The group's identifier.")
    name: str
    parent: str | None = Field(description="The slug of the group above.")
    position: int
    retired: bool = Field(description="Retired groups are listed only in the change feed.")
    updated_at: datetime


class DocumentLinkOut(Out):
    kind: Literal[LINK_KINDS]  # type: ignore[valid-type]
    direction: Literal["outgoing", "incoming"] = Field(
        description="outgoing: this document replaces, amends or guides the other one.")
    document: str = Field(description="The other document's number (số ký hiệu).")


class DocumentFileOut(Out):
    id: int
    filename: str
    kind: Literal["pdf", "doc", "docx", "xlsx"]
    media_type: str
    size: int
    sha256: str
    url: str = Field(description="Where to download it.")


class Document(Out):
    id: int = Field(description="This instance's id (for the file URLs); `number` is the "
                                "identifier between instances.")
    number: str = Field(description="Số ký hiệu, e.g. `414/QĐ-TTg`.")
    state: Literal["published", "retired", "withdrawn"] = Field(
        description="withdrawn: published once, now taken back (change feed only; every "
                    "other field is then null or empty).")
    doc_type: Literal[tuple(DOC_TYPES)] | None  # type: ignore[valid-type]
    type_name: str | None = Field(description="Loại văn bản as printed.")
    issuer: str | None = Field(description="Cơ quan ban hành.")
    signer: str | None = Field(description="Người ký.")
    issued_on: date | None
    effective_on: date | None
    validity: Literal[Validity.ALL] | None = Field(  # type: ignore[valid-type]
        description="Tình trạng hiệu lực (null: the sources do not say).")
    validity_changed_on: date | None
    summary: str | None = Field(description="Trích yếu.")
    field: str | None = Field(description="Lĩnh vực.")
    visibility: Literal[Visibility.ALL] | None  # type: ignore[valid-type]
    group: str | None = Field(description="The slug of its group.")
    links: list[DocumentLinkOut]
    files: list[DocumentFileOut]
    published_at: datetime | None
    updated_at: datetime


# -- unit reports -----------------------------------------------------------------------------

class ReportSummary(Out):
    id: int = Field(description="This instance's id; between instances a report is "
                                "(form, period, unit).")
    form: str
    period: str
    period_type: Literal[PERIOD_TYPES]  # type: ignore[valid-type]
    unit: UnitKey
    unit_name: str
    state: Literal["approved"]
    submitted_at: datetime
    approved_at: datetime
    updated_at: datetime


class Figure(Out):
    indicator: str = Field(description="The indicator's code in the form's catalogue version.")
    disaggregation: str = Field(description="The breakdown key (`sex=female`), empty for "
                                            "the total.")
    value: DecimalText | dict[str, int] = Field(
        description="A number as a string; a choice: villages per answer.")
    villages: int = Field(description="How many village values it is made of.")


class FigureSource(Out):
    village: UnitKey
    submission_version: int = Field(description="The village submission's version counted.")
    via: UnitKey | None = Field(description="The unit directly below the report it came "
                                            "through (a commune of a district); null: a "
                                            "village of the report itself.")


class Report(ReportSummary):
    catalogue_version: str
    figures: list[Figure]
    not_aggregated: list[str] = Field(description="Indicators whose values are not summed up "
                                                  "(aggregation `none`).")
    sources: list[FigureSource] = Field(description="Every approved village version the "
                                                    "figures are made of (provenance).")


# -- pages ----------------------------------------------------------------------------------

class Page(Out):
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null "
                                                "on the last page.")
    next: str | None = Field(description="The URL of the next page.")


class CatalogueVersionPage(Page):
    items: list[CatalogueVersion]


class IndicatorGroupPage(Page):
    items: list[IndicatorGroup]


class IndicatorPage(Page):
    items: list[Indicator]


class EthnicGroupPage(Page):
    items: list[EthnicGroup]


class ReligionPage(Page):
    items: list[Religion]


class AdminUnitPage(Page):
    items: list[AdminUnit]


class FormPage(Page):
    items: list[Form]


class DocumentGroupPage(Page):
    items: list[DocumentGroup]


class DocumentPage(Page):
    items: list[Document]


class ReportPage(Page):
    items: list[ReportSummary]
