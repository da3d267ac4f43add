"""Generated data at scale for benchmarks: ``flask demo scale --villages 10000``.

Adds, on top of the demo (``flask seed-demo``), N sample villages spread over today's
communes, a monthly sample questionnaire with the demo catalogue's indicators, P monthly
periods ending with the current month, and for every village and period a submission:
about 92 % approved, the rest submitted, returned, draft or not started. Every commune
report of a period is approved with the approved village versions as its sources, and so is
the province's report, so the province report has figures and an official biểu; the report
cells and the communes' rollups of approved values are computed set-based at the end, as the
submits and approvals would have written them. Everything is marked as sample
(``is_sample``, "(mẫu)").

Rows are written with bulk ``INSERT … VALUES`` in chunks (``COPY`` on PostgreSQL), one
period at a time, with ids assigned here (then the PostgreSQL sequences are moved past them):
10,000 villages × 12 periods × 50 indicators is about 6 million values. Beyond the demo
catalogue's 15 indicators, ``--indicators`` adds sample counts ("Chỉ tiêu mẫu số 16 …", codes
``scale_016`` …) to the demo catalogue, spread over its groups. The generated decisions are
not audited one by one (they are data made for measuring, not decisions anyone took); one
audit event records the generation.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from .. import clock
from ..accounts.models import User
from ..audit import services as audit
from ..catalogs.models import AdminLevel, AdminUnit, UnitType, fold
from ..extensions import db
from ..indicators import services
from ..indicators.models import CatalogueVersion, Form, Indicator, IndicatorGroup, Period
from ..reports import aggregate
from ..reports.models import UnitReport, UnitReportSource
from ..submissions import rollups
from ..submissions.models import Submission, SubmissionValue, SubmissionVersion
from .catalogue import DEMO_CATALOGUE, INDICATORS
from .units import REFORM_DATE, SOURCE, current_communes

FORM_CODE = "LC-DEMO-SCALE"
FORM_NAME = "Phiếu theo dõi hằng tháng thôn, bản (mẫu, dữ liệu sinh tự động)"
#: Village codes are the commune's code, "-S" and a number: never a real village's code.
CODE_INFIX = "-S"
CHUNK = 5000
#: Shares of the villages' states per period (the rest is "not started").
SHARES = (("approved", 0.92), ("submitted", 0.03), ("returned", 0.01), ("draft", 0.02))
ETHNIC_CODES = ("01", "02", "04", "05", "10", "12")
#: The most indicators a generated form can have (the demo's 15, then sample counts).
MAX_INDICATORS = 200
EXTRA_PREFIX = "scale_"


class ScaleError(RuntimeError):
    """The scale data cannot be generated (demo missing, or generated already)."""


@dataclass
class Plan:
    villages: int
    periods: int
    indicators: int
    seed: int = 1
    #: A village head account per generated village (no password: benchmarks sign cookies).
    heads: bool = False
    #: No submissions, and every generated period open today (for the submit benchmark).
    empty: bool = False


def _month_codes(count: int, today: date) -> list[str]:
    year, month = today.year, today.month
    codes = []
    for _ in range(count):
        codes.append(f"{year}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(codes)


def _periods(count: int, open_today: bool) -> list[Period]:
    found, today = [], clock.today()
    for code in _month_codes(count, today):
        period = db.session.scalar(sa.select(Period).where(Period.period_type == "month",
                                                           Period.code == code))
        if period is None:
            year, month = map(int, code.split("-"))
            opens = date(year, month, 20)
            closes = today + timedelta(days=60) if open_today else opens + timedelta(days=25)
            period = services.create_period(period_type="month", code=code,
                                            opens_on=min(opens, today), closes_on=closes)
        found.append(period)
    db.session.flush()
    return found


def _indicator_codes(catalogue: CatalogueVersion, count: int) -> list[str]:
    """The codes of the form's ``count`` indicators: the demo's, then sample counts (created
    in the demo catalogue where missing, round robin over its groups)."""
    asked = [code for _group, code, _name, attrs in INDICATORS if not attrs.get("formula")]
    codes = asked[:count]  # a derived indicator is computed, never on a form
    groups = list(db.session.scalars(sa.select(IndicatorGroup).where(
        IndicatorGroup.catalogue_version_id == catalogue.id).order_by(IndicatorGroup.position)))
    for number in range(len(asked) + 1, count + 1):
        code = f"{EXTRA_PREFIX}{number:03d}"
        exists = db.session.scalar(sa.select(Indicator.id).where(
            Indicator.catalogue_version_id == catalogue.id, Indicator.code == code))
        if exists is None:
            services.create_indicator(
                group=groups[number % len(groups)], code=code,
                name=f"Chỉ tiêu mẫu số {number} (sinh tự động)", value_type="integer",
                unit_of_measure="hộ", min_value=0)
        codes.append(code)
    return codes


def _form(indicator_count: int) -> Form:
    form = db.session.scalar(sa.select(Form).where(Form.code == FORM_CODE))
    if form is not None:
        return form
    catalogue = db.session.scalar(sa.select(CatalogueVersion).where(
        CatalogueVersion.code == DEMO_CATALOGUE))
    village = db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == "village"))
    if catalogue is None or village is None:
        raise ScaleError("Run flask seed-reference and flask seed-demo first.")
    codes = _indicator_codes(catalogue, indicator_count)
    form = services.create_form(code=FORM_CODE, kind="phieu", name=FORM_NAME,
                                catalogue_version=catalogue, fill_level=village,
                                period_type="month", legal_basis=SOURCE)
    version = form.versions[0]
    section = services.add_section(version, "Chỉ tiêu theo dõi hằng tháng (mẫu)")
    for code in codes:
        services.add_item(section, db.session.scalar(sa.select(Indicator).where(
            Indicator.catalogue_version_id == catalogue.id, Indicator.code == code)))
    services.publish(version)
    db.session.flush()
    return form


def _next_id(model) -> int:
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def _copy_cell(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def _copy(model, rows: Iterable[dict]) -> int:
    """PostgreSQL: ``COPY … FROM STDIN`` (about 10× faster than multi-row INSERTs)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    names, written = list(first), 0
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {model.__tablename__} ({', '.join(names)}) FROM STDIN") as copy:
        for row in itertools.chain((first,), rows):
            copy.write_row([_copy_cell(row[name]) for name in names])
            written += 1
    return written


