"""The JSON shapes of the write services: a report pushed up by a province, and DHIS2
``dataValueSets`` (export and import). Unknown members are refused (422), never ignored.

Numbers travel as decimal strings (at most 14 digits before the point and 4 after: what the
figures' columns hold); units as ``(code, valid_from)``; periods as this instance's
``(type, code)`` in a pushed report and in DHIS2's format (``2026``, ``2026S1``, ``2026Q4``,
``202612``) in a data value set.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..indicators.models import PERIOD_TYPES
from .idempotency import KEY_PATTERN
from .schemas import ISO_DAY, Out, UnitKey

MAX_INT = 2**31 - 1
DECIMAL_PATTERN = r"^-?\d{1,14}(\.\d{1,4})?$"
DHIS2_PERIOD = r"^\d{4}(Q[1-4]|S[12]|0[1-9]|1[0-2])?$"
DHIS2_ID = r"^[A-Za-z0-9_.\-]{1,50}$"
CODE = r"^[A-Za-z0-9_.\-]{1,40}$"

Decimal = Annotated[str, Field(pattern=DECIMAL_PATTERN, max_length=20)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WriteHeaders(BaseModel):
    """Headers of a write (other headers are allowed and ignored)."""

    idempotency_key: str | None = Field(
        None, alias="Idempotency-Key", pattern=KEY_PATTERN,
        description="Makes the POST safe to repeat: the same key and body get the first "
                    "answer again (`Idempotent-Replayed: true`); the same key with another "
                    "body is 422 `idempotency_key_reused`.")


# -- a report pushed up ---------------------------------------------------------------------

class UnitRef(In):
    """A unit version: codes are reused, so the code and the start date together."""

    code: str = Field(pattern=CODE)
    valid_from: date

    @field_validator("valid_from", mode="before")
    @classmethod
    def _iso_day(cls, value):
        if not (isinstance(value, str) and ISO_DAY.fullmatch(value)):
            raise ValueError("not an ISO date (YYYY-MM-DD)")
        return value


class PeriodRef(In):
    type: Literal[PERIOD_TYPES]  # type: ignore[valid-type]
    code: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,30}$")


class FigureIn(In):
    indicator: str = Field(pattern=CODE, description="The indicator's code in the form's "
                                                      "catalogue version.")
    disaggregation: str = Field("", max_length=200,
                                description="The disaggregation key; empty for the total.")
    value: Decimal | dict[Annotated[str, Field(max_length=40)], Count] = Field(
        description="A decimal string, or villages per answer of a choice indicator.")
    villages: Count = Field(description="Villages whose values went into the figure.")


class SourceIn(In):
    unit: UnitRef = Field(description="The village.")
    version: int = Field(ge=1, le=32767, description="The village's submitted version.")


class MissingIn(In):
    code: str = Field(max_length=40)
    name: str = Field(max_length=300)
    state: str = Field(max_length=20)
    reason: str = Field(max_length=2000)


class ReportPush(In):
    """An approved unit report of a province, with its figures and their provenance."""

    form: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,30}$", description="The form's code.")
    form_version: int = Field(ge=1, le=32767)
    period: PeriodRef
    unit: UnitRef
    version: int = Field(ge=1, le=MAX_INT, description="The report's version at the sender "
                                                       "(a later approval has a higher one).")
    submitted_at: datetime
    approved_at: datetime
    figures: list[FigureIn] = Field(max_length=20000)
    sources: list[SourceIn] = Field(max_length=50000, description="The approved village "
                                                                  "versions it was made of.")
    missing: list[MissingIn] = Field(default_factory=list, max_length=5000,
                                     description="Units below not approved, with the reason.")


class PeriodOut(Out):
    type: str
    code: str


class ReceivedReportOut(Out):
    id: int
    state: Literal["received"]
    form: str
    form_version: int
    period: PeriodOut
    unit: UnitKey
    version: int
    figures: int = Field(description="How many figures are stored.")
    received_at: datetime
    updated_at: datetime


# -- DHIS2 dataValueSets --------------------------------------------------------------------

Dhis2Id = Annotated[str, Field(pattern=DHIS2_ID)]
Dhis2Period = Annotated[str, Field(pattern=DHIS2_PERIOD, description="`2026`, `2026S1`, "
                                                                    "`2026Q4` or `202612`.")]


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Dhis2Period
    orgUnit: Dhis2Id = Field(description="The mapped DHIS2 org unit (code or UID).")


class DataValueOut(Out):
    dataElement: str
    period: str
    orgUnit: str
    categoryOptionCombo: str
    value: str


class DataValueSetOut(Out):
    period: str
    orgUnit: str
    dataValues: list[DataValueOut]


class DataValueIn(In):
    dataElement: Dhis2Id
    period: Dhis2Period | None = None
    orgUnit: Dhis2Id | None = None
    categoryOptionCombo: Dhis2Id | None = None
    attributeOptionCombo: Dhis2Id | None = None
    value: Decimal | Annotated[int, Field(ge=-(10**14), le=10**14)]
    comment: str | None = Field(None, max_length=500)
    storedBy: str | None = Field(None, max_length=100)
    created: str | None = Field(None, max_length=40)
    lastUpdated: str | None = Field(None, max_length=40)
    followup: bool | None = None


class DataValueSetIn(In):
    """A DHIS2 data value set; a value's period and org unit default to the set's."""

    dataSet: Dhis2Id | None = None
    completeDate: str | None = Field(None, max_length=40)
    period: Dhis2Period | None = None
    orgUnit: Dhis2Id | None = None
    attributeOptionCombo: Dhis2Id | None = None
    dataValues: list[DataValueIn] = Field(min_length=1, max_length=10000)


class ImportCount(Out):
    imported: int
    updated: int
    ignored: int
    deleted: int


class DraftOut(Out):
    id: int
    orgUnit: str
    period: str
    unit: UnitKey
    values: int


class ImportSummary(Out):
    """As DHIS2's import summary; the values wait in draft reports for review."""

    status: Literal["SUCCESS"]
    importCount: ImportCount
    drafts: list[DraftOut]
