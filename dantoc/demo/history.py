"""Past periods of sample figures, so that a new user sees outputs at once (issue #11 item 8).

``flask seed-demo`` adds, after the accounts: the quarters 2024-Q1 … 2026-Q3 and the year 2024
(closed), two sample villages under every commune of before the reform (codes
``<old commune>-A01``, ``-A02``, valid until 30/06/2025, "(mẫu)"), and for every period an
approved submission of every village valid on the period's reference day, with approved
commune reports (and, before the reform, approved district reports) above them:

- 2024 and the quarters up to 2025-Q2 on the old units (districts, 106 communes, their
  villages), reported then;
- the year 2025 and the quarters from 2025-Q3 on today's 38 communes and their villages.

The figures are invented but coherent across the reform: each of today's communes has a number
of households that its old communes shared before 2025-07-01 and its villages share after, the
households grow a little and the poor-household rate falls, so a re-based series (lookup with
"Quy đổi theo đơn vị hiện nay", the dashboard's trend) reads as one line across 2024 → 2026.
The open periods (2026, 2026-Q4) are left for entry.

Written like :mod:`.scale` (bulk ``INSERT`` of a few thousand rows, ids assigned here, the
communes' rollups of approved values rebuilt set-based for these periods, one audit event for
the whole), so the demo loads in a few seconds. Running it again changes
nothing.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from ..accounts.models import User
from ..audit import services as audit
from ..catalogs.models import UNKNOWN_START, AdminLevel, AdminUnit, UnitLineage, UnitType, fold
from ..extensions import db
from ..indicators import services
from ..indicators.models import Form, Indicator, Period
from ..reports import aggregate
from ..reports.models import UnitReport, UnitReportSource
from ..submissions import rollups
from ..submissions.models import Submission, SubmissionValue, SubmissionVersion
from .accounts import ACCOUNTS
from .questionnaires import QUESTIONNAIRES
from .scale import ETHNIC_CODES, _at, _insert, _move_sequences, _next_id, _value
from .units import REFORM_DATE, SOURCE, current_communes, village_name

#: Old villages: the old commune's code, this infix and a number (never a real code).
OLD_INFIX = "-A"
OLD_VILLAGES = 2
#: (type, code) of the past periods added here; 2025 exists already (seed_periods).
QUARTERS = tuple(f"{year}-Q{q}" for year in (2024, 2025, 2026) for q in (1, 2, 3, 4))[:-1]
YEARS = ("2024", "2025")
#: Share of a new commune's households in each of its three sample villages.
NEW_SHARES = (Decimal("0.40"), Decimal("0.35"), Decimal("0.25"))
SEED = 2024


@dataclass
class _Village:
    id: int
    commune_id: int
    households: Decimal  # at the start of 2024
    poverty: float  # its commune's factor on the province's poor-household rate


def _window(period_type: str, code: str) -> tuple[date, date]:
    """When a past period was open for reporting (both dates in the past)."""
    year = int(code[:4])
    if period_type == "year":
        return date(year, 11, 1), date(year + 1, 1, 31)
    quarter = int(code[-1])
    last_month = 3 * quarter
    opens = date(year, last_month - 1, 15)
    closes = date(year + 1, 1, 15) if quarter == 4 else date(year, last_month + 1, 15)
    return opens, closes


def _periods() -> list[Period]:
    found = []
    for period_type, code in (*(("year", c) for c in YEARS),
                              *(("quarter", c) for c in QUARTERS)):
        period = db.session.scalar(sa.select(Period).where(Period.period_type == period_type,
                                                           Period.code == code))
        if period is None:
            opens, closes = _window(period_type, code)
            period = services.create_period(period_type=period_type, code=code,
                                            opens_on=opens, closes_on=closes)
        found.append(period)
    db.session.flush()
    return found


def _old_communes() -> list[AdminUnit]:
    return list(db.session.scalars(sa.select(AdminUnit).join(AdminLevel).where(
        AdminLevel.code == "commune", AdminUnit.valid_to == REFORM_DATE - timedelta(days=1),
        AdminUnit.is_sample.is_(False)).order_by(AdminUnit.code)))


def _successor(old_ids: list[int]) -> dict[int, int]:
    """Old commune id → the new commune it merged into (the reference data's links)."""
    rows = db.session.execute(sa.select(UnitLineage.from_unit_id, UnitLineage.to_unit_id)
                              .where(UnitLineage.from_unit_id.in_(old_ids)))
    return dict(rows.tuples().all())


def _old_villages(rng: random.Random, olds: list[AdminUnit], successor: dict[int, int],
                  households: dict[int, Decimal], poverty: dict[int, float]) -> list[_Village]:
    """Two sample villages under every old commune, sharing its new commune's households."""
    ban = db.session.scalar(sa.select(UnitType).where(UnitType.code == "ban"))
    weights = {o.id: Decimal(rng.randint(2, 5)) for o in olds}
    per_new: dict[int, Decimal] = {}
    for old in olds:
        per_new[successor[old.id]] = per_new.get(successor[old.id], Decimal(0)) + weights[old.id]
    first, rows, villages = _next_id(AdminUnit), [], []
    for index, old in enumerate(olds):
        new_id = successor[old.id]
        mine = households[new_id] * weights[old.id] / per_new[new_id]
        for number, share in ((1, Decimal("0.55")), (2, Decimal("0.45"))):
            code = f"{old.code}{OLD_INFIX}{number:02d}"
            name = village_name(ban.name, 50 + index, number)
            unit_id = first + len(rows)
            rows.append({"id": unit_id, "code": code, "name": name, "valid_from": UNKNOWN_START,
                         "valid_to": old.valid_to, "unit_type_id": ban.id,
                         "level_id": ban.level_id, "parent_id": old.id, "is_sample": True,
                         "aliases": None, "source": SOURCE,
                         "search_key": fold(f"{code} {name}")})
            villages.append(_Village(unit_id, old.id, (mine * share).quantize(Decimal(1)),
                                     poverty[new_id] * rng.uniform(0.95, 1.05)))
    _insert(AdminUnit, rows)
    return villages


def _new_villages(rng: random.Random, communes: list[AdminUnit],
                  households: dict[int, Decimal], poverty: dict[int, float]) -> list[_Village]:
    """The demo's villages of today's communes (``seed_villages``), sharing its households."""
    children = db.session.execute(sa.select(AdminUnit.id, AdminUnit.parent_id).where(
        AdminUnit.parent_id.in_([c.id for c in communes]), AdminUnit.is_sample.is_(True),
        AdminUnit.code.like("%-B__")).order_by(AdminUnit.code)).tuples().all()
    found, position = [], {}
    for unit_id, commune_id in children:
        n = position[commune_id] = position.get(commune_id, -1) + 1
        share = NEW_SHARES[n % len(NEW_SHARES)]
        found.append(_Village(unit_id, commune_id,
                              (households[commune_id] * share).quantize(Decimal(1)),
                              poverty[commune_id] * rng.uniform(0.95, 1.05)))
    return found


def _step(period: Period) -> int:
    """Quarters since 2024-Q1 at the period's end: the households grow, poverty falls."""
    return (period.end_date.year - 2024) * 4 + (period.end_date.month - 1) // 3


def _figures(rng: random.Random, indicators: list[Indicator], village: _Village,
             period: Period) -> list[tuple[int, str, Decimal | None, str | None, bool | None]]:
    step = _step(period)
    households = (village.households * (1 + Decimal(step) / 200)).quantize(Decimal(1))
    rate = max(0.05, (0.30 - 0.012 * step) * village.poverty)
    cells = []
    for indicator in indicators:
        if indicator.code == "households":
            cells.append((indicator.id, "", households, None, None))
        elif indicator.code == "poor_households":
            cells.append((indicator.id, "", Decimal(round(float(households) * rate)), None, None))
        elif indicator.code == "near_poor_households":
            near = round(float(households) * rate * 0.45)
            cells.append((indicator.id, "", Decimal(near), None, None))
        elif indicator.code == "population":
            people = int(households) * 4 + rng.randint(0, 40)
            group = ETHNIC_CODES[village.id % len(ETHNIC_CODES)]
            cells += [(indicator.id, f"ethnic_group={group};sex=female", Decimal(people // 2),
                       None, None),
                      (indicator.id, f"ethnic_group={group};sex=male",
                       Decimal(people - people // 2), None, None)]
        elif indicator.code == "security_incidents":
            incidents = round(float(households) * rng.uniform(0, 0.004))  # by size: smooth
            cells.append((indicator.id, "", Decimal(incidents), None, None))
        elif indicator.code == "religious_followers":
            cells.append((indicator.id, "", Decimal(rng.randint(0, int(households))), None,
                          None))
        else:
            cells += [(indicator.id, *cell) for cell in _value(rng, indicator, int(households))]
    return cells


@dataclass
class _Writer:
    """Rows of submissions, versions, values, reports and sources, with ids assigned."""

    rng: random.Random
    head: int
    officer: int
    parents: dict[int, int | None]

    def __post_init__(self) -> None:
        self.ids = {m: _next_id(m) for m in (Submission, SubmissionVersion, SubmissionValue,
                                             UnitReport, UnitReportSource)}
        self.rows: dict[type, list[dict]] = {m: [] for m in self.ids}

    def _id(self, model) -> int:
        self.ids[model] += 1
        return self.ids[model] - 1

    def period(self, form: Form, period: Period, villages: list[_Village]) -> None:
        version = form.versions[-1]
        indicators = [item.indicator for s in version.sections for item in s.items]
        approved: dict[int, list[int]] = {}
        for village in villages:
            sid, vid = self._id(Submission), self._id(SubmissionVersion)
            moment = _at(period, self.rng.randint(0, 24 * 20))
            self.rows[Submission].append({
                "id": sid, "client_uuid": uuid.UUID(int=self.rng.getrandbits(128)),
                "form_id": form.id, "form_version_id": version.id, "unit_id": village.id,
                "period_id": period.id, "state": "approved", "current_version": 1,
                "state_reason": None, "created_by_id": self.head, "created_at": moment,
                "updated_at": moment + timedelta(hours=self.rng.randint(4, 72))})
            self.rows[SubmissionVersion].append({
                "id": vid, "submission_id": sid, "number": 1, "base_version": 0,
                "content_hash": hashlib.sha256(f"history-{sid}".encode()).hexdigest(),
                "payload": {}, "created_at": moment, "updated_at": moment,
                "submitted_at": moment, "submitted_by_id": self.head})
            for indicator_id, key, number, text, flag in _figures(self.rng, indicators,
                                                                  village, period):
                self.rows[SubmissionValue].append({
                    "id": self._id(SubmissionValue), "version_id": vid,
                    "indicator_id": indicator_id, "disaggregation": key,
                    "value_numeric": number, "value_text": text, "value_bool": flag})
            approved.setdefault(village.commune_id, []).append(sid)
        districts = {self.parents[c] for c in approved if self.parents.get(c) is not None}
        for unit_id in sorted(approved) + sorted(d for d in districts if d in self.parents):
            self._report(form, period, unit_id, approved.get(unit_id, []))

    def _report(self, form: Form, period: Period, unit_id: int, sources: list[int]) -> None:
        report_id, moment = self._id(UnitReport), _at(period, 24 * 26)
        self.rows[UnitReport].append({
            "id": report_id, "form_id": form.id, "unit_id": unit_id, "period_id": period.id,
            "state": "approved", "version": 2, "state_reason": None, "missing_note": [],
            "submitted_by_id": self.officer, "submitted_at": moment,
            "decided_by_id": self.officer, "decided_at": moment + timedelta(hours=4),
            "created_at": moment, "updated_at": moment + timedelta(hours=4)})
        for sid in sources:
            self.rows[UnitReportSource].append({"id": self._id(UnitReportSource),
                                                "report_id": report_id, "submission_id": sid,
                                                "version_number": 1})


def _user(role: str) -> int | None:
    return db.session.scalar(sa.select(User.id).where(User.username == ACCOUNTS[role][0]))


def seed_history() -> dict[str, int]:
    """Write the past periods' sample figures (flushed, not committed); rows per table, or
    an empty dict when they exist already or the demo is not loaded."""
    olds, communes = _old_communes(), current_communes()
    head, officer = _user("village_head"), _user("province_officer")
    forms = {f.code: f for f in db.session.scalars(sa.select(Form).where(
        Form.code.in_([code for code, *_rest in QUESTIONNAIRES])))}
    if not olds or not communes or head is None or officer is None or len(forms) < 2:
        return {}
    if db.session.scalar(sa.select(AdminUnit.id).where(
            AdminUnit.code == f"{olds[0].code}{OLD_INFIX}01")) is not None:
        return {}
    rng = random.Random(SEED)  # noqa: S311 (sample data, reproducible)
    successor = _successor([o.id for o in olds])
    olds = [o for o in olds if o.id in successor]
    households = {c.id: Decimal(rng.randint(900, 2400)) for c in communes}
    poverty = {c.id: rng.uniform(0.6, 1.4) for c in communes}  # a commune's own poverty level
    old_villages = _old_villages(rng, olds, successor, households, poverty)
    new_villages = _new_villages(rng, communes, households, poverty)
    parents = {o.id: o.parent_id for o in olds}
    # The old districts (parents of the old communes) report too; they have no parent entry.
    parents.update({d: None for d in set(parents.values()) if d is not None})
    writer = _Writer(rng, head, officer, parents)
    periods = _periods()
    for period in periods:
        before = period.end_date < REFORM_DATE
        form = forms["LC-DEMO-PT-NAM" if period.period_type == "year" else "LC-DEMO-PT-QUY"]
        writer.period(form, period, old_villages if before else new_villages)
    counts = {"villages": len(old_villages)}
    for model in (Submission, SubmissionVersion, SubmissionValue, UnitReport,
                  UnitReportSource):
        counts[model.__tablename__] = _insert(model, writer.rows[model])
    _move_sequences((AdminUnit, Submission, SubmissionVersion, SubmissionValue, UnitReport,
                     UnitReportSource))
    # what the approvals would have added to the communes' rollups, set-based
    counts["commune_rollups"] = rollups.rebuild([p.id for p in periods])
    # the aggregated cells a report's submission stores, for every past report at once
    aggregate.store_cells_where(UnitReportSource.report_id.in_(
        sa.select(UnitReport.id).where(UnitReport.period_id.in_([p.id for p in periods]))))
    audit.record("demo.history", forms["LC-DEMO-PT-QUY"], after=counts)
    counts["published"] = _publish_latest_quarter(db.session.get(User, officer))
    return counts


def _publish_latest_quarter(officer: User) -> int:
    """Publish (công bố) the approved commune reports of the newest past quarter, through
    the publication workflow (audited), so that citizens see figures on the home page and
    the statistics pages of the demo."""
    from ..reports import states as report_states
    from ..statistics import services as publication

    reports = db.session.scalars(
        sa.select(UnitReport).join(Period, Period.id == UnitReport.period_id)
        .join(AdminUnit, AdminUnit.id == UnitReport.unit_id)
        .join(AdminLevel, AdminLevel.id == AdminUnit.level_id)
        .where(Period.period_type == "quarter", Period.code == QUARTERS[-1],
               AdminLevel.code == "commune", UnitReport.state == report_states.APPROVED)
        .order_by(UnitReport.id)).all()
    for report in reports:
        publication.publish(report, officer, 0)
    return len(reports)
