"""The screens of what arrived from outside (``/received``): the list and a report's page
show labels (unit and form names, "Quý 4/2026", "Thái – Nữ", states in words), never codes;
a DHIS2 draft is accepted or rejected with a reason by the shared workflow core (audited in
the same transaction, one winner of two concurrent decisions), and an accepted one counts
like a pushed report."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.exchange import dhis2, review
from dantoc.exchange.models import DRAFT, RECEIVED, REJECTED, ReceivedReport
from dantoc.exchange.received import payload
from dantoc.extensions import db
from dantoc.refusal import Refusal
from tests.exchange_support import approved_world, bound_client, load_mappings, unit_at
from tests.factories import browser, make_user, officer
from tests.test_reports_support import COMMUNE, OTHER_COMMUNE

QUIET = "03640"  # Xã Khoen On: a commune of province 12 with no report of its own


@pytest.fixture
def world(app, client):
    """Two approved commune reports; the first pushed (received), and DHIS2 values for the
    other commune (with a Thái women figure) and for a quiet commune, imported as drafts."""
    w = approved_world()
    load_mappings(w.world.version.form.catalogue_version.code)
    quiet = unit_at(QUIET)
    dhis2.load_mapping(f"unit_code,unit_valid_from,org_unit\n"
                       f"{QUIET},{quiet.valid_from.isoformat()},OU{QUIET}\n")
    db.session.commit()
    _client, headers = bound_client("12", name="tinh-lai-chau")
    body = payload(db.session.get(type(w.reports[COMMUNE]), w.reports[COMMUNE].id))
    db.session.rollback()
    assert client.post("/api/v1/reports", json=body, headers=headers).status_code == 201
    document = {"dataSet": "dsDanToc001", "completeDate": "2026-12-31", "period": "2026Q4",
                "orgUnit": "OU" + OTHER_COMMUNE, "dataValues": [
                    {"dataElement": "deHouseho01", "value": "21"},
                    {"dataElement": "dePopulat01", "categoryOptionCombo": "cocThaiF001",
                     "value": 4},
                    {"dataElement": "deHouseho01", "orgUnit": "OU" + QUIET, "value": "7"}]}
    response = client.post("/api/v1/dhis2/dataValueSets", json=document, headers=headers)
    assert response.status_code == 201, response.get_json()
    return w


def received(origin: str | None = None, unit_code: str | None = None) -> ReceivedReport:
    db.session.expire_all()
    query = sa.select(ReceivedReport).order_by(ReceivedReport.id)
    if origin:
        query = query.where(ReceivedReport.origin == origin)
    if unit_code:
        query = query.where(ReceivedReport.unit_id == unit_at(unit_code).id)
    return db.session.scalars(query).first()


def words(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", text)


def decisions() -> list[tuple[str, dict, dict]]:
    return [(e.action, e.before, e.after) for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.like("received.%")).where(
            AuditEvent.action.in_(("received.accept", "received.reject")))
        .order_by(AuditEvent.id))]


def reviewer(app, locale: str = "vi"):
    user = make_user("province_officer", unit_code="12")
    return user, browser(app, user, locale=locale)


# -- the list and the page ------------------------------------------------------------------

def test_the_list_shows_names_periods_states_and_dates_in_words(app, world):
    _user, page = reviewer(app)
    response = page.get("/received/")
    assert response.status_code == 200
    text = words(response)
    for name in ("Phường Đoàn Kết", "Xã Mường Kim", "Xã Khoen On", "tinh-lai-chau",
                 "Quý 4/2026", "Đã nhận", "Chờ xem xét", "Giá trị nhập từ DHIS2"):
        assert name in text, name
    assert re.search(r"\b\d\d/\d\d/20\d\d\b", text)  # received date as dd/mm/yyyy
    form_name = world.world.version.form.name
    assert form_name in text
    for code in ("2026-Q4", "2026Q4", COMMUNE, "OU" + QUIET, ">draft<", ">received<"):
        assert code not in response.get_data(as_text=True), code


def test_the_filters_are_the_shared_ones_and_narrow_the_rows(app, world):
    _user, page = reviewer(app, locale="en")
    response = page.get("/received/?state=draft")
    text = words(response)
    assert 'id="state"' in response.get_data(as_text=True)
    assert "Xã Mường Kim" in text and "Xã Khoen On" in text
    assert "Phường Đoàn Kết" not in text
    rows = page.get(f"/received/?form={world.world.version.form.id}",
                    headers={"HX-Request": "true"})
    assert "<html" not in rows.get_data(as_text=True)  # the rows only, for htmx
    assert "Phường Đoàn Kết" in words(rows) and "Xã Khoen On" not in words(rows)


def test_a_report_page_shows_labels_figures_and_provenance(app, world):
    _user, page = reviewer(app)
    pushed = received("push")
    text = words(page.get(f"/received/{pushed.id}"))
    assert "Phường Đoàn Kết" in text and "Quý 4/2026" in text
    assert "Báo cáo đã duyệt do tỉnh gửi lên" in text and "tinh-lai-chau" in text
    assert "Thái – Nữ" in text and "Kinh (Việt) – Nam" in text
    assert "ethnic_group=" not in text and "sex=female" not in text
    assert "Tổng số hộ" in text  # the indicator by its name
    assert re.search(r"Tạo từ 2 báo cáo thôn đã duyệt", text)  # the commune's two villages
    draft = received("dhis2", OTHER_COMMUNE)
    draft_page = page.get(f"/received/{draft.id}")
    text = words(draft_page)
    assert "Thái – Nữ" in text and "31/12/2026" in text and "dsDanToc001" in text
    assert 'id="accept-received"' in draft_page.get_data(as_text=True)
    assert 'id="accept-received"' not in page.get(f"/received/{pushed.id}").get_data(
        as_text=True)  # a pushed report is not reviewed here


def test_reviewing_needs_the_verb_and_the_unit_in_scope(app, world):
    draft = received("dhis2", OTHER_COMMUNE)
    _commune_user, commune = officer(app, "commune_officer", OTHER_COMMUNE)
    assert commune.get("/received/").status_code == 403  # no received.review
    assert commune.post(f"/received/{draft.id}/accept", data={"version": 0}).status_code == 403
    # a reviewer of another commune (the verb, but not its unit)
    other = make_user("province_officer", unit_code=COMMUNE)
    assert browser(app, other).post(f"/received/{draft.id}/accept",
                                    data={"version": 0}).status_code == 403
    assert received("dhis2", OTHER_COMMUNE).state == DRAFT
    listed = words(browser(app, other).get("/received/"))
    assert "Xã Mường Kim" not in listed  # out of scope rows are not listed


# -- the decisions --------------------------------------------------------------------------

def _export(unit_code: str) -> dict:
    values = dhis2.approved_figures(unit_at(unit_code).id, received("dhis2", unit_code).period)
    db.session.rollback()
    return {(ind, key): value for (ind, key), value in values.items()}


def test_accept_makes_the_draft_a_received_report_that_counts_audited(app, world):
    user, page = reviewer(app, locale="en")
    draft = received("dhis2", QUIET)
    assert _export(QUIET) == {}  # a draft never counts
    response = page.post(f"/received/{draft.id}/accept", data={"version": 0})
    assert response.status_code == 303
    accepted = received("dhis2", QUIET)
    assert (accepted.state, accepted.version, accepted.decided_by_id) == (RECEIVED, 1, user.id)
    assert accepted.decided_at is not None
    assert decisions() == [("received.accept", {"state": DRAFT, "version": 0, "reason": None},
                            {"state": RECEIVED, "version": 1, "reason": None,
                             "origin": "dhis2", "figures": 1})]
    assert list(_export(QUIET).values()) == [Decimal(7)]  # used like a pushed report
    # and the page says so, without the decision buttons
    after = page.get(f"/received/{draft.id}").get_data(as_text=True)
    assert "accept-received" not in after and "Received" in after


def test_reject_needs_a_reason_and_keeps_it(app, world):
    user, page = reviewer(app, locale="en")
    draft = received("dhis2", OTHER_COMMUNE)
    refused = page.post(f"/received/{draft.id}/reject", data={"version": 0, "reason": "  "})
    assert refused.status_code == 422
    assert "Please say why the values are rejected" in refused.get_data(as_text=True)
    assert received("dhis2", OTHER_COMMUNE).state == DRAFT and decisions() == []
    with pytest.raises(Refusal) as caught:  # the service itself refuses (the core's rule)
        review.decide(received("dhis2", OTHER_COMMUNE), "reject", user, 0, "")
    assert caught.value.code == "reason_required"
    db.session.rollback()
    done = page.post(f"/received/{draft.id}/reject",
                     data={"version": 0, "reason": "Số hộ lệch với điều tra"})
    assert done.status_code == 303
    rejected = received("dhis2", OTHER_COMMUNE)
    assert (rejected.state, rejected.state_reason) == (REJECTED, "Số hộ lệch với điều tra")
    assert [(a, after["reason"]) for a, _b, after in decisions()] == [
        ("received.reject", "Số hộ lệch với điều tra")]
    assert page.post(f"/received/{draft.id}/accept", data={"version": 1}).status_code == 409


def test_a_second_accept_with_the_same_version_loses_the_claim(app, world):
    user = make_user("province_officer", unit_code="12")
    draft = received("dhis2", QUIET)
    stale = db.session.get(ReceivedReport, draft.id)
    assert (stale.state, stale.version) == (DRAFT, 0)
    db.session.expunge(stale)  # this request's copy, read before the other decision
    db.session.rollback()
    _other, page = reviewer(app)
    assert page.post(f"/received/{draft.id}/accept", data={"version": 0}).status_code == 303
    db.session.add(stale)  # still says draft, version 0: the checks pass, the claim decides
    with pytest.raises(Refusal) as caught:
        review.decide(stale, "accept", user, 0)
    assert caught.value.code == "stale"
    db.session.rollback()
    assert [action for action, _b, _a in decisions()] == ["received.accept"]


def test_two_reviewers_accepting_at_once_have_one_winner(app, world):
    report_id = received("dhis2", QUIET).id
    pages = [reviewer(app, locale="en")[1] for _ in range(2)]
    db.session.rollback()  # the test's session holds no lock during the race
    barrier, statuses = threading.Barrier(2), []

    def send(page):
        barrier.wait()
        statuses.append(page.post(f"/received/{report_id}/accept",
                                  data={"version": 0}).status_code)

    threads = [threading.Thread(target=send, args=(page,)) for page in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [303, 409]
    assert [action for action, _b, _a in decisions()] == ["received.accept"]
    assert received("dhis2", QUIET).version == 1


# -- migration 0027 -------------------------------------------------------------------------

def _before(revision: str) -> str:
    """The revision ``revision`` follows in the migration chain."""
    from pathlib import Path

    from alembic.script import ScriptDirectory

    migrations = Path(__file__).resolve().parent.parent / "migrations"
    return ScriptDirectory(str(migrations)).get_revision(revision).down_revision


def test_migration_0027_keeps_the_received_figures_both_ways(app, world):
    """SQLite rebuilds received_reports to change its constraints; dropping the old table
    would delete the figures (ON DELETE CASCADE) if the migration did not keep them."""
    from flask_migrate import downgrade, upgrade

    def held() -> list[tuple]:
        rows = db.session.execute(sa.text(
            "SELECT f.report_id, f.indicator_id, f.disaggregation, f.value_numeric, r.state "
            "FROM received_figures f JOIN received_reports r ON r.id = f.report_id "
            "ORDER BY f.id")).all()
        db.session.rollback()
        return [tuple(row) for row in rows]

    _user, page = reviewer(app, locale="en")
    rejected = received("dhis2", OTHER_COMMUNE).id
    assert page.post(f"/received/{rejected}/reject",
                     data={"version": 0, "reason": "Sai"}).status_code == 303
    before = held()
    assert len(before) > 5 and {row[4] for row in before} == {RECEIVED, DRAFT, REJECTED}
    db.session.remove()
    downgrade(revision=_before("0027"))  # down through 0027 (and what came after it)
    after_down = held()
    assert [row[:4] for row in after_down] == [row[:4] for row in before]
    assert {row[4] for row in after_down} == {RECEIVED, DRAFT}  # decisions undone
    db.session.remove()
    upgrade()
    assert [row[:4] for row in held()] == [row[:4] for row in before]
    assert received("dhis2", OTHER_COMMUNE).version == 0
