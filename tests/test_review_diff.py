"""The reviewer of a correction sees what changed since the returned version, and what was
asked for on it; unchanged fields are not listed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dantoc.review import queries
from dantoc.submissions import services
from tests.factories import (
    html_of,
    indicator_id,
    make_officer,
    post,
    reload_report,
    submit_report,
)


@pytest.fixture
def corrected(app, entry):
    """Version 1 returned with a comment on households, then corrected as version 2:
    households 42 → 45, Thái women 78 → 70, a note added, the HMông men removed."""
    submission = submit_report(entry)
    _user, client = make_officer(app)
    households = indicator_id(entry.version, "households")
    response = client.post(f"/review/{submission.client_uuid}/return",
                           data={"version": 1, "reason": "Số hộ chưa khớp",
                                 f"c{households}": "Đếm lại số hộ"})
    assert response.status_code == 303
    answers = entry.answers(households="45", note="Có 3 hộ mới chuyển đến")
    population = indicator_id(entry.version, "population")
    answers[f"v{population}_03_1"] = "70"
    answers[f"v{population}_08_0"] = ""
    response = post(entry.client, entry.url, answers, key=str(submission.client_uuid), base=1)
    assert response.status_code == 303
    return reload_report(entry), client


def _rows(page) -> list[tuple[str, str, str]]:
    """(field, before, now) of the changes table."""
    section = page.html.split('id="changes"', 1)[1].split("</section>", 1)[0]
    rows = []
    for chunk in section.split("<tr>")[2:]:  # skip the head row
        cells = [c.split("</td>", 1)[0] for c in chunk.split("<td>")[1:]]
        rows.append(tuple(" ".join(_text(c).split()) for c in cells))
    return rows


def _text(markup: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", markup).replace("&#39;", "'")


def test_the_diff_lists_exactly_the_changed_fields(entry, corrected):
    submission, client = corrected
    assert submission.current_version == 2
    page = html_of(client.get(f"/review/{submission.client_uuid}"))
    assert page.text("changes-h") == "Changes since version 1"
    assert sorted(_rows(page)) == sorted([
        ("Tổng số hộ", "42", "45"),
        ("Số nhân khẩu (Thái – Nữ)", "78", "70"),
        ("Số nhân khẩu (Mông / H'Mông – Nam)", "20", "—"),
        ("Ghi chú", "—", "Có 3 hộ mới chuyển đến"),
    ])
    changes = page.text("changes")
    assert "Số hộ nghèo" not in changes and "Khoảng cách" not in changes
    assert "Returned with the reason: Số hộ chưa khớp" in changes
    assert "Comments on version 1" in changes and "Tổng số hộ: Đếm lại số hộ" in changes


def test_changes_compares_values_not_spelling(entry, corrected):
    submission, _client = corrected
    old = services.version_of(submission, 1)
    new = services.version_of(submission, 2)
    found = {(c.indicator.code, c.key): (c.old, c.new)
             for c in queries.changes(submission, old, new)}
    assert found == {
        ("households", ""): (Decimal(42), Decimal(45)),
        ("population", "ethnic_group=03;sex=female"): (Decimal(78), Decimal(70)),
        ("population", "ethnic_group=08;sex=male"): (Decimal(20), None),
        ("note", ""): (None, "Có 3 hộ mới chuyển đến"),
    }
    assert queries.changes(submission, new, new) == []


def test_first_version_has_no_diff(app, entry):
    submission = submit_report(entry)
    _user, client = make_officer(app)
    page = html_of(client.get(f"/review/{submission.client_uuid}"))
    assert "changes" not in page


def test_resubmission_without_changes_says_so(app, entry):
    submission = submit_report(entry)
    _user, client = make_officer(app)
    client.post(f"/review/{submission.client_uuid}/return",
                data={"version": 1, "reason": "Xác nhận lại"})
    post(entry.client, entry.url, entry.answers(), key=str(submission.client_uuid), base=1)
    page = html_of(client.get(f"/review/{submission.client_uuid}"))
    assert "No value changed." in page.text("changes")
    assert _rows(page) == []
