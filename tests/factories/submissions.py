"""Factories for the data-entry tests: a village, a small questionnaire, periods.

Built from the models directly (not from the demo seed), so each test states the form it
needs: ``make_questionnaire()`` gives households, population by ethnic group × sex, poor
households, a distance, a yes/no, a choice and a text, with one error rule and one warning.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dantoc.catalogs.models import AdminLevel, AdminUnit, EthnicGroup
from dantoc.clock import today
from dantoc.extensions import db
from dantoc.indicators.models import (
    CatalogueVersion,
    Disaggregation,
    DisaggregationOption,
    Form,
    FormItem,
    FormSection,
    FormVersion,
    Indicator,
    IndicatorChoice,
    IndicatorGroup,
    Period,
    ValidationRule,
)
from tests.factories.places import REFORM, get_or_add, make_village
from tests.factories.users import make_user

_seq = itertools.count(1)

#: code, name, attributes
INDICATORS = (
    ("households", "Tổng số hộ", {"value_type": "integer", "unit_of_measure": "hộ",
                                   "required": True}),
    ("population", "Số nhân khẩu", {"value_type": "integer", "unit_of_measure": "người",
                                     "required": True, "dims": ("ethnic_group", "sex")}),
    ("poor_households", "Số hộ nghèo", {"value_type": "integer", "required": True}),
    ("distance_km", "Khoảng cách đến xã", {"value_type": "decimal", "unit_of_measure": "km",
                                           "min_value": Decimal(0),
                                           "max_value": Decimal(200)}),
    ("road_hardened", "Đường đã cứng hóa", {"value_type": "yes_no"}),
    ("health_access", "Tiếp cận y tế", {"value_type": "choice", "aggregation": "none",
                                         "choices": (("a", "Trong thôn"), ("b", "Dưới 5 km"),
                                                     ("c", "Từ 5 km"))}),
    ("note", "Ghi chú", {"value_type": "text", "aggregation": "none",
                         "help_text": "Điều cần báo thêm"}),
)
RULES = (
    ("poor_le_households", "poor_households <= households",
     "Số hộ nghèo không được lớn hơn tổng số hộ.", "error"),
    ("households_le_population", "households <= population",
     "Số hộ thường không lớn hơn số nhân khẩu.", "warning"),
)


def make_village_head(village: AdminUnit, locale: str | None = "en", **kwargs):
    """A village head scoped to ``village``, committed; English pages unless told otherwise
    (the assertions read the English msgids)."""
    db.session.commit()
    return make_user("village_head", unit_code=village.code, locale=locale, **kwargs)


def _disaggregations() -> dict[str, Disaggregation]:
    sex = db.session.scalar(sa.select(Disaggregation).where(Disaggregation.code == "sex"))
    if sex is None:
        sex = Disaggregation(code="sex", name="Giới tính", source="options", options=[
            DisaggregationOption(code="male", label="Nam", position=1),
            DisaggregationOption(code="female", label="Nữ", position=2)])
        db.session.add(sex)
    ethnic = get_or_add(Disaggregation, {"code": "ethnic_group"}, name="Dân tộc",
                         source="ethnic_groups")
    for code, name in (("01", "Kinh"), ("03", "Thái"), ("08", "HMông"), ("09", "Dao")):
        get_or_add(EthnicGroup, {"code": code}, code_2008=code, name=name)
    return {"sex": sex, "ethnic_group": ethnic}


def _indicator(catalogue: CatalogueVersion, group: IndicatorGroup, code: str, name: str,
               attrs: dict, dims: dict) -> Indicator:
    attrs = dict(attrs)
    choices = attrs.pop("choices", ())
    wanted = attrs.pop("dims", ())
    indicator = Indicator(catalogue_version_id=catalogue.id, group=group, code=code, name=name,
                          aggregation=attrs.pop("aggregation", "sum"), **attrs)
    indicator.choices = [IndicatorChoice(code=c, label=label, position=i)
                         for i, (c, label) in enumerate(choices)]
    indicator.disaggregations = [dims[d] for d in wanted]
    db.session.add(indicator)
    return indicator


def make_questionnaire(*, period_type: str = "year", indicators=INDICATORS, rules=RULES,
                       sections: int = 2) -> FormVersion:
    """A published village questionnaire (phiếu) in its own catalogue version."""
    n = next(_seq)
    catalogue = CatalogueVersion(code=f"TST-{n}", name=f"Thử {n}", valid_from=REFORM)
    db.session.add(catalogue)
    db.session.flush()
    group = IndicatorGroup(catalogue_version_id=catalogue.id, code="G1", name="Nhóm thử")
    dims = _disaggregations()
    made = [_indicator(catalogue, group, code, name, attrs, dims)
            for code, name, attrs in indicators]
    for code, expression, message, severity in rules:
        db.session.add(ValidationRule(catalogue_version_id=catalogue.id, code=code,
                                      expression=expression, message=message,
                                      severity=severity))
    form = Form(code=f"TST-PT-{n}", kind="phieu", name=f"Phiếu thử {n}",
                catalogue_version_id=catalogue.id)
    village = db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == "village"))
    version = FormVersion(form=form, number=1, status="published", fill_level=village,
                          period_type=period_type, published_at=datetime.now(UTC))
    db.session.add(version)
    db.session.flush()
    _place(version, made, sections)
    db.session.commit()
    return version


def _place(version: FormVersion, indicators: list[Indicator], sections: int) -> None:
    size = -(-len(indicators) // sections)
    for s in range(sections):
        section = FormSection(form_version_id=version.id, position=s + 1,
                              title=f"Phần {s + 1}")
        db.session.add(section)
        db.session.flush()
        for i, indicator in enumerate(indicators[s * size:(s + 1) * size]):
            db.session.add(FormItem(section_id=section.id, form_version_id=version.id,
                                    indicator_id=indicator.id, position=i + 1))
    db.session.flush()


def make_period(code: str = "2026", *, period_type: str = "year", open_now: bool = True,
                start: date | None = None, end: date | None = None) -> Period:
    """A reporting period, open today (or closed since yesterday)."""
    day = today()
    opens, closes = ((day - timedelta(days=5), day + timedelta(days=30)) if open_now
                     else (day - timedelta(days=60), day - timedelta(days=1)))
    if start is None:
        year = int(code[:4])
        start, end = date(year, 1, 1), date(year, 12, 31)
    period = Period(period_type=period_type, code=code, name=f"Kỳ {code}", start_date=start,
                    end_date=end, opens_on=opens, closes_on=closes)
    db.session.add(period)
    db.session.commit()
    return period


def entry_url(unit: AdminUnit, version: FormVersion, period: Period, suffix: str = "") -> str:
    return f"/entry/{unit.id}/{version.form.code}/{period.code}{suffix}"


def typical_answers(version: FormVersion, **overrides) -> dict[str, str]:
    """A complete, valid filling of :func:`make_questionnaire`'s form (field name → text)."""
    ids = {i.indicator.code: i.indicator_id for s in version.sections for i in s.items}
    pop = ids["population"]
    answers = {
        f"v{ids['households']}": "42", f"v{pop}_03_0": "80", f"v{pop}_03_1": "78",
        f"v{pop}_08_0": "20", f"v{pop}_08_1": "19", f"v{ids['poor_households']}": "9",
        f"v{ids['distance_km']}": "12,5", f"v{ids['road_hardened']}": "1",
        f"v{ids['health_access']}": "b", f"v{ids['note']}": "",
    }
    for code, value in overrides.items():
        answers[f"v{ids[code]}" if code in ids else code] = value
    return answers


