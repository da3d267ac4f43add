"""The indicator model.

The national indicator system changed in 2014, 2019 and 2025, so indicators live inside a
:class:`CatalogueVersion`. Report forms (biểu) and questionnaires (phiếu) are versioned,
ordered sets of indicators in sections; a published form version is never edited, a new
version is made instead, so that stored submissions keep their meaning.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..catalogs.models import AdminLevel, Department
from ..extensions import db
from ..sync.origin import Pulled

VALUE_TYPES = ("integer", "decimal", "percent", "yes_no", "choice", "text")
AGGREGATIONS = ("sum", "average", "min", "max", "none")
PERIOD_TYPES = ("month", "quarter", "half_year", "year", "custom")
FORM_KINDS = ("bieu", "phieu")


class FormStatus:
    """The closed set of form-version statuses: a draft is edited, a published version is
    filled in and never edited again, a retired one was replaced by a newer publication."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


FORM_STATUSES = (FormStatus.DRAFT, FormStatus.PUBLISHED, FormStatus.RETIRED)
RULE_SEVERITIES = ("error", "warning")
#: Where the options of a disaggregation come from.
DISAGGREGATION_SOURCES = ("options", "ethnic_groups", "religions")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CatalogueVersion(Pulled, db.Model):
    """A version of the indicator system (TT 06/2014, TT 03/2019, TT 06/2025, local)."""

    __tablename__ = "catalogue_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(30), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    legal_basis: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    valid_from: so.Mapped[date] = so.mapped_column(sa.Date)
    valid_to: so.Mapped[date | None] = so.mapped_column(sa.Date)

    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
    )


class IndicatorGroup(Pulled, db.Model):
    """Nhóm chỉ tiêu, owned by a department."""

    __tablename__ = "indicator_groups"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    catalogue_version_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("catalogue_versions.id"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(20))
    name: so.Mapped[str] = so.mapped_column(sa.String(300))
    department_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("departments.id"), index=True
    )
    position: so.Mapped[int] = so.mapped_column(default=0)
    #: When the row last changed: the API's change feed (``?changed_since=``) reads it.
    updated_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now,
        server_default=sa.func.current_timestamp())

    catalogue_version: so.Mapped[CatalogueVersion] = so.relationship()
    department: so.Mapped[Department | None] = so.relationship()
    indicators: so.Mapped[list[Indicator]] = so.relationship(
        back_populates="group", order_by="Indicator.code"
    )

    __table_args__ = (sa.UniqueConstraint("catalogue_version_id", "code"),
                      sa.Index("ix_indicator_groups_updated", "updated_at", "id"))


class Disaggregation(db.Model):
    """A dimension to break a value down by (phân tổ): sex, ethnic group, age group, …"""

    __tablename__ = "disaggregations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(30), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    source: so.Mapped[str] = so.mapped_column(sa.String(20), default="options")

    options: so.Mapped[list[DisaggregationOption]] = so.relationship(
        order_by="DisaggregationOption.position", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint(_in("source", DISAGGREGATION_SOURCES), name="source"),)


class DisaggregationOption(db.Model):
    """A fixed option of a disaggregation (for example male / female)."""

    __tablename__ = "disaggregation_options"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    disaggregation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("disaggregations.id", ondelete="CASCADE"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(30))
    label: so.Mapped[str] = so.mapped_column(sa.String(100))
    position: so.Mapped[int] = so.mapped_column(default=0)

    __table_args__ = (sa.UniqueConstraint("disaggregation_id", "code"),)


