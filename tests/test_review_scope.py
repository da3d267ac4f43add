"""Levels above the commune see only village reports the commune approved, unless
REVIEW_HIGHER_LEVELS_SEE_PENDING is on; only the commune decides on them."""

from __future__ import annotations

import pytest

from dantoc.accounts.models import User
from dantoc.extensions import db
from dantoc.submissions import services
from dantoc.workflow import actors
from tests.factories import (
    make_officer,
    make_user,
    make_village,
    make_village_head,
    post,
    review_actions,
    sign_in_as,
    submit_report,
    typical_answers,
    unit,
)

#: role, scope unit code, sees pending reports by default
OFFICERS = [("commune_officer", "03388", True), ("province_officer", "12", False)]


@pytest.fixture
def reports(app, entry):
    """Three villages of commune 03388: one report submitted, one returned, one approved."""
    pending = submit_report(entry)
    returned, approved = (_other_village_report(app, entry) for _ in range(2))
    services.transition(returned, "return", entry.user, reason="Sai")
    services.transition(approved, "approve", entry.user)
    db.session.commit()
    return {"submitted": pending, "returned": returned, "approved": approved}


def _other_village_report(app, entry):
    import uuid

    from dantoc.submissions.models import Submission

    village = make_village()
    head = make_village_head(village)
    post(sign_in_as(app, head), f"/entry/{village.id}/{entry.version.form.code}/"
         f"{entry.period.code}", typical_answers(entry.version), key=str(uuid.uuid4()))
    return db.session.scalar(db.select(Submission).where(Submission.unit_id == village.id))


def _inbox(client) -> set[str]:
    html = client.get("/review/").get_data(as_text=True)
    return {state for state in ("submitted", "returned", "approved")
            if f'class="tag status-{state}"' in html}


@pytest.mark.parametrize("setting", [False, True], ids=["default", "see-pending"])
@pytest.mark.parametrize("role, code, sees_pending", OFFICERS, ids=[o[0] for o in OFFICERS])
def test_inbox_shows_pending_reports_to_the_commune_only(app, reports, role, code,
                                                        sees_pending, setting):
    app.config["REVIEW_HIGHER_LEVELS_SEE_PENDING"] = setting
    _user, client = make_officer(app, code, role)
    expected = {"submitted", "returned", "approved"} if sees_pending or setting else {
        "approved"}
    assert _inbox(client) == expected
    hidden = client.get("/review/?state=submitted").get_data(as_text=True)
    assert (str(reports["submitted"].client_uuid) in hidden) is (sees_pending or setting)


@pytest.mark.parametrize("setting", [False, True], ids=["default", "see-pending"])
@pytest.mark.parametrize("role, code, sees_pending", OFFICERS, ids=[o[0] for o in OFFICERS])
def test_review_page_of_a_pending_report(app, reports, role, code, sees_pending, setting):
    app.config["REVIEW_HIGHER_LEVELS_SEE_PENDING"] = setting
    _user, client = make_officer(app, code, role)
    response = client.get(f"/review/{reports['submitted'].client_uuid}")
    if sees_pending or setting:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "has not been approved by the commune yet" in response.get_data(as_text=True)
    approved = client.get(f"/review/{reports['approved'].client_uuid}")
    assert approved.status_code == 200


@pytest.mark.parametrize("setting", [False, True], ids=["default", "see-pending"])
@pytest.mark.parametrize("action", ["approve", "return"])
def test_province_officer_never_decides_on_a_village_report(app, reports, action, setting):
    app.config["REVIEW_HIGHER_LEVELS_SEE_PENDING"] = setting
    _user, client = make_officer(app, "12", "province_officer")
    submission = reports["submitted"]
    if setting:
        page = client.get(f"/review/{submission.client_uuid}").get_data(as_text=True)
        assert 'data-lock="no_authority"' in page and "/approve" not in page
    response = client.post(f"/review/{submission.client_uuid}/{action}",
                           data={"version": 1, "reason": "Sai"})
    assert response.status_code == 403
    assert reload_report_of(submission).state == "submitted"
    assert review_actions() == ["submission.return", "submission.approve"]  # the set-up's


def reload_report_of(submission):
    db.session.expire_all()
    return db.session.get(type(submission), submission.id)


def test_province_bulk_approval_approves_nothing(app, reports):
    app.config["REVIEW_HIGHER_LEVELS_SEE_PENDING"] = True
    _user, client = make_officer(app, "12", "province_officer")
    submission = reports["submitted"]
    html = client.get("/review/").get_data(as_text=True)
    assert 'name="items"' not in html
    client.post("/review/approve-clean", data={"items": [f"{submission.client_uuid}:1"]})
    assert reload_report_of(submission).state == "submitted"


def test_the_commune_sees_the_note_and_the_province_is_told_it_sees_approved_only(app,
                                                                                 reports):
    _user, commune = make_officer(app)
    _user, province = make_officer(app, "12", "province_officer")
    note = "Only reports approved by their commune are shown at this level."
    assert note not in commune.get("/review/").get_data(as_text=True)
    assert note in province.get("/review/").get_data(as_text=True)


@pytest.mark.parametrize("code, on, above", [
    ("03388", "2025-07-01", False),  # a commune since the reform
    ("12", "2025-07-01", True),  # the province
    ("105", "2025-01-01", True),  # a district, before the reform
    (None, None, True),  # an unscoped administrator
])
def test_above_commune_by_level(app, code, on, above):
    user = make_user("admin" if code is None else "province_officer", unit_code=None)
    if code is not None:
        scope = unit(code, on=on)
        assert scope is not None
        user.unit_id = scope.id
    db.session.commit()
    user = db.session.get(User, user.id)
    assert actors.above_communes(user) is above
    assert actors.decides_village_reports(user) is (not above)
