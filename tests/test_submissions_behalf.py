"""Entry on a village's behalf (nhập thay, issue #14): a commune officer types a village's
report in; it is marked as the commune's, reviewed as usual, and four eyes decide it."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.submissions import states
from dantoc.submissions.models import Submission, SubmissionVersion
from tests.factories import (
    make_officer,
    make_period,
    make_village,
    make_village_head,
    post,
    signed_in,
    typical_answers,
)


def behalf_url(entry, village=None, suffix: str = "") -> str:
    village = village or entry.village
    return f"/entry/for/{village.id}/{entry.version.form.code}/{entry.period.code}{suffix}"


def report(entry) -> Submission:
    return db.session.scalar(sa.select(Submission).where(
        Submission.unit_id == entry.village.id, Submission.period_id == entry.period.id)
        .execution_options(populate_existing=True))


def enter(entry, client, **overrides):
    return post(client, behalf_url(entry), entry.answers(**overrides), key=str(uuid.uuid4()))


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def test_an_officer_enters_a_village_report_marked_as_the_communes(app, entry):
    officer, client = make_officer(app)
    page = client.get(behalf_url(entry))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="behalf"' in html and entry.village.name in html
    assert f'action="{behalf_url(entry)}"' in html

    response = enter(entry, client)
    submission = report(entry)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/review/{submission.client_uuid}")
    assert submission.state == states.SUBMITTED
    version = db.session.scalar(sa.select(SubmissionVersion).where(
        SubmissionVersion.submission_id == submission.id, SubmissionVersion.number == 1))
    assert (version.source, version.submitted_by_id) == (states.COMMUNE, officer.id)
    [row] = audit("submission.submit")
    assert row.actor_id == officer.id and row.after["source"] == states.COMMUNE

    html = client.get(f"/review/{submission.client_uuid}").get_data(as_text=True)
    assert 'id="typed-in"' in html and officer.full_name in html


def test_the_outbox_sending_it_again_is_acknowledged_not_redirected(app, entry):
    """The phone's outbox sends a submit again, as JSON, when it missed the answer: entered
    on a village's behalf, the answer is the JSON acknowledgement (a redirect would read to
    the outbox as a session that ended and pause it), and nothing is written twice."""
    _officer, client = make_officer(app)
    key = str(uuid.uuid4())
    json = {"Accept": "application/json", "Idempotency-Key": key}
    first = post(client, behalf_url(entry), entry.answers(), key=key)
    assert first.status_code == 303

    again = post(client, behalf_url(entry), entry.answers(), key=key, headers=json)
    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["uuid"] == key == str(report(entry).client_uuid)
    assert len(audit("submission.submit")) == 1


def test_a_village_heads_own_report_is_not_marked(app, entry):
    post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()))
    submission = report(entry)
    assert submission.versions[0].source == states.VILLAGE
    _officer, client = make_officer(app)
    assert 'id="typed-in"' not in client.get(
        f"/review/{submission.client_uuid}").get_data(as_text=True)


def test_four_eyes_the_officer_who_entered_it_cannot_approve_another_can(app, entry):
    first, client = make_officer(app)
    enter(entry, client)
    submission = report(entry)
    page = client.get(f"/review/{submission.client_uuid}").get_data(as_text=True)
    assert 'data-lock="own_submission"' in page

    refused = client.post(f"/review/{submission.client_uuid}/approve", data={"version": "1"})
    assert refused.status_code == 409
    assert report(entry).state == states.SUBMITTED
    assert audit("submission.approve") == []

    second, other = make_officer(app)
    approved = other.post(f"/review/{submission.client_uuid}/approve", data={"version": "1"})
    assert approved.status_code == 303
    assert report(entry).state == states.APPROVED
    [submit] = audit("submission.submit")
    [approve] = audit("submission.approve")
    assert (submit.actor_id, approve.actor_id) == (first.id, second.id)


def test_one_person_communes_may_approve_what_they_entered(app, entry):
    app.config["ONE_PERSON_COMMUNES"] = True
    _officer, client = make_officer(app)
    enter(entry, client)
    submission = report(entry)
    response = client.post(f"/review/{submission.client_uuid}/approve", data={"version": "1"})
    assert response.status_code == 303
    assert report(entry).state == states.APPROVED


def test_a_returned_report_can_be_corrected_by_the_village_after_the_commune(app, entry):
    _first, client = make_officer(app)
    enter(entry, client)
    submission = report(entry)
    _second, other = make_officer(app)
    response = other.post(f"/review/{submission.client_uuid}/return",
                          data={"version": "1", "reason": "Thiếu số hộ nghèo"})
    assert response.status_code == 303
    fixed = post(entry.client, entry.url, entry.answers(), key=str(submission.client_uuid),
                 base=1)
    assert fixed.status_code == 303
    submission = report(entry)
    assert submission.current_version == 2
    assert [v.source for v in submission.versions] == [states.COMMUNE, states.VILLAGE]


@pytest.mark.parametrize("who", ["other_commune", "village_head", "province_officer"])
def test_only_officers_of_the_villages_commune_enter_for_it(app, entry, who):
    if who == "village_head":
        client = entry.client
    elif who == "other_commune":
        _user, client = make_officer(app, unit_code="03391")
    else:
        _user, client = make_officer(app, unit_code="12", role="province_officer")
    assert client.get(behalf_url(entry)).status_code == 403
    response = post(client, behalf_url(entry), entry.answers(), key=str(uuid.uuid4()))
    assert response.status_code == 403
    assert report(entry) is None


def test_the_list_names_the_communes_villages_and_their_forms(app, entry):
    other = make_village(commune_code="03391")
    _user, client = make_officer(app)
    html = client.get("/entry/for/").get_data(as_text=True)
    assert entry.village.name in html and other.name not in html
    assert behalf_url(entry) in html and behalf_url(entry, suffix="/paper") in html
    assert entry.version.form.name in html


def test_the_paper_form_prints_every_field_with_the_communes_groups(app, entry):
    last = make_period("2025", period_type=entry.version.period_type)
    neighbour = make_village()  # another village of the same commune
    head = make_village_head(neighbour)
    head_client = signed_in(app.test_client(), head)
    ids = {i.indicator.code: i.indicator_id for s in entry.version.sections for i in s.items}
    answers = typical_answers(entry.version)
    answers[f"v{ids['population']}_25_0"] = "7"  # a group only the neighbour reported
    post(head_client, f"/entry/{neighbour.id}/{entry.version.form.code}/{last.code}", answers,
         key=str(uuid.uuid4()))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1

    _user, client = make_officer(app)
    html = client.get(behalf_url(entry, suffix="/paper")).get_data(as_text=True)
    items = [i for s in entry.version.sections for i in s.items]
    for item in items:
        assert item.indicator.name in html
    with_unit = [i.indicator for i in items if i.indicator.unit_of_measure]
    text = re.sub(r"<[^>]+>", "", html)
    assert with_unit and all(f"({i.unit_of_measure})" in text for i in with_unit)
    assert entry.village.name in text and "Year 2026" in text
    for group in ("Thái", "Mông", "Giáy"):  # codes 03, 08 (entry answers) and 25 (neighbour)
        assert f'<th scope="row">{group}' in html, group
    assert html.count('class="write"') == 3
    assert "Village head" in html and "(signature and full name)" in html