indicator_disaggregations = sa.Table(
    "indicator_disaggregations",
    db.metadata,
    sa.Column("indicator_id", sa.ForeignKey("indicators.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("disaggregation_id", sa.ForeignKey("disaggregations.id"), primary_key=True),
    sa.Column("position", sa.SmallInteger, nullable=False, server_default="0"),
)


class Indicator(Pulled, db.Model):
    """Chỉ tiêu: what is measured, how it is typed, checked and aggregated."""

    __tablename__ = "indicators"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Copied from the group, so that codes are unique within a catalogue version.
    catalogue_version_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("catalogue_versions.id"), index=True
    )
    group_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("indicator_groups.id"), index=True)
    #: Used in rule expressions, so it must be an identifier: letters, digits, underscore.
    code: so.Mapped[str] = so.mapped_column(sa.String(40))
    name: so.Mapped[str] = so.mapped_column(sa.String(300))
    unit_of_measure: so.Mapped[str | None] = so.mapped_column(sa.String(50))
    value_type: so.Mapped[str] = so.mapped_column(sa.String(10))
    aggregation: so.Mapped[str] = so.mapped_column(sa.String(10), default="sum")
    min_value: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(18, 4))
    max_value: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(18, 4))
    required: so.Mapped[bool] = so.mapped_column(default=False)
    help_text: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # The description the Statistics Law asks of every indicator (Luật Thống kê 2015,
    # Điều 3 khoản 10), shown beside its figures in the lookup and exports (issue #11).
    #: Khái niệm.
    concept: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: Phương pháp tính.
    method: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: Phân tổ chủ yếu.
    main_breakdowns: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    #: Kỳ công bố.
    publication_period: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    #: Nguồn số liệu.
    data_source: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    #: Cơ quan chịu trách nhiệm thu thập, tổng hợp.
    responsible_agency: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    #: A derived indicator (chỉ tiêu tính toán): an arithmetic formula over the codes of other
    #: indicators of its catalogue version, e.g. ``poor_households / households * 100``,
    #: evaluated by :mod:`dantoc.indicators.formulas` on the aggregated figures of each unit
    #: (never entered, never averaged from village rates). None: an entered indicator.
    formula: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: When the row last changed: the API's change feed (``?changed_since=``) reads it.
    updated_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now,
        server_default=sa.func.current_timestamp())

    group: so.Mapped[IndicatorGroup] = so.relationship(back_populates="indicators")
    choices: so.Mapped[list[IndicatorChoice]] = so.relationship(
        order_by="IndicatorChoice.position", cascade="all, delete-orphan"
    )
    disaggregations: so.Mapped[list[Disaggregation]] = so.relationship(
        secondary=indicator_disaggregations,
        order_by=indicator_disaggregations.c.position,
    )

    __table_args__ = (
        sa.UniqueConstraint("catalogue_version_id", "code"),
        sa.Index("ix_indicators_updated", "updated_at", "id"),
        sa.CheckConstraint(_in("value_type", VALUE_TYPES), name="value_type"),
        sa.CheckConstraint(_in("aggregation", AGGREGATIONS), name="aggregation"),
        sa.CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="min_max"
        ),
        sa.CheckConstraint(
            "value_type NOT IN ('text', 'choice', 'yes_no') OR aggregation IN ('none', 'sum')",
            name="aggregation_fits_type",
        ),
    )


class IndicatorCell:
    """Mixin of a row about one cell of an indicator: the indicator and the disaggregation
    key (``ethnic_group=03;sex=female``, parts sorted by disaggregation code; "" for the
    total), declared alike by the tables keyed by a cell (a received figure, a DHIS2 data
    element's mapping; a village value and a reviewer's comment declare the same)."""

    indicator_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("indicators.id"), index=True)
    disaggregation: so.Mapped[str] = so.mapped_column(sa.String(200), default="")

    @so.declared_attr
    def indicator(cls) -> so.Mapped[Indicator]:
        return so.relationship(Indicator)


#: The description fields (name → maximum length; None: long text), in the order shown.
DESCRIPTION_FIELDS = {"concept": None, "method": None, "main_breakdowns": 500,
                      "publication_period": 100, "data_source": 500, "responsible_agency": 300}


class IndicatorChoice(db.Model):
    """An allowed answer of a ``choice`` indicator."""

    __tablename__ = "indicator_choices"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    indicator_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(30))
    label: so.Mapped[str] = so.mapped_column(sa.String(200))
    position: so.Mapped[int] = so.mapped_column(default=0)

    __table_args__ = (sa.UniqueConstraint("indicator_id", "code"),)


class ValidationRule(db.Model):
    """A cross-field rule over indicator codes, e.g. ``poor_households <= households``.

    Parsed and evaluated by :mod:`dantoc.indicators.rules`, never by ``eval``.
    """

    __tablename__ = "validation_rules"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    catalogue_version_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("catalogue_versions.id"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(40))
    expression: so.Mapped[str] = so.mapped_column(sa.Text)
    message: so.Mapped[str] = so.mapped_column(sa.String(300))
    severity: so.Mapped[str] = so.mapped_column(sa.String(10), default="error")

    __table_args__ = (
        sa.UniqueConstraint("catalogue_version_id", "code"),
        sa.CheckConstraint(_in("severity", RULE_SEVERITIES), name="severity"),
    )


class Form(Pulled, db.Model):
    """A report form (biểu) or questionnaire (phiếu); its content lives in versions."""

    __tablename__ = "forms"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(30), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    name: so.Mapped[str] = so.mapped_column(sa.String(300))
    catalogue_version_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("catalogue_versions.id"), index=True
    )
    legal_basis: so.Mapped[str | None] = so.mapped_column(sa.String(300))

    catalogue_version: so.Mapped[CatalogueVersion] = so.relationship()
    versions: so.Mapped[list[FormVersion]] = so.relationship(
        back_populates="form", order_by="FormVersion.number"
    )

    __table_args__ = (sa.CheckConstraint(_in("kind", FORM_KINDS), name="kind"),)