def field_name(version: FormVersion, code: str) -> str:
    return next(f"v{i.indicator_id}" for s in version.sections for i in s.items
                if i.indicator.code == code)


def post(client, url: str, answers: dict, *, key: str, action: str = "submit", base: int = 0,
         headers: dict | None = None):
    """POST the entry form as a browser would (urlencoded), without following redirects."""
    data = {"uuid": key, "base_version": str(base), "action": action, **answers}
    return client.post(url, data=data, headers=headers or {})


def counts() -> dict[str, int]:
    """Rows in the submission tables (to prove a request created nothing)."""
    from dantoc.audit.models import AuditEvent
    from dantoc.submissions.models import Submission, SubmissionValue, SubmissionVersion

    tables = {"submissions": Submission, "versions": SubmissionVersion,
              "values": SubmissionValue}
    result = {name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
              for name, model in tables.items()}
    result["audit"] = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                        .where(AuditEvent.action.like("submission.%")))
    return result


class Setup:
    """A signed-in village head with a questionnaire open for their village."""

    def __init__(self, login, **form_kwargs):
        self.village = make_village()
        self.version = make_questionnaire(**form_kwargs)
        self.period = make_period(period_type=self.version.period_type,
                                  code="2026-Q4" if self.version.period_type == "quarter"
                                  else "2026")
        self.user = make_village_head(self.village)
        self.client = login(self.user)
        self.url = entry_url(self.village, self.version, self.period)

    def answers(self, **overrides) -> dict[str, str]:
        return typical_answers(self.version, **overrides)

    def name(self, code: str) -> str:
        return field_name(self.version, code)


@pytest.fixture(name="entry")
def entry_fixture(app, login) -> Setup:
    """A village head signed in, a questionnaire and an open period (see :class:`Setup`)."""
    return Setup(login)


# --- Review (issue #5): reports in a given state. ---

def submit_report(entry, **overrides):
    """The entry village's report, submitted as version 1 (fresh from the database)."""
    import uuid

    post(entry.client, entry.url, entry.answers(**overrides), key=str(uuid.uuid4()))
    return reload_report(entry)


def reload_report(entry):
    from dantoc.submissions.models import Submission

    return db.session.scalar(sa.select(Submission).where(
        Submission.unit_id == entry.village.id, Submission.period_id == entry.period.id)
        .execution_options(populate_existing=True))


def review_actions() -> list[str]:
    """The review transitions in the audit trail, oldest first."""
    from dantoc.audit.models import AuditEvent

    return list(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.in_(("submission.approve", "submission.return",
                               "submission.unapprove"))).order_by(AuditEvent.id)))


def indicator_id(version: FormVersion, code: str) -> int:
    return next(i.indicator_id for s in version.sections for i in s.items
                if i.indicator.code == code)
