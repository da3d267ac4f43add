"""Publishing (công bố) and withdrawing an approved commune report: the province's verb
``report.publish``, audited in the same transaction, a reason to withdraw, approved reports
only, the version the page showed; refusals change nothing."""

from __future__ import annotations

import pytest

from dantoc.extensions import db
from dantoc.statistics import states
from tests.factories import make_user
from tests.test_reports_support import COMMUNE, OTHER_COMMUNE, browser
from tests.test_statistics_support import (
    audit_actions,
    citizen,
    make_published,
    publication_of,
)


@pytest.fixture
def approved(app):
    return make_published(publish=False)


@pytest.fixture
def province(app, approved):
    return browser(app, approved.province)


def _publish(client, report, version=0):
    return client.post(f"/thong-ke/cong-bo/{report.id}/publish", data={"version": version})


def _withdraw(client, report, version=1, reason="Số liệu cần rà soát lại"):
    return client.post(f"/thong-ke/cong-bo/{report.id}/withdraw",
                       data={"version": version, "reason": reason})


def test_province_publishes_and_citizens_see_it(app, approved, province):
    report = approved.reports[COMMUNE]
    page = province.get("/thong-ke/cong-bo/").get_data(as_text=True)
    assert f"/thong-ke/cong-bo/{report.id}/publish" in page
    response = _publish(province, report)
    assert response.status_code == 303
    row = publication_of(report)
    assert row.state == states.PUBLISHED and row.version == 1
    assert row.published_by_id == approved.province.id and row.published_at is not None
    assert audit_actions() == ["publication.publish"]
    assert citizen(app).get(approved.commune_url(COMMUNE)).status_code == 200
    assert citizen(app).get(approved.commune_url(OTHER_COMMUNE)).status_code == 404


def test_withdraw_needs_a_reason_and_is_audited(app, approved, province):
    report = approved.reports[COMMUNE]
    _publish(province, report)
    refused = _withdraw(province, report, reason="   ")
    assert refused.status_code == 422
    assert publication_of(report).state == states.PUBLISHED
    assert audit_actions() == ["publication.publish"]
    assert _withdraw(province, report).status_code == 303
    row = publication_of(report)
    assert row.state == states.WITHDRAWN and row.state_reason == "Số liệu cần rà soát lại"
    assert row.withdrawn_by_id == approved.province.id
    assert audit_actions() == ["publication.publish", "publication.withdraw"]
    assert citizen(app).get(approved.commune_url(COMMUNE)).status_code == 404
    # published again later: the same record, a new version
    assert _publish(province, report, version=2).status_code == 303
    assert publication_of(report).state == states.PUBLISHED
    assert publication_of(report).version == 3


def test_stale_version_changes_nothing(app, approved, province):
    report = approved.reports[COMMUNE]
    _publish(province, report)
    assert _publish(province, report, version=0).status_code == 409
    assert _withdraw(province, report, version=0).status_code == 409
    assert publication_of(report).version == 1
    assert audit_actions() == ["publication.publish"]


def test_only_approved_reports_can_be_published(app, approved, province):
    from dantoc.reports import services

    report = approved.reports[COMMUNE]
    services.decide(report, "reopen", approved.province, report.version, "Sai số hộ")
    db.session.commit()
    assert _publish(province, report).status_code == 409
    assert publication_of(report) is None
    assert audit_actions() == []


@pytest.mark.parametrize("role, unit_code", [("commune_officer", COMMUNE),
                                             ("department_officer", "12")])
def test_others_cannot_publish(app, approved, role, unit_code):
    client = browser(app, make_user(role, unit_code=unit_code))
    report = approved.reports[COMMUNE]
    assert _publish(client, report).status_code == 403
    assert client.get("/thong-ke/cong-bo/").status_code == 403
    assert publication_of(report) is None


def test_citizen_cannot_publish(app, approved):
    report = approved.reports[COMMUNE]
    response = citizen(app).post(f"/thong-ke/cong-bo/{report.id}/publish",
                                 data={"version": 0})
    assert response.status_code in (302, 401)
    assert publication_of(report) is None


def test_bad_input_is_refused_cleanly(app, approved, province):
    report = approved.reports[COMMUNE]
    assert province.post(f"/thong-ke/cong-bo/{report.id}/publish",
                         data={"version": "abc"}).status_code == 400
    assert _publish(province, type("R", (), {"id": 999999})()).status_code == 404
    assert _withdraw(province, report, version=0).status_code == 409  # never published
    assert _withdraw(province, report, reason="x" * 2001).status_code == 422
    assert publication_of(report) is None


def test_figures_approved_again_wait_to_be_published_again(app, approved, province):
    from dantoc.reports import queries, services

    report = approved.reports[COMMUNE]
    _publish(province, report)
    assert _publish(province, report, version=1).status_code == 409  # already public
    services.decide(report, "reopen", approved.province, report.version, "Sai số hộ")
    db.session.commit()
    assert citizen(app).get(approved.commune_url(COMMUNE)).status_code == 404
    officer = make_user("commune_officer", unit_code=COMMUNE)
    t = queries.target_of(report)
    services.submit(t, officer, report.version, {})
    db.session.commit()
    services.decide(report, "approve", approved.province, report.version)
    db.session.commit()
    # approved again: still not public, and the province is told so
    assert citizen(app).get(approved.commune_url(COMMUNE)).status_code == 404
    page = province.get("/thong-ke/cong-bo/").get_data(as_text=True)
    assert "approved again since" in page
    assert _publish(province, report, version=1).status_code == 303
    row = publication_of(report)
    assert row.state == states.PUBLISHED and row.report_version == report.version
    assert citizen(app).get(approved.commune_url(COMMUNE)).status_code == 200
    assert audit_actions() == ["publication.publish", "publication.publish"]