class FormVersion(db.Model):
    """One version of a form: its sections and items, fill level and period type."""

    __tablename__ = "form_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    form_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("forms.id"), index=True)
    number: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=FormStatus.DRAFT)
    #: The level of the units that fill this form (village for a phiếu thôn).
    fill_level_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("admin_levels.id"))
    period_type: so.Mapped[str] = so.mapped_column(sa.String(10))
    published_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    form: so.Mapped[Form] = so.relationship(back_populates="versions")
    fill_level: so.Mapped[AdminLevel] = so.relationship()
    sections: so.Mapped[list[FormSection]] = so.relationship(
        order_by="FormSection.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("form_id", "number"),
        sa.CheckConstraint(_in("status", FORM_STATUSES), name="status"),
        sa.CheckConstraint(_in("period_type", PERIOD_TYPES), name="period_type"),
        sa.CheckConstraint(
            f"(status = '{FormStatus.DRAFT}') = (published_at IS NULL)",
            name="published_at_iff_published"
        ),
    )


class FormSection(db.Model):
    """An ordered section of a form version."""

    __tablename__ = "form_sections"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    form_version_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    title: so.Mapped[str] = so.mapped_column(sa.String(300))

    items: so.Mapped[list[FormItem]] = so.relationship(
        order_by="FormItem.position", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("form_version_id", "position"),)


class FormItem(db.Model):
    """An indicator placed in a section; each indicator appears once per form version."""

    __tablename__ = "form_items"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    section_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("form_sections.id", ondelete="CASCADE"), index=True
    )
    #: Copied from the section, for the one-indicator-per-version constraint.
    form_version_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="CASCADE"), index=True
    )
    indicator_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("indicators.id"), index=True)
    position: so.Mapped[int] = so.mapped_column(sa.SmallInteger)

    indicator: so.Mapped[Indicator] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("section_id", "position"),
        sa.UniqueConstraint("form_version_id", "indicator_id"),
    )


class Period(db.Model):
    """A reporting period (kỳ báo cáo) with the dates it is open for reporting."""

    __tablename__ = "periods"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    period_type: so.Mapped[str] = so.mapped_column(sa.String(10))
    #: "2026", "2026-Q3", "2026-H1", "2026-11" or a custom code.
    code: so.Mapped[str] = so.mapped_column(sa.String(30))
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    start_date: so.Mapped[date] = so.mapped_column(sa.Date)
    end_date: so.Mapped[date] = so.mapped_column(sa.Date)
    #: Custom periods: the date at which the figures are taken (số liệu tính đến ngày).
    cutoff_date: so.Mapped[date | None] = so.mapped_column(sa.Date)
    opens_on: so.Mapped[date] = so.mapped_column(sa.Date)
    closes_on: so.Mapped[date] = so.mapped_column(sa.Date)

    __table_args__ = (
        sa.UniqueConstraint("period_type", "code"),
        sa.CheckConstraint(_in("period_type", PERIOD_TYPES), name="period_type"),
        sa.CheckConstraint("end_date >= start_date", name="dates"),
        sa.CheckConstraint("closes_on >= opens_on", name="window"),
        sa.CheckConstraint(
            "(period_type = 'custom') = (cutoff_date IS NOT NULL)", name="cutoff_iff_custom"
        ),
    )

    def is_open(self, day: date) -> bool:
        return self.opens_on <= day <= self.closes_on


class DefinitionStamp(db.Model):
    """A counter raised in the same transaction as any change to what a form page is built
    from: indicators and their choices and disaggregations, rules, form versions and their
    sections and items, the ethnic-group and religion catalogs, content translations.

    Each server process keeps the form definitions it built (a published version's entry
    form is rebuilt by every GET, POST and check otherwise) and compares this one row with
    the stamp it built them under: one primary-key read instead of a dozen queries, and an
    edit in one process is seen by all the others at their next request. The stamp is a
    random token, not a counter, so that two databases (a restored backup, the tests' fresh
    ones) never share a stamp for different content. Changed by
    :mod:`dantoc.submissions.spec_cache`.
    """

    __tablename__ = "definition_stamps"

    name: so.Mapped[str] = so.mapped_column(sa.String(30), primary_key=True)
    stamp: so.Mapped[str] = so.mapped_column(sa.String(32))
