"""Data lookup (issue #11 item 2): figures computed by the database from approved village
values, broken down, swapped, totalled, shared by URL and exported exactly as shown."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from dantoc.extensions import db
from dantoc.lookup import query
from dantoc.submissions import services
from dantoc.submissions.models import Submission
from tests.factories import (
    make_officer,
    make_user,
    make_village,
    make_village_head,
    post,
    signed_in,
    typical_answers,
)


def report(app, entry, village, **answers):
    """The village's yearly report, submitted by its head; returns the submission."""
    head = make_village_head(village)
    client = signed_in(app.test_client(), head)
    post(client, f"/entry/{village.id}/{entry.version.form.code}/{entry.period.code}",
         typical_answers(entry.version, **answers), key=str(uuid.uuid4()))
    return db.session.scalar(sa.select(Submission).where(Submission.unit_id == village.id))


def approve(submission, officer) -> None:
    services.transition(submission, "approve", officer)
    db.session.commit()


@pytest.fixture
def data(app, entry):
    """Three villages of 03388 (two approved, one only submitted) and one of 03391."""
    officer = make_user("commune_officer", unit_code="03388")
    other = make_user("commune_officer", unit_code="03391")
    a = report(app, entry, entry.village, households="40")
    b = report(app, entry, make_village(), households="30")
    c = report(app, entry, make_village(), households="1000")  # not approved
    d = report(app, entry, make_village(commune_code="03391"), households="25")
    approve(a, officer)
    approve(b, officer)
    approve(d, other)
    ids = {i.indicator.code: i.indicator_id for s in entry.version.sections for i in s.items}
    return {"ids": ids, "pending": c, "officer": officer}


@pytest.fixture
def province(app, login):
    user = make_user("province_officer")
    user.locale = "en"
    db.session.commit()
    return login(user)


def url(data, entry, *codes, **extra) -> str:
    args = [f"indicator={data['ids'][c]}" for c in codes]
    args += [f"period_from={entry.period.id}", f"period_to={entry.period.id}"]
    args += [f"{k}={v}" for k, v in extra.items()]
    return "/lookup/?" + "&".join(args)


def lookup_table(entry, data, *codes, by=(), swap=False, scope=None):
    from dantoc.indicators.models import Indicator

    indicators = tuple(db.session.get(Indicator, data["ids"][c]) for c in codes)
    return query.run(query.Request(indicators, (entry.period,), scope, tuple(by), swap))


def test_the_province_sees_approved_figures_by_commune_with_totals(app, entry, data, province):
    table = lookup_table(entry, data, "households")
    values = {r.label.split(" · ")[0]: table.cell(r, table.columns[0]) for r in table.rows}
    assert sorted(values.values()) == [Decimal(25), Decimal(70)]  # 40 + 30; 1000 is pending
    assert table.totals[table.columns[0].key] == Decimal(95)
    html = province.get(url(data, entry, "households")).get_data(as_text=True)
    commune = entry.village.parent.name
    assert commune in html and ">70<" in html and ">95<" in html and "1.000" not in html


def test_an_approval_shows_in_the_next_lookup(app, entry, data, province):
    before = province.get(url(data, entry, "households")).get_data(as_text=True)
    assert ">95<" in before
    approve(data["pending"], data["officer"])
    after = province.get(url(data, entry, "households")).get_data(as_text=True)
    assert "1,095" in after or "1.095" in after


def test_breakdowns_are_labelled_and_collapse_the_dimensions_not_asked(entry, data):
    both = lookup_table(entry, data, "population", by=("ethnic_group", "sex"))
    labels = [c.label for c in both.columns]
    assert "Số nhân khẩu – Thái – Nam" in labels and all("=" not in x for x in labels)
    groups = lookup_table(entry, data, "population", by=("ethnic_group",))
    thai = next(c for c in groups.columns if c.label == "Số nhân khẩu – Thái")
    males = next(c for c in both.columns if c.label == "Số nhân khẩu – Thái – Nam")
    females = next(c for c in both.columns if c.label == "Số nhân khẩu – Thái – Nữ")
    assert groups.totals[thai.key] == both.totals[males.key] + both.totals[females.key]
    whole = lookup_table(entry, data, "population")
    assert [c.label for c in whole.columns] == ["Số nhân khẩu"]
    assert whole.totals[whole.columns[0].key] == sum(
        v for k, v in both.totals.items())


def test_a_commune_table_has_a_row_per_village_and_swaps(app, entry, data):
    from dantoc.catalogs.models import AdminUnit

    commune = db.session.get(AdminUnit, entry.village.parent_id)
    table = lookup_table(entry, data, "households", "poor_households", scope=commune)
    assert len(table.rows) == 2 and len(table.columns) == 2
    swapped = lookup_table(entry, data, "households", "poor_households", scope=commune,
                           swap=True)
    assert [r.label for r in swapped.rows] == [c.label for c in table.columns]
    assert swapped.totals[swapped.rows[0].key] == Decimal(70)


def test_exports_hold_exactly_the_table(app, entry, data, province):
    link = url(data, entry, "households", "poor_households")
    xlsx = province.get(link + "&format=xlsx")
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["Content-Type"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert rows[0][1].startswith("Tổng số hộ") and rows[-1][0] == "Total"
    assert rows[-1][1] == 95
    text = province.get(link + "&format=csv").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[-1][:2] == ["Total", "95"] and len(lines) == len(rows)


def test_search_forgives_missing_diacritics(app, entry, data, province):
    html = province.get("/lookup/?q=ho+ngheo").get_data(as_text=True)
    assert "Số hộ nghèo" in html and "Tổng số hộ" not in html


@pytest.mark.parametrize("problem", ["backwards", "none", "too_large"])
def test_bad_choices_get_a_clear_4xx(app, entry, data, province, monkeypatch, problem):
    from tests.factories import make_period

    if problem == "backwards":
        earlier = make_period("2025", period_type=entry.version.period_type)
        link = (f"/lookup/?indicator={data['ids']['households']}&period_from={entry.period.id}"
                f"&period_to={earlier.id}")
        words = "before the first"
    elif problem == "none":
        link = f"/lookup/?indicator=999999&period_from={entry.period.id}" \
               f"&period_to={entry.period.id}"
        words = "does not exist or is not among the indicators you may see"
    else:
        monkeypatch.setattr(query, "MAX_CELLS", 1)
        link = url(data, entry, "households")
        words = "more than 1 cells"
    response = province.get(link)
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)


def test_a_commune_officer_cannot_look_at_another_commune(app, entry, data, login):
    from dantoc.catalogs.models import AdminUnit

    _officer, client = make_officer(app)
    other = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "03391"))
    response = client.get(url(data, entry, "households", unit=other.id))
    assert response.status_code == 422  # not among the units offered to this officer
    assert 'id="lookup-table"' not in response.get_data(as_text=True)
