"""The village head's pages: what is due, the form, drafts, submit, receipt, refusals."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from dantoc.extensions import db
from dantoc.submissions import services
from dantoc.submissions.models import Submission, SubmissionValue, SubmissionVersion
from dantoc.web import kept
from tests.factories import (
    BOOSTED,
    HX,
    counts,
    entry_url,
    make_period,
    make_village,
    make_village_head,
    post,
)


def _uuid(html: str) -> str:
    return re.search(r'name="uuid" type="hidden" value="([0-9a-f-]{36})"', html).group(1)


def test_home_lists_what_is_due_with_status_and_deadline(entry):
    html = entry.client.get("/entry/").get_data(as_text=True)
    assert entry.version.form.name in html
    assert entry.url in html
    assert "Not started" in html
    assert "Deadline" in html


def test_home_shows_returned_reason_and_each_status(entry):
    key = uuid.uuid4()
    post(entry.client, entry.url, entry.answers(), key=str(key))
    submission = db.session.scalar(sa.select(Submission))
    services.transition(submission, "return", entry.user, reason="Thiếu dân tộc Dao")
    db.session.commit()
    html = entry.client.get("/entry/").get_data(as_text=True)
    assert "Returned for correction" in html
    assert "Thiếu dân tộc Dao" in html


def test_signed_in_village_head_lands_on_their_page(entry):
    response = entry.client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/entry/")


def test_get_creates_nothing_and_carries_a_fresh_uuid(entry):
    before = counts()
    first = entry.client.get(entry.url).get_data(as_text=True)
    second = entry.client.get(entry.url).get_data(as_text=True)
    assert counts() == before
    assert _uuid(first) != _uuid(second)
    uuid.UUID(_uuid(first))


@pytest.mark.parametrize("value_type, attrs", [
    ("households", ['type="number"', 'inputmode="numeric"', 'min="0"', 'step="1"', "required"]),
    ("distance_km", ['inputmode="decimal"', 'min="0"', 'max="200"', 'step="any"']),
])
def test_number_fields_carry_html_checks(entry, value_type, attrs):
    html = entry.client.get(entry.url).get_data(as_text=True)
    name = entry.name(value_type)
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    for attr in attrs:
        assert attr in tag
    assert f'<label for="{name}">' in html


def test_yes_no_and_small_choice_are_radios_text_is_a_textarea(entry):
    html = entry.client.get(entry.url).get_data(as_text=True)
    assert html.count(f'name="{entry.name("road_hardened")}" type="radio"') == 2
    assert html.count(f'name="{entry.name("health_access")}" type="radio"') == 3
    assert f'<textarea aria-describedby="{entry.name("note")}-h' in html


def test_draft_keeps_invalid_input_and_shows_type_errors(entry):
    key = str(uuid.uuid4())
    answers = {entry.name("households"): "12a", entry.name("poor_households"): "-3"}
    response = post(entry.client, entry.url, answers, key=key, action="draft")
    assert response.status_code == 303
    version = db.session.scalar(sa.select(SubmissionVersion))
    assert version.submitted_at is None
    assert version.payload[entry.name("households")] == "12a"
    assert db.session.scalar(sa.select(sa.func.count(SubmissionValue.id))) == 0
    html = entry.client.get(entry.url).get_data(as_text=True)
    assert 'value="12a"' in html
    assert "Enter a whole number" in html
    assert "Must be at least 0" in html
    assert _uuid(html) == key
    assert "Please answer" not in html  # a draft may be incomplete


@pytest.mark.parametrize("overrides, message", [
    ({"households": "abc"}, "Enter a whole number"),
    ({"poor_households": "-1"}, "Must be at least 0"),
    ({"distance_km": "250"}, "Must be at most 200"),
    ({"distance_km": "1.23456"}, "decimal places"),
    ({"poor_households": "50"}, "Số hộ nghèo không được lớn hơn tổng số hộ."),
    ({"households": ""}, "Please answer this question."),
    ({"road_hardened": "maybe"}, "Choose one of the options."),
])
def test_bad_input_is_refused_at_the_field_and_nothing_is_submitted(entry, overrides, message):
    key = str(uuid.uuid4())
    response = post(entry.client, entry.url, entry.answers(**overrides), key=key)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'role="alert"' in html
    submission = db.session.scalar(sa.select(Submission))
    assert submission.state == "draft" and submission.current_version == 0
    assert db.session.scalar(sa.select(SubmissionVersion)).submitted_at is None
    assert db.session.scalar(sa.select(sa.func.count(SubmissionValue.id))) == 0
    for code, value in overrides.items():
        if value and code != "road_hardened":  # a radio cannot show an unknown value
            assert f'value="{value}"' in html


def test_cross_field_message_is_shown_beside_both_fields(entry):
    response = post(entry.client, entry.url, entry.answers(poor_households="50"),
                    key=str(uuid.uuid4()))
    html = response.get_data(as_text=True)
    message = "Số hộ nghèo không được lớn hơn tổng số hộ."
    for code in ("households", "poor_households"):
        slot = re.search(rf'<div class="msgs" id="{entry.name(code)}-m">(.*?)</div>', html)
        assert message in slot.group(1)


def test_warning_rule_does_not_block_submit(entry):
    answers = entry.answers(households="500")  # more households than people: a warning
    response = post(entry.client, entry.url, answers, key=str(uuid.uuid4()))
    assert response.status_code == 303


def test_submit_stores_values_per_indicator_and_disaggregation(entry):
    key = str(uuid.uuid4())
    response = post(entry.client, entry.url, entry.answers(), key=key)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/entry/receipt/{key}")
    rows = db.session.execute(sa.select(SubmissionValue)).scalars().all()
    by_key = {(r.indicator.code, r.disaggregation): r.value for r in rows}
    assert by_key[("households", "")] == 42
    assert by_key[("population", "ethnic_group=03;sex=female")] == 78
    assert by_key[("population", "ethnic_group=08;sex=male")] == 20
    assert str(by_key[("distance_km", "")]) in ("12.5", "12.5000")  # decimal comma accepted
    assert by_key[("road_hardened", "")] is True
    assert by_key[("health_access", "")] == "b"
    assert ("note", "") not in by_key  # empty answers are not stored
    receipt = entry.client.get(response.headers["Location"]).get_data(as_text=True)
    assert key in receipt
    assert "9 values" in receipt and "7 indicators" not in receipt


def test_add_row_without_javascript_keeps_what_was_typed(entry):
    pop = entry.name("population")
    answers = {**entry.answers(), f"add_{pop}": "09"}
    response = post(entry.client, entry.url, answers, key=str(uuid.uuid4()),
                    action=f"add:{pop}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'name="{pop}_09_0"' in html and f'name="{pop}_09_1"' in html
    assert 'value="80"' in html  # the Thái row kept its numbers
    assert '<option value="09">' not in html  # Dao is no longer offered
    assert counts()["submissions"] == 0  # re-rendered, not saved


def test_receipt_and_form_of_another_village_are_forbidden(entry, login):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    other_head = make_village_head(make_village())
    client = login(other_head)
    assert client.get(f"/entry/receipt/{key}").status_code == 403
    assert client.get(entry.url).status_code == 403
    before = counts()
    assert post(client, entry.url, entry.answers(), key=str(uuid.uuid4())).status_code == 403
    assert counts()["submissions"] == before["submissions"]


def test_closed_period_gives_a_clear_message_and_stores_nothing(entry):
    closed = make_period("2025", open_now=False)
    url = entry_url(entry.village, entry.version, closed)
    page = entry.client.get(url)
    assert page.status_code == 200
    assert "is closed" in page.get_data(as_text=True)
    assert '<form method="post" action="' + url not in page.get_data(as_text=True)
    response = post(entry.client, url, entry.answers(), key=str(uuid.uuid4()))
    assert response.status_code == 409
    assert "is closed" in response.get_data(as_text=True)
    assert counts()["submissions"] == 0


def test_unknown_form_or_period_is_404(entry):
    assert entry.client.get(f"/entry/{entry.village.id}/NOPE/2026").status_code == 404
    assert entry.client.get(entry.url.replace("/2026", "/2031")).status_code == 404


def test_malformed_uuid_is_a_bad_request(entry):
    response = post(entry.client, entry.url, entry.answers(), key="not-a-uuid")
    assert response.status_code == 400
    assert counts()["submissions"] == 0


def test_check_fragment_returns_message_slots_only(entry):
    answers = {"uuid": str(uuid.uuid4()), "base_version": "0",
               **entry.answers(poor_households="50", distance_km="x")}
    response = entry.client.post(entry.url + "/check", data=answers, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert 'hx-swap-oob="true"' in html
    assert "Số hộ nghèo không được lớn hơn tổng số hộ." in html
    assert "Enter a number" in html
    assert "Please answer" not in html
    assert counts()["submissions"] == 0


def test_draft_with_htmx_returns_the_status_fragment(entry):
    response = post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()),
                    action="draft", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="status"' in html
    assert "Draft saved" in html
    assert counts()["versions"] == 1


@pytest.mark.parametrize("headers", [{}, BOOSTED], ids=["plain", "boosted"])
def test_form_page_is_a_full_page_without_and_with_boost(entry, headers):
    html = entry.client.get(entry.url, headers=headers).get_data(as_text=True)
    assert html.startswith("<!doctype html>")


def test_submitted_form_opens_its_receipt(entry):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    response = entry.client.get(entry.url)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/entry/receipt/{key}")


def test_receipt_fragment_for_htmx(entry):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    html = entry.client.get(f"/entry/receipt/{key}", headers=HX).get_data(as_text=True)
    assert "<html" not in html and key in html


@pytest.mark.parametrize("headers", [BOOSTED, HX], ids=["boosted", "fragment"])
def test_htmx_submit_answers_with_the_receipt_fragment_into_main(entry, headers):
    """Issue 17 item 2: the receipt after a submit is a fragment, not a whole page, swapped
    into <main> (the header stays) with the receipt's address and title."""
    key = str(uuid.uuid4())
    response = post(entry.client, entry.url, entry.answers(), key=key, headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == f"/entry/receipt/{key}"
    assert response.headers["HX-Retarget"] == "#main"
    assert response.headers["HX-Reswap"] == "innerHTML show:window:top"
    assert "<html" not in html and "<header" not in html and 'id="outbox"' not in html
    assert html.startswith("<title>") and 'id="receipt"' in html and key in html
    page = entry.client.get(f"/entry/receipt/{key}").get_data(as_text=True)
    assert page.startswith("<!doctype html>") and page.count("<title>") == 1


def test_a_submits_receipt_is_kept_per_locale_with_its_own_values(app, entry):
    """Issue 17 (server CPU per submit): the receipt fragment of a submit is rendered once per
    locale and kept (dantoc.web.kept.fragment); each submit shows its own report, and the
    markup is the one rendered afresh."""
    kept.clear()
    entry.client.set_cookie("locale", "en")
    older, answers = make_period("2025"), entry.answers()
    sent = []
    for period in (entry.period, older):
        url, key = entry_url(entry.village, entry.version, period), str(uuid.uuid4())
        html = post(entry.client, url, answers, key=key, headers=HX).get_data(as_text=True)
        sent.append((url, key, html))
    assert [k[:2] for k in app.extensions[kept.EXTENSION].kept if k[0] == "fragment"] == [
        ("fragment", "submissions/_receipt.html")]
    (_url, first_key, first), (url, key, second) = sent
    assert first_key in first and "Year 2026" in first and key not in first
    assert key in second and "Year 2025" in second and "Year 2026" not in second
    assert "\x00" not in first + second
    app.jinja_env.auto_reload = True  # nothing kept: the same submit's receipt afresh
    try:
        again = post(entry.client, url, answers, key=key, headers=HX)
    finally:
        app.jinja_env.auto_reload = False
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data(as_text=True) == second


def test_enter_key_saves_a_draft_rather_than_adding_a_grid_row(entry):
    """Implicit submission (Enter, a phone keyboard's "Go") presses the first submit button."""
    html = entry.client.get(entry.url).get_data(as_text=True)
    form = html[html.index('class="entry"'):]
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert 'name="action"' in first_button and 'value="draft"' in first_button
