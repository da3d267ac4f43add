"""The upward read service: approved unit reports with their figures (computed by the
reports package) and their provenance, for a token with ``api.reports`` bound to a unit
(on both engines)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dantoc.extensions import db
from dantoc.reports import aggregate, queries
from tests.api_support import PROBLEM, all_pages, make_client
from tests.factories import officer
from tests.test_reports_support import (
    COMMUNE,
    OTHER_COMMUNE,
    make_world,
    put,
    report_of,
    village_values,
)


def approve(app, w, commune_code, commune):
    """The commune officer submits the commune's report, the province approves it."""
    _user, client = officer(app, "commune_officer", commune_code)
    assert client.post(w.report_url(commune, "/submit"), data={"version": "0"}).status_code == 303
    report = report_of(w.version, commune, w.period)
    _boss, theirs = officer(app, "province_officer", "12")
    assert theirs.post(f"/reports/{report.id}/approve",
                       data={"version": "1"}).status_code == 303
    return report_of(w.version, commune, w.period)


@pytest.fixture
def world(app):
    """Two approved commune reports (03388 with two villages, one at its second version;
    03637 with one) and a third form's report only submitted."""
    w = make_world(villages=2, others=1)
    put(w.version, w.villages[0], w.period, village_values(10, 20, 30, poor=1))
    put(w.version, w.villages[1], w.period, village_values(5, 7, 9, poor=2, road=False),
        versions=2)
    put(w.version, w.others[0], w.period, village_values(8, 1, 2, poor=4))
    here = approve(app, w, COMMUNE, w.commune)
    there = approve(app, w, OTHER_COMMUNE, w.others[0].parent)
    return w, here, there


def test_a_province_token_reads_the_approved_reports_of_its_subtree(client, world):
    w, here, there = world
    _client, headers = make_client(unit=w.province)
    items, pages = all_pages(client, "/api/v1/reports", headers, limit=1)
    assert pages == 2 and [i["id"] for i in items] == [here.id, there.id]
    first = items[0]
    assert first == {
        "id": here.id, "form": w.version.form.code, "period": "2026", "period_type": "year",
        "unit": {"code": COMMUNE, "valid_from": w.commune.valid_from.isoformat()},
        "unit_name": w.commune.name, "state": "approved",
        "submitted_at": first["submitted_at"], "approved_at": first["approved_at"],
        "updated_at": first["updated_at"]}
    assert first["approved_at"] >= first["submitted_at"]


def test_figures_are_the_reports_own_and_name_their_village_versions(client, world):
    w, here, _there = world
    _client, headers = make_client(unit=w.province)
    body = client.get(f"/api/v1/reports/{here.id}", headers=headers).get_json()
    expected = aggregate.compute(queries.target_of(here), here)
    figures = {(f["indicator"], f["disaggregation"]): f for f in body["figures"]}
    assert len(figures) == len(expected.figures)
    assert figures[("households", "")] == {"indicator": "households", "disaggregation": "",
                                           "value": "15", "villages": 2}
    assert Decimal(figures[("households", "")]["value"]) == expected.value("households")
    assert figures[("population", "ethnic_group=01;sex=male")]["value"] == "27"
    assert figures[("road_hardened", "")]["value"] == "1"  # villages that answered yes
    assert body["not_aggregated"] == ["health_access"]
    assert body["catalogue_version"] == w.version.form.catalogue_version.code
    assert sorted((s["village"]["code"], s["submission_version"], s["via"])
                  for s in body["sources"]) == sorted(
        [(w.villages[0].code, 1, None), (w.villages[1].code, 2, None)])


def test_a_commune_token_sees_only_its_own_subtree(client, world):
    w, here, there = world
    _client, headers = make_client(unit=w.others[0].parent)
    items = client.get("/api/v1/reports", headers=headers).get_json()["items"]
    assert [i["id"] for i in items] == [there.id]
    outside = client.get(f"/api/v1/reports/{here.id}", headers=headers)
    assert outside.status_code == 404 and outside.mimetype == PROBLEM


def test_filters_by_form_period_and_unit(client, world):
    w, here, there = world
    _client, headers = make_client(unit=w.province)

    def ids(**params):
        body = client.get("/api/v1/reports", query_string=params, headers=headers).get_json()
        return [i["id"] for i in body["items"]]

    assert ids(form=w.version.form.code, period="2026") == [here.id, there.id]
    assert ids(period="2025") == [] and ids(form="ZZ-NONE") == []
    assert ids(unit=COMMUNE) == [here.id]
    assert ids(unit=COMMUNE, unit_valid_from=w.commune.valid_from.isoformat()) == [here.id]
    assert ids(unit=COMMUNE, unit_valid_from="2000-01-01") == []
    bad = client.get("/api/v1/reports?unit_valid_from=0", headers=headers)
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"unit_valid_from"}


def test_only_approved_reports_are_shown(client, world, app):
    w, here, _there = world
    _boss, theirs = officer(app, "province_officer", "12")
    assert theirs.post(f"/reports/{here.id}/reopen", data={
        "version": str(report_of(w.version, w.commune, w.period).version),
        "reason": "Cần kiểm tra lại"}).status_code == 303
    _client, headers = make_client(unit=w.province)
    assert here.id not in [i["id"] for i in client.get(
        "/api/v1/reports", headers=headers).get_json()["items"]]
    assert client.get(f"/api/v1/reports/{here.id}", headers=headers).status_code == 404


def test_a_client_bound_to_no_unit_or_without_the_verb_is_refused(client, world):
    _w, here, _there = world
    _nowhere, headers = make_client()  # api_client role, no unit
    response = client.get("/api/v1/reports", headers=headers)
    assert response.status_code == 403 and response.mimetype == PROBLEM
    assert response.get_json()["detail"].startswith("Hệ thống kết nối này không gắn với")
    _reader, no_verb = make_client(role="department_officer", unit=_w.province)
    refused = client.get(f"/api/v1/reports/{here.id}", headers=no_verb)
    assert refused.status_code == 403 and refused.get_json()["code"] == "no_authority"
    assert client.get("/api/v1/reports").status_code == 401  # unpublished figures: a token
    _admin, unscoped = make_client(role="admin")  # the unscoped administrator role
    assert client.get(f"/api/v1/reports/{here.id}", headers=unscoped).status_code == 200


def test_a_report_is_304_when_unchanged_and_private(client, world):
    w, here, _there = world
    _client, headers = make_client(unit=w.province)
    url = f"/api/v1/reports/{here.id}"
    first = client.get(url, headers=headers)
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(url, headers=headers | {"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    cursor = client.get("/api/v1/admin-units?limit=1").get_json()["next_cursor"]
    crossed = client.get(f"/api/v1/reports?cursor={cursor}", headers=headers)
    assert crossed.status_code == 400 and crossed.get_json()["code"] == "bad_cursor"
    db.session.rollback()
