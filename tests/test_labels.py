"""Issue 16 defect 6: people read labels, never stored codes. A disaggregation key is
"Thái – Nữ", a choice answer its label, a period "Quý 4/2026", a form its name, on the
review inbox and page, the unit reports list and the commune and province report pages."""

from __future__ import annotations

import re

import pytest

from dantoc.extensions import db
from tests.factories_submissions import html_of
from tests.test_reports_support import (
    COMMUNE,
    make_world,
    officer,
    put,
    report_of,
    village_values,
)

#: What a stored code looks like in text: a disaggregation key part, or a period code.
CODE = re.compile(r"\w=\w|\b\d{4}-[QH]?\d\b")


def _vietnamese(user) -> None:
    user.locale = "vi"
    db.session.commit()


def main_text(response) -> str:
    assert response.status_code == 200
    return html_of(response).text("main")


@pytest.fixture
def world(app):
    w = make_world(villages=2, others=0, period_type="quarter")
    submissions = [put(w.version, v, w.period, village_values(10 + n, 4, 5))
                   for n, v in enumerate(w.villages)]
    submissions[1].state = "submitted"
    db.session.commit()
    w.submissions = submissions
    return w


def test_the_review_page_shows_breakdowns_and_answers_in_words(app, world):
    user, client = officer(app, "commune_officer", COMMUNE)
    _vietnamese(user)
    text = main_text(client.get(f"/review/{world.submissions[1].client_uuid}"))
    assert "Thái – Nữ" in text and re.search("Kinh[^–]* – Nam", text), text
    assert "Dưới 5 km" in text  # the choice "b"
    assert "Quý 4/2026" in text
    assert not CODE.search(text), CODE.search(text)
    assert "ethnic_group" not in text and "female" not in text


def test_the_inbox_and_its_filters_show_names_and_periods(app, world):
    user, client = officer(app, "commune_officer", COMMUNE)
    _vietnamese(user)
    text = main_text(client.get("/review/"))
    form = world.version.form
    assert form.name in text and "Quý 4/2026" in text
    assert form.code not in text
    assert not CODE.search(text), CODE.search(text)


@pytest.mark.parametrize("role, unit_code", [("commune_officer", COMMUNE),
                                             ("province_officer", "12")])
def test_report_pages_show_breakdowns_in_words(app, world, role, unit_code):
    user, client = officer(app, role, unit_code)
    _vietnamese(user)
    unit = world.commune if role == "commune_officer" else world.province
    if role == "province_officer":  # the commune submits, the province reads its total
        _commune, theirs = officer(app, "commune_officer", COMMUNE)
        data = {"version": "0", f"missing_{world.villages[1].id}": "Chưa duyệt"}
        assert theirs.post(world.report_url(world.commune, "/submit"),
                           data=data).status_code == 303
        report = report_of(world.version, world.commune, world.period)
        assert client.post(f"/reports/{report.id}/approve",
                           data={"version": "1"}).status_code == 303
        list_text = main_text(client.get("/reports/"))
        assert world.version.form.name in list_text
        assert world.version.form.code not in list_text
        assert not CODE.search(list_text), CODE.search(list_text)
    text = main_text(client.get(world.report_url(unit)))
    assert "Thái – Nữ" in text and re.search("Kinh[^–]* – Nam", text)
    assert "Quý 4/2026" in text
    assert not CODE.search(text), CODE.search(text)
    assert "ethnic_group" not in text and ";" not in text
