"""The read services of /api/v1/: shapes, identifiers, pagination (on both engines)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from dantoc.catalogs.models import AdminUnit, EthnicGroup, Religion, UnitLineage
from dantoc.extensions import db
from dantoc.indicators.models import Form, FormVersion, Indicator
from tests.api_support import PROBLEM, all_pages, make_client
from tests.factories_submissions import make_questionnaire

LISTS = ("catalogue-versions", "indicator-groups", "indicators", "ethnic-groups", "religions",
         "admin-units", "report-forms", "questionnaires")


@pytest.fixture
def token(app):
    return make_client()[1]


@pytest.fixture
def forms(app):
    """A published questionnaire, and a report form (biểu) with a published version 1 and a
    draft version 2 (never shown)."""
    phieu = make_questionnaire()
    bieu = make_questionnaire(sections=1)
    bieu.form.kind = "bieu"
    db.session.add(FormVersion(form=bieu.form, number=2, status="draft",
                               fill_level=bieu.fill_level, period_type="year"))
    db.session.commit()
    return phieu, bieu


def test_ethnic_groups_have_both_code_lists(client, token):
    items, _pages = all_pages(client, "/api/v1/ethnic-groups", token, limit=500)
    assert len(items) == db.session.scalar(sa.select(sa.func.count(EthnicGroup.id))) == 54
    by_name = {item["name"]: item for item in items}
    kinh = by_name["Kinh"]
    assert (kinh["code"], kinh["code_2008"]) == ("01", "01")
    assert set(kinh) == {"code", "code_2008", "name", "common_name", "other_names",
                         "language_family", "language_group",
                         "lives_in_community_in_province", "note"}
    stored = db.session.scalar(sa.select(EthnicGroup).where(EthnicGroup.code == "04"))
    assert next(i for i in items if i["code"] == "04")["code_2008"] == stored.code_2008


def test_religions_keep_the_ones_without_a_code(client, token):
    items, _ = all_pages(client, "/api/v1/religions", token, limit=500)
    stored = list(db.session.scalars(sa.select(Religion)))
    assert {(i["code"], i["name"]) for i in items} == {(r.code, r.name) for r in stored}
    assert any(i["code"] is None for i in items)


def test_admin_units_carry_dates_parent_and_lineage(client, token):
    link = db.session.scalar(sa.select(UnitLineage).order_by(UnitLineage.id).limit(1))
    assert link is not None, "the reference catalogs carry the 2025 lineage"
    items, _ = all_pages(client, "/api/v1/admin-units", token, limit=500)
    assert len(items) == db.session.scalar(sa.select(sa.func.count(AdminUnit.id)))
    by_key = {(i["code"], i["valid_from"]): i for i in items}
    old, new = link.from_unit, link.to_unit
    old_item = by_key[(old.code, old.valid_from.isoformat())]
    new_item = by_key[(new.code, new.valid_from.isoformat())]
    assert {"kind": link.kind, "unit": {"code": new.code,
                                        "valid_from": new.valid_from.isoformat()},
            "effective_date": link.effective_date.isoformat(),
            "share": None if link.share is None else format(link.share.normalize(), "f"),
            "legal_basis": link.legal_basis} in old_item["successors"]
    assert any(p["unit"] == {"code": old.code, "valid_from": old.valid_from.isoformat()}
               for p in new_item["predecessors"])
    assert old_item["valid_to"] == old.valid_to.isoformat()
    child = next(u for u in items if u["parent"] is not None)
    assert (child["parent"]["code"], child["parent"]["valid_from"]) in by_key


def test_admin_units_valid_on_a_day_and_at_a_level(client, token):
    day = date(2025, 7, 1)
    response = client.get(f"/api/v1/admin-units?on={day}&level=commune&limit=500",
                          headers=token)
    items = response.get_json()["items"]
    assert items and all(u["level"] == "commune" for u in items)
    assert all(u["valid_from"] <= day.isoformat() and (
        u["valid_to"] is None or u["valid_to"] >= day.isoformat()) for u in items)
    before = client.get("/api/v1/admin-units?on=2025-06-30&level=commune&limit=500",
                        headers=token).get_json()["items"]
    assert {u["code"] for u in before} != {u["code"] for u in items}


def test_indicators_with_their_catalogue_version(client, token, forms):
    phieu, _bieu = forms
    code = phieu.form.catalogue_version.code
    body = client.get(f"/api/v1/indicators?catalogue_version={code}", headers=token).get_json()
    stored = list(db.session.scalars(sa.select(Indicator).where(
        Indicator.catalogue_version_id == phieu.form.catalogue_version_id)))
    assert {i["code"] for i in body["items"]} == {i.code for i in stored}
    assert all(i["catalogue_version"] == code and i["group"] == "G1" for i in body["items"])
    with_dims = next(i for i in body["items"] if i["disaggregations"])
    sex = next(d for d in with_dims["disaggregations"] if d["code"] == "sex")
    assert sex["options"] == [{"code": "male", "label": "Nam"},
                              {"code": "female", "label": "Nữ"}]
    groups = client.get(f"/api/v1/indicator-groups?catalogue_version={code}",
                        headers=token).get_json()["items"]
    assert groups[0].pop("updated_at").endswith("Z")
    assert groups == [{"code": "G1", "name": "Nhóm thử", "catalogue_version": code,
                       "department": None, "position": 0}]
    versions = client.get("/api/v1/catalogue-versions", headers=token).get_json()["items"]
    assert {"code": code, "name": phieu.form.catalogue_version.name, "legal_basis": None,
            "valid_from": "2025-07-01", "valid_to": None} in versions


def test_forms_list_published_versions_and_their_layout(client, token, forms):
    phieu, bieu = forms
    questionnaires = client.get("/api/v1/questionnaires", headers=token).get_json()["items"]
    report_forms = client.get("/api/v1/report-forms", headers=token).get_json()["items"]
    assert [f["code"] for f in questionnaires] == [phieu.form.code]
    assert [f["code"] for f in report_forms] == [bieu.form.code]
    assert [v["number"] for v in report_forms[0]["versions"]] == [1]  # the draft is hidden
    version = report_forms[0]["versions"][0]
    assert version["status"] == "published" and version["fill_level"] == "village"
    assert version["published_at"].startswith(str(bieu.published_at.year))

    layout = client.get(f"/api/v1/questionnaires/{phieu.form.code}/versions/1",
                        headers=token).get_json()
    assert layout["form"] == phieu.form.code and layout["kind"] == "phieu"
    assert [s["position"] for s in layout["sections"]] == [1, 2]
    placed = [item["indicator"] for s in layout["sections"] for item in s["items"]]
    stored = db.session.scalars(sa.select(Indicator.code).join(
        Indicator.group).where(Indicator.catalogue_version_id ==
                               phieu.form.catalogue_version_id))
    assert sorted(placed) == sorted(stored)


@pytest.mark.parametrize("url", [
    "/api/v1/report-forms/{bieu}/versions/2",  # a draft
    "/api/v1/questionnaires/{bieu}/versions/1",  # a biểu is not a phiếu
    "/api/v1/report-forms/NO-SUCH/versions/1",
])
def test_unknown_draft_or_other_kind_versions_are_not_found(client, token, forms, url):
    response = client.get(url.format(bieu=forms[1].form.code), headers=token)
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert response.get_json()["code"] == "not_found"


@pytest.mark.parametrize("resource", LISTS)
def test_pages_cover_every_item_once(client, token, forms, resource):
    whole = client.get(f"/api/v1/{resource}?limit=500", headers=token).get_json()
    assert whole["next_cursor"] is None and whole["items"]
    paged, pages = all_pages(client, f"/api/v1/{resource}", token, limit=2)
    assert paged == whole["items"]
    assert pages == -(-len(whole["items"]) // 2)  # a full last page is known to be the last


def test_a_row_added_meanwhile_comes_after_the_cursor(client, token):
    """What a resumed sync relies on: rows already read never move to a later page."""
    first = client.get("/api/v1/ethnic-groups?limit=50", headers=token).get_json()
    db.session.add(EthnicGroup(code="99", code_2008="99", name="Thử nghiệm"))
    db.session.commit()
    rest = client.get(first["next"], headers=token).get_json()
    assert len(rest["items"]) == 5 and rest["items"][-1]["code"] == "99"
    assert rest["next_cursor"] is None
    assert not {i["code"] for i in first["items"]} & {i["code"] for i in rest["items"]}


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"),
    ("color=red", "color"), ("cursor=" + "x" * 201, "cursor"), ("cursor=a%20b", "cursor"),
])
def test_bad_parameters_are_refused_with_the_field(client, token, query, field):
    response = client.get(f"/api/v1/religions?{query}", headers=token)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["code"] == "invalid" and field in problem["fields"]


@pytest.mark.parametrize("day", ["0", "2025-7-1", "01/07/2025", "2025-02-30"])
def test_a_day_is_an_iso_date(client, token, day):
    response = client.get(f"/api/v1/admin-units?on={day}", headers=token)
    assert response.status_code == 422 and response.get_json()["fields"].keys() == {"on"}


def test_a_cursor_from_another_resource_or_forged_is_refused(client, token):
    cursor = client.get("/api/v1/religions?limit=1", headers=token).get_json()["next_cursor"]
    for url in (f"/api/v1/ethnic-groups?cursor={cursor}",
                f"/api/v1/religions?cursor={cursor[:-2]}xx"):
        response = client.get(url, headers=token)
        assert response.status_code == 400 and response.mimetype == PROBLEM
        assert response.get_json()["code"] == "bad_cursor"


def test_the_number_of_queries_does_not_grow_with_the_page(app, client, token, forms):
    """Each page is a fixed number of queries (no query per row)."""
    statements = []

    def count(*_args):
        statements.append(1)

    client.get("/api/v1/religions", headers=token)  # the client's first use is recorded
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        counts = {}
        for limit in (2, 200):
            for resource in ("admin-units", "indicators", "questionnaires"):
                statements.clear()
                assert client.get(f"/api/v1/{resource}?limit={limit}",
                                  headers=token).status_code == 200
                counts[(resource, limit)] = len(statements)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    for resource in ("admin-units", "indicators", "questionnaires"):
        assert counts[(resource, 200)] == counts[(resource, 2)], counts


def test_forms_model_has_no_draft_only_forms(client, token, forms):
    draft_only = Form(code="DRAFT-ONLY", kind="bieu", name="Nháp",
                      catalogue_version_id=forms[0].form.catalogue_version_id)
    db.session.add(draft_only)
    db.session.flush()
    db.session.add(FormVersion(form=draft_only, number=1, status="draft",
                               fill_level=forms[0].fill_level, period_type="year"))
    db.session.commit()
    codes = [f["code"] for f in client.get("/api/v1/report-forms",
                                           headers=token).get_json()["items"]]
    assert "DRAFT-ONLY" not in codes


@pytest.mark.parametrize("encoding", ["identity", "gzip", "br"])
def test_an_unchanged_page_is_304_with_its_etag(client, token, encoding):
    token = token | {"Accept-Encoding": encoding}
    first = client.get("/api/v1/religions", headers=token)
    etag = first.headers["ETag"]
    assert first.headers.get("Content-Encoding", "identity") == encoding
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in first.headers["Vary"]
    again = client.get("/api/v1/religions", headers=token | {"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    db.session.add(Religion(code="99", name="Thử nghiệm"))
    db.session.commit()
    changed = client.get("/api/v1/religions", headers=token | {"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


@pytest.mark.parametrize("number", ["0", "32768", "18560498089215121162240"])
def test_a_version_number_out_of_range_is_not_found(client, token, forms, number):
    """Not a 500: the number is bounded like its column (found by schemathesis)."""
    response = client.get(f"/api/v1/questionnaires/{forms[0].form.code}/versions/{number}",
                          headers=token)
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