def _insert(model, rows: Iterable[dict]) -> int:
    """Insert ``rows`` in chunks; the number written."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _copy(model, rows)
    table, chunk, written = model.__table__, [], 0
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            db.session.execute(table.insert(), chunk)
            written, chunk = written + len(chunk), []
    if chunk:
        db.session.execute(table.insert(), chunk)
        written += len(chunk)
    return written


def _villages(count: int) -> list[tuple[int, int]]:
    """(village id, commune id) of ``count`` new sample villages, round robin."""
    communes = current_communes()
    thon = db.session.scalar(sa.select(UnitType).where(UnitType.code == "thon"))
    if not communes or thon is None:
        raise ScaleError("No current commune or no “thon” unit type: run flask seed-reference.")
    taken = db.session.scalar(sa.select(sa.func.count()).where(
        AdminUnit.code.like(f"%{CODE_INFIX}%"), AdminUnit.is_sample.is_(True)))
    if taken:
        raise ScaleError(f"{taken} generated villages exist already: use a fresh database.")
    first, rows, pairs = _next_id(AdminUnit), [], []
    for n in range(count):
        commune = communes[n % len(communes)]
        code, name = f"{commune.code}{CODE_INFIX}{n + 1:05d}", f"Thôn Mẫu {n + 1} (mẫu)"
        rows.append({"id": first + n, "code": code, "name": name, "valid_from": REFORM_DATE,
                     "valid_to": None, "unit_type_id": thon.id, "level_id": thon.level_id,
                     "parent_id": commune.id, "is_sample": True, "aliases": None,
                     "source": SOURCE, "search_key": fold(f"{code} {name}")})
        pairs.append((first + n, commune.id))
    _insert(AdminUnit, rows)
    return pairs


def _heads(villages: list[tuple[int, int]]) -> int:
    first, now = _next_id(User), clock.now()
    return _insert(User, ({"id": first + n, "username": f"scale-head-{unit_id}",
                           "full_name": f"Trưởng thôn {unit_id} (mẫu)", "password_hash": None,
                           "role_code": "village_head", "unit_id": unit_id,
                           "department_id": None, "active": True,
                           "session_nonce": uuid.uuid4().hex, "locale": None,
                           "outbox_key": None, "created_at": now}
                          for n, (unit_id, _commune) in enumerate(villages)))


def _state(rng: random.Random) -> str | None:
    draw, upto = rng.random(), 0.0
    for state, share in SHARES:
        upto += share
        if draw < upto:
            return state
    return None


def _value(rng: random.Random, indicator: Indicator, households: int) -> list[tuple]:
    """(disaggregation, numeric, text, bool) cells of one indicator for one village."""
    kind = indicator.value_type
    if indicator.code == "population":
        group = rng.choice(ETHNIC_CODES)
        people = households * 4
        return [(f"ethnic_group={group};sex=female", Decimal(people // 2), None, None),
                (f"ethnic_group={group};sex=male", Decimal(people - people // 2), None, None)]
    if kind == "yes_no":
        return [("", None, None, rng.random() < 0.7)]
    if kind == "choice":
        return [("", None, rng.choice(("in_village", "under_5km", "from_5_to_10km",
                                       "over_10km")), None)]
    if kind in ("decimal", "percent"):
        return [("", Decimal(rng.randint(5, 300)) / 10, None, None)]
    if kind == "text":
        return [("", None, "mẫu", None)]
    if indicator.code == "households":
        return [("", Decimal(households), None, None)]
    return [("", Decimal(rng.randint(0, households // 2)), None, None)]


@dataclass
class _Ids:
    submission: int
    version: int
    value: int
    report: int
    source: int


def _at(period: Period, hours: int) -> datetime:
    return datetime.combine(period.opens_on, time(8), clock.now().tzinfo) + timedelta(hours=hours)


def _submissions(rng: random.Random, form: Form, indicators: list[Indicator], period: Period,
                 villages: list[tuple[int, int]], head: int, ids: _Ids, approved: dict
                 ) -> tuple[list, list, list]:
    """Rows of one period's submissions, versions and values; the approved submissions are
    added to ``approved`` by (commune, period) for the reports."""
    version = form.versions[-1]
    subs, versions, values = [], [], []
    for unit_id, commune_id in villages:
        state = _state(rng)
        if state is None:
            continue
        sid, vid = ids.submission, ids.version
        ids.submission += 1
        ids.version += 1
        submitted = state != "draft"
        moment = _at(period, rng.randint(0, 24 * 20))
        subs.append({"id": sid, "client_uuid": uuid.UUID(int=rng.getrandbits(128)),
                     "form_id": form.id, "form_version_id": version.id, "unit_id": unit_id,
                     "period_id": period.id, "state": state,
                     "current_version": 1 if submitted else 0,
                     "state_reason": "Số liệu chưa khớp (mẫu)" if state == "returned"
                     else None, "created_by_id": head, "created_at": moment,
                     "updated_at": moment + timedelta(hours=rng.randint(1, 72))})
        versions.append({"id": vid, "submission_id": sid, "number": 1, "base_version": 0,
                         "content_hash": hashlib.sha256(str(sid).encode()).hexdigest()
                         if submitted else None, "payload": {}, "created_at": moment,
                         "updated_at": moment, "submitted_at": moment if submitted else None,
                         "submitted_by_id": head if submitted else None})
        if not submitted:
            continue
        households = rng.randint(30, 250)
        for indicator in indicators:
            for key, number, text, flag in _value(rng, indicator, households):
                values.append({"id": ids.value, "version_id": vid,
                               "indicator_id": indicator.id, "disaggregation": key,
                               "value_numeric": number, "value_text": text,
                               "value_bool": flag})
                ids.value += 1
        if state == "approved":
            approved.setdefault((commune_id, period.id), []).append(sid)
    return subs, versions, values


def _reports(form: Form, periods: list[Period], approved: dict, officer: int, ids: _Ids):
    reports, sources = [], []
    by_id = {p.id: p for p in periods}
    for (commune_id, period_id), submission_ids in approved.items():
        moment = _at(by_id[period_id], 24 * 26)
        reports.append({"id": ids.report, "form_id": form.id, "unit_id": commune_id,
                        "period_id": period_id, "state": "approved", "version": 2,
                        "state_reason": None, "missing_note": [], "submitted_by_id": officer,
                        "submitted_at": moment, "decided_by_id": officer,
                        "decided_at": moment + timedelta(hours=4), "created_at": moment,
                        "updated_at": moment + timedelta(hours=4)})
        for sid in submission_ids:
            sources.append({"id": ids.source, "report_id": ids.report, "submission_id": sid,
                            "version_number": 1})
            ids.source += 1
        ids.report += 1
    return reports, sources


def province_reports(form: Form, periods: list[Period], officer: int) -> int:
    """An approved province report per period (no sources of its own: its figures are its
    communes' approved reports), so its official biểu can be exported; the number added."""
    province_ids = {c.parent_id for c in current_communes()} - {None}
    first, rows = _next_id(UnitReport), []
    for period in periods:
        for unit_id in sorted(province_ids):
            if db.session.scalar(sa.select(UnitReport.id).where(
                    UnitReport.form_id == form.id, UnitReport.unit_id == unit_id,
                    UnitReport.period_id == period.id)) is not None:
                continue
            moment = _at(period, 24 * 28)
            rows.append({"id": first + len(rows), "form_id": form.id, "unit_id": unit_id,
                         "period_id": period.id, "state": "approved", "version": 2,
                         "state_reason": None, "missing_note": [], "submitted_by_id": officer,
                         "submitted_at": moment, "decided_by_id": officer,
                         "decided_at": moment + timedelta(hours=4), "created_at": moment,
                         "updated_at": moment + timedelta(hours=4)})
    written = _insert(UnitReport, rows)
    _move_sequences((UnitReport,))
    return written


def _move_sequences(models) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {table}))"))


