"""Per-field comments on a return: stored with the return and its one audit row, refused
without a reason, and shown to the village head beside the right field."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.review import services as review_services
from dantoc.submissions.models import FieldComment, SubmissionVersion
from tests.factories import (
    html_of,
    indicator_id,
    make_officer,
    post,
    reload_report,
    review_actions,
    submit_report,
)

THAI_FEMALE = "ethnic_group=03;sex=female"


@pytest.fixture
def report(app, entry):
    """A submitted report of the entry village and a signed-in officer of its commune."""
    submission = submit_report(entry)
    user, client = make_officer(app)
    return submission, user, client


def _comment_fields(entry) -> dict[str, str]:
    households = indicator_id(entry.version, "households")
    population = indicator_id(entry.version, "population")
    return {f"c{households}": "  Số hộ khác năm trước nhiều  ",
            f"c{population}:{THAI_FEMALE}": "Kiểm tra lại số nữ Thái",
            f"c{population}": "Tổng nhân khẩu thấp",
            f"c{indicator_id(entry.version, 'distance_km')}": "   "}  # blank: no comment


def _comments() -> list[tuple[int, int, str, str]]:
    return [(c.version_number, c.indicator_id, c.disaggregation, c.text)
            for c in db.session.scalars(sa.select(FieldComment).order_by(FieldComment.id))]


def _return(client, submission, reason="Kiểm tra lại số hộ", **fields):
    return client.post(f"/review/{submission.client_uuid}/return",
                       data={"version": submission.current_version, "reason": reason,
                             **fields})


def test_review_page_offers_a_comment_per_field(entry, report):
    submission, _user, client = report
    page = html_of(client.get(f"/review/{submission.client_uuid}"))
    names = {a.get("name") for a in page.by_id.values() if a["tag"] == "input"}
    population = indicator_id(entry.version, "population")
    assert f"c{indicator_id(entry.version, 'households')}" in names
    assert {f"c{population}", f"c{population}:{THAI_FEMALE}"} <= names
    assert "Thái – Nữ" in page.html  # the cell is named in words, not by its key


def test_return_with_comments_is_one_transaction_with_one_audit_row(entry, report):
    submission, user, client = report
    response = _return(client, submission, **_comment_fields(entry))
    assert response.status_code == 303
    households = indicator_id(entry.version, "households")
    population = indicator_id(entry.version, "population")
    assert sorted(_comments()) == sorted([
        (1, households, "", "Số hộ khác năm trước nhiều"),
        (1, population, THAI_FEMALE, "Kiểm tra lại số nữ Thái"),
        (1, population, "", "Tổng nhân khẩu thấp")])
    assert {c.author_id for c in db.session.scalars(sa.select(FieldComment))} == {user.id}
    assert review_actions() == ["submission.return"]
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "submission.return"))
    assert sorted((f["indicator"], f["key"]) for f in event.after["comments"]) == sorted([
        ("households", ""), ("population", THAI_FEMALE), ("population", "")])
    assert event.after["reason"] == "Kiểm tra lại số hộ"
    db.session.refresh(submission)
    assert (submission.state, submission.state_reason) == ("returned", "Kiểm tra lại số hộ")


@pytest.mark.parametrize("reason", ["", "   "])
def test_comments_without_a_reason_are_refused_at_the_reason_field(entry, report, reason):
    submission, _user, client = report
    response = _return(client, submission, reason=reason, **_comment_fields(entry))
    assert response.status_code == 422
    page = html_of(response)
    assert page.attrs("reason").get("aria-invalid") == "true"
    assert page.described_by("reason") == ["reason-err"]
    assert page.text("reason-err") == "Please say why the report is returned."
    assert 'value="Kiểm tra lại số nữ Thái"' in page.html  # what was typed is kept
    db.session.refresh(submission)
    assert submission.state == "submitted"
    assert _comments() == [] and review_actions() == []


def test_too_long_comment_is_refused_at_its_field(entry, report):
    submission, _user, client = report
    name = f"c{indicator_id(entry.version, 'households')}"
    response = _return(client, submission, **{name: "x" * 1001})
    assert response.status_code == 422
    assert "At most 1000 characters." in response.get_data(as_text=True)
    assert _comments() == [] and review_actions() == []


def test_stale_return_with_comments_writes_nothing(entry, report):
    submission, _user, client = report
    response = client.post(f"/review/{submission.client_uuid}/return",
                           data={"version": 2, "reason": "Sai", **_comment_fields(entry)})
    assert response.status_code == 409
    assert _comments() == [] and review_actions() == []


def test_comment_for_a_field_not_on_the_form_is_ignored(entry, report):
    submission, _user, client = report
    response = _return(client, submission, c999999="Không có chỉ tiêu này",
                       **{f"c{indicator_id(entry.version, 'households')}:sex=male": "Ô lạ"})
    assert response.status_code == 303
    assert _comments() == [] and review_actions() == ["submission.return"]


def test_a_failed_comment_write_leaves_no_return_and_no_audit_row(entry, report,
                                                                  monkeypatch):
    """The comments go in the return's transaction: if writing them fails, nothing stays."""
    submission, _user, client = report
    original = review_services.FieldComment

    def broken(**values):
        return original(**{**values, "text": ""})  # breaks ck_field_comments_text_length

    monkeypatch.setattr(review_services, "FieldComment", broken)
    assert _return(client, submission, **_comment_fields(entry)).status_code == 500
    db.session.rollback()
    assert reload_report(entry).state == "submitted"
    assert _comments() == [] and review_actions() == []