def generate(plan: Plan) -> dict[str, int]:
    """Write the generated data (not committed); the number of rows per table."""
    if not 1 <= plan.indicators <= MAX_INDICATORS:
        raise ScaleError(f"--indicators must be between 1 and {MAX_INDICATORS}.")
    form = _form(plan.indicators)
    periods = _periods(plan.periods, plan.empty)
    head = db.session.scalar(sa.select(User.id).where(User.role_code == "village_head")
                             .order_by(User.id).limit(1))
    officer = db.session.scalar(sa.select(User.id).where(User.role_code == "province_officer")
                                .order_by(User.id).limit(1))
    if head is None or officer is None:
        raise ScaleError("Run flask seed-demo first (the demo accounts sign the data).")
    villages = _villages(plan.villages)
    counts = {"villages": len(villages), "periods": len(periods),
              "village_heads": _heads(villages) if plan.heads else 0}
    if plan.empty:
        _move_sequences((AdminUnit, User))
        audit.record("demo.scale", form, after={**counts, "seed": plan.seed})
        return counts
    ids = _Ids(_next_id(Submission), _next_id(SubmissionVersion), _next_id(SubmissionValue),
               _next_id(UnitReport), _next_id(UnitReportSource))
    rng = random.Random(plan.seed)  # noqa: S311 (sample data, reproducible by seed)
    indicators = [item.indicator for section in form.versions[-1].sections
                  for item in section.items]
    approved: dict = {}
    counts.update(submissions=0, submission_versions=0, submission_values=0)
    for period in periods:  # one period at a time: 6 million value rows do not fit in memory
        subs, versions, values = _submissions(rng, form, indicators, period, villages, head,
                                              ids, approved)
        counts["submissions"] += _insert(Submission, subs)
        counts["submission_versions"] += _insert(SubmissionVersion, versions)
        counts["submission_values"] += _insert(SubmissionValue, values)
        del subs, versions, values
    reports, sources = _reports(form, periods, approved, officer, ids)
    counts.update({"unit_reports": _insert(UnitReport, reports),
                   "unit_report_sources": _insert(UnitReportSource, sources)})
    counts["unit_reports"] += province_reports(form, periods, officer)
    aggregate.store_cells_where(UnitReportSource.report_id.in_(  # as a submit stores them
        sa.select(UnitReport.id).where(UnitReport.form_id == form.id)))
    # what the approvals would have added to the communes' rollups, set-based
    counts["commune_rollups"] = rollups.rebuild([p.id for p in periods])
    _move_sequences((AdminUnit, User, Submission, SubmissionVersion, SubmissionValue, UnitReport,
                     UnitReportSource))
    audit.record("demo.scale", form, after={**counts, "seed": plan.seed})
    return counts