def test_comments_reach_the_village_head_at_the_right_field(entry, report):
    submission, _user, client = report
    assert _return(client, submission, **_comment_fields(entry)).status_code == 303
    households = f"v{indicator_id(entry.version, 'households')}"
    population = f"v{indicator_id(entry.version, 'population')}"
    poor = f"v{indicator_id(entry.version, 'poor_households')}"

    form = html_of(entry.client.get(entry.url))
    assert "Returned for correction:</strong> Kiểm tra lại số hộ</p>" in form.html
    assert form.text(f"{households}-rc") == ("Commune's comment: Số hộ khác năm trước "
                                             "nhiều")
    assert form.described_by(households)[0] == f"{households}-rc"
    assert f"{poor}-rc" not in form and f"{poor}-rc" not in form.described_by(poor)
    cell = f"{population}_03_1"  # Thái (row 03), female (column 1)
    assert form.described_by(cell) == [f"{cell}-rc"]
    assert form.text(f"{cell}-rc") == "Commune's comment: Kiểm tra lại số nữ Thái"
    assert f"{population}_03_0-rc" not in form and not form.described_by(f"{population}_03_0")
    assert form.described_by(f"{population}-f") == [f"{population}-rc"]
    assert form.text(f"{population}-rc") == "Commune's comment: Tổng nhân khẩu thấp"
    assert f'href="#{households}-f"' in form.html  # the list under the reason links to it
    assert f'href="#{cell}"' in form.html

    home = html_of(entry.client.get("/entry/"))
    why = f"why-{submission.id}"
    assert f'aria-describedby="{why}"' in home.html
    assert "Kiểm tra lại số hộ" in home.text(why)
    assert "Tổng số hộ: Số hộ khác năm trước nhiều" in home.text(why)
    assert "Số nhân khẩu (Thái – Nữ): Kiểm tra lại số nữ Thái" in home.text(why)

    receipt = html_of(entry.client.get(f"/entry/receipt/{submission.client_uuid}"))
    assert "Số nhân khẩu (Thái – Nữ): Kiểm tra lại số nữ Thái" in receipt.text("why")


def test_resubmission_is_the_next_version_on_the_returned_one_and_hides_old_comments(
        entry, report):
    submission, _user, client = report
    _return(client, submission, **_comment_fields(entry))
    response = post(entry.client, entry.url, entry.answers(households="43"),
                    key=str(submission.client_uuid), base=1)
    assert response.status_code == 303
    submission = reload_report(entry)
    assert (submission.state, submission.current_version, submission.state_reason) == (
        "submitted", 2, None)
    versions = db.session.scalars(sa.select(SubmissionVersion).where(
        SubmissionVersion.submission_id == submission.id)
        .order_by(SubmissionVersion.number)).all()
    assert [(v.number, v.base_version) for v in versions] == [(1, 0), (2, 1)]
    assert all(v.submitted_at is not None for v in versions)
    assert {c[0] for c in _comments()} == {1}  # the comments stay on the returned version
    households = f"v{indicator_id(entry.version, 'households')}"
    receipt = entry.client.get(f"/entry/receipt/{submission.client_uuid}")
    assert "Số hộ khác năm trước nhiều" not in receipt.get_data(as_text=True)
    assert f"{households}-rc" not in entry.client.get("/entry/").get_data(as_text=True)


def test_a_second_return_comments_on_the_second_version(entry, report):
    submission, _user, client = report
    _return(client, submission, **_comment_fields(entry))
    post(entry.client, entry.url, entry.answers(households="43"),
         key=str(submission.client_uuid), base=1)
    submission = reload_report(entry)
    households = indicator_id(entry.version, "households")
    assert _return(client, submission, reason="Lần hai",
                   **{f"c{households}": "Vẫn sai"}).status_code == 303
    assert (2, households, "", "Vẫn sai") in _comments()
    form = html_of(entry.client.get(entry.url))
    assert form.text(f"v{households}-rc") == "Commune's comment: Vẫn sai"
    assert "Tổng nhân khẩu thấp" not in form.html  # a comment on version 1 only
