"""The change feed (``?changed_since=``) of units, indicator groups, indicators, document
groups and documents: what changed after a moment, in the order of change, including
closed units, retired and withdrawn documents and retired groups (on both engines)."""

from __future__ import annotations

from datetime import UTC, date, timedelta, timezone

import pytest
import sqlalchemy as sa

from dantoc import clock
from dantoc.catalogs import services as catalog_services
from dantoc.catalogs.models import AdminUnit
from dantoc.documents import services as document_services
from dantoc.extensions import db
from dantoc.indicators.models import Indicator
from dantoc.indicators.services import indicators as indicator_services
from tests.api_support import PROBLEM, make_client
from tests.documents_support import make_pdf, new_document, new_group, use_storage
from tests.factories import make_questionnaire, make_village, unit


def feed(http, resource: str, since, headers=None, **params) -> list[dict]:
    """Every item of ``resource``'s feed since ``since``, following the cursors."""
    query = {"changed_since": since.isoformat(), "limit": 2} | params
    items, url = [], f"/api/v1/{resource}"
    while url:
        response = http.get(url, query_string=query, headers=headers or {})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items += body["items"]
        url, query = body["next"], None
    return items


@pytest.fixture
def mark(app):
    """A moment after the setup's writes: the feed since then is what a test changed."""
    make_questionnaire()
    make_village("03388-FEED", commune_code="03388")
    db.session.commit()
    return clock.now()


def test_a_closed_unit_is_in_the_feed_with_its_end_date(client, mark):
    assert feed(client, "admin-units", mark) == []
    village = unit("03388-FEED")
    catalog_services.close_unit(village, date(2026, 6, 30))
    db.session.commit()
    items = feed(client, "admin-units", mark)
    assert [(i["code"], i["valid_to"]) for i in items] == [("03388-FEED", "2026-06-30")]
    assert items[0]["updated_at"] >= mark.isoformat().replace("+00:00", "Z")
    # a later moment: nothing again
    assert feed(client, "admin-units", clock.now()) == []


def test_a_new_lineage_link_changes_both_units(client, mark):
    old = unit("03388-FEED")
    catalog_services.close_unit(old, date(2026, 6, 30))
    new = catalog_services.create_unit(code="03388-FEED2", name="Bản Mới", unit_type=old.unit_type,
                                       valid_from=date(2026, 7, 1), parent=old.parent)
    db.session.commit()
    since = clock.now()
    catalog_services.add_lineage(kind="rename", from_unit=old, to_unit=new,
                                 effective_date=date(2026, 7, 1))
    db.session.commit()
    items = {i["code"]: i for i in feed(client, "admin-units", since)}
    assert set(items) == {"03388-FEED", "03388-FEED2"}
    assert items["03388-FEED"]["successors"][0]["unit"] == {"code": "03388-FEED2",
                                                           "valid_from": "2026-07-01"}


def test_indicator_and_group_changes_are_in_their_feeds(client, mark):
    indicator = db.session.scalar(sa.select(Indicator).where(Indicator.code == "health_access")
                                  .order_by(Indicator.id.desc()).limit(1))
    choices = [(c.code, c.label) for c in indicator.choices]
    indicator_services.update_indicator(  # only a choice's label changes
        indicator, group=indicator.group, choices=[(choices[0][0], "Nhãn mới"), *choices[1:]],
        disaggregations=list(indicator.disaggregations),
        **{name: getattr(indicator, name) for name in (
            "code", "name", "value_type", "aggregation", "unit_of_measure", "min_value",
            "max_value", "required", "help_text")})
    db.session.commit()
    items = feed(client, "indicators", mark)
    assert [i["code"] for i in items] == ["health_access"]
    assert items[0]["choices"][0]["label"] == "Nhãn mới"
    assert feed(client, "indicator-groups", mark) == []
    indicator.group.name = "Nhóm đổi tên"
    db.session.commit()
    groups = feed(client, "indicator-groups", mark)
    assert [(g["code"], g["name"]) for g in groups] == [("G1", "Nhóm đổi tên")]


def test_retired_and_withdrawn_documents_and_retired_groups(client, mark):
    group = new_group("Nhóm bỏ")
    kept = new_document(group, "1/QĐ-FEED", "Còn hiệu lực")
    retired = new_document(group, "2/QĐ-FEED", "Bị bãi bỏ")
    withdrawn = new_document(group, "3/QĐ-FEED", "Rút lại")
    new_document(group, "4/QĐ-FEED", "Chưa bao giờ công bố", publish=False)
    internal = new_document(group, "5/QĐ-FEED", "Nội bộ", visibility="internal")
    db.session.commit()
    since = clock.now()
    document_services.change_state(retired, "retire")
    document_services.change_state(withdrawn, "unpublish")
    document_services.change_state(internal, "retire")
    document_services.save_group(group, name=group.name, retired=True)
    db.session.commit()

    listed = {d["number"] for d in feed(client, "documents", mark)}
    assert listed == {"1/QĐ-FEED", "2/QĐ-FEED", "3/QĐ-FEED"}  # never-published: never
    changed = {d["number"]: d for d in feed(client, "documents", since)}
    assert set(changed) == {"2/QĐ-FEED", "3/QĐ-FEED"}  # anonymous: no internal one
    assert changed["2/QĐ-FEED"]["state"] == "retired"
    assert changed["2/QĐ-FEED"]["summary"] == "Bị bãi bỏ"
    assert changed["3/QĐ-FEED"]["state"] == "withdrawn"
    assert changed["3/QĐ-FEED"]["summary"] is None and changed["3/QĐ-FEED"]["files"] == []
    scoped = make_client()[1]
    with_token = {d["number"]: d["state"] for d in feed(client, "documents", since, scoped)}
    assert with_token == {"2/QĐ-FEED": "retired", "3/QĐ-FEED": "withdrawn",
                          "5/QĐ-FEED": "retired"}
    groups = feed(client, "document-groups", since)
    assert [(g["slug"], g["retired"]) for g in groups] == [(group.slug, True)]
    # the plain lists show what a client may copy: published documents, groups in use
    plain = client.get("/api/v1/documents", query_string={"limit": 500}).get_json()["items"]
    assert kept.number in {d["number"] for d in plain}
    assert not {"2/QĐ-FEED", "3/QĐ-FEED"} & {d["number"] for d in plain}
    groups = client.get("/api/v1/document-groups?limit=500").get_json()["items"]
    assert group.slug not in {g["slug"] for g in groups}


def test_the_feed_pages_in_order_of_change_and_a_changed_row_comes_again(client, mark):
    codes = [f"03388-F{n}" for n in range(5)]
    for code in codes:
        make_village(code, commune_code="03388")
    db.session.commit()
    first = client.get("/api/v1/admin-units", query_string={
        "changed_since": mark.isoformat(), "limit": 2}).get_json()
    assert [i["code"] for i in first["items"]] == codes[:2]
    unit(codes[0]).name = "Bản đổi tên"  # changed after its page was read: comes again
    db.session.commit()
    rest = []
    url = first["next"]
    while url:
        body = client.get(url).get_json()
        rest += [i["code"] for i in body["items"]]
        url = body["next"]
    assert rest == [*codes[2:], codes[0]]
    stamps = [i["updated_at"] for i in feed(client, "admin-units", mark)]
    assert stamps == sorted(stamps)


def test_an_offset_is_the_same_moment(client, mark):
    unit("03388-FEED").name = "Bản đổi"
    db.session.commit()
    utc = feed(client, "admin-units", mark)
    hanoi = feed(client, "admin-units", mark.astimezone(timezone(timedelta(hours=7))))
    naive = feed(client, "admin-units", mark.astimezone(UTC).replace(tzinfo=None))
    assert utc == hanoi == naive and len(utc) == 1


@pytest.mark.parametrize("value", ["0", "yesterday", "2026-13-01T00:00:00Z", "1", "2026-01-01",
                                   "0001-01-01T00:00:00+14:00"])
def test_a_bad_moment_is_422(client, value):
    response = client.get("/api/v1/indicators", query_string={"changed_since": value})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert set(response.get_json()["fields"]) == {"changed_since"}


def test_a_cursor_of_the_list_is_refused_by_the_feed_and_back(client, mark):
    for n in range(3):
        make_village(f"03388-C{n}", commune_code="03388")
    db.session.commit()
    listed = client.get("/api/v1/admin-units?limit=1").get_json()["next_cursor"]
    fed = client.get("/api/v1/admin-units", query_string={
        "changed_since": mark.isoformat(), "limit": 1}).get_json()["next_cursor"]
    wrong = [client.get("/api/v1/admin-units", query_string={
        "changed_since": mark.isoformat(), "cursor": listed}),
        client.get("/api/v1/admin-units", query_string={"cursor": fed}),
        client.get("/api/v1/indicators", query_string={"changed_since": mark.isoformat(),
                                                       "cursor": fed})]
    for response in wrong:
        assert response.status_code == 400 and response.get_json()["code"] == "bad_cursor"


def test_a_feed_page_is_304_when_unchanged(client, mark):
    url = "/api/v1/admin-units?changed_since=" + mark.isoformat().replace("+", "%2B")
    unit("03388-FEED").name = "Bản đổi"
    db.session.commit()
    first = client.get(url)
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    unit("03388-FEED").name = "Bản đổi lần hai"
    db.session.commit()
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 200


def test_existing_rows_have_a_change_moment(app):
    """Migration 0018 gave every existing row one (NOT NULL, server default)."""
    missing = db.session.scalar(sa.select(sa.func.count(AdminUnit.id)).where(
        AdminUnit.updated_at.is_(None)))
    assert missing == 0 and db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) > 100


def test_a_new_file_or_link_changes_the_document(client, mark, app, tmp_path):
    use_storage(app, tmp_path)
    group = new_group("Nhóm tệp")
    first = new_document(group, "1/QĐ-TEP", "Có tệp")
    second = new_document(group, "2/QĐ-TEP", "Được hướng dẫn")
    db.session.commit()
    since = clock.now()
    assert feed(client, "documents", since) == []
    document_services.attach_file(first, make_pdf("tep"), "tep.pdf")
    db.session.commit()
    items = feed(client, "documents", since)
    assert [(d["number"], len(d["files"])) for d in items] == [("1/QĐ-TEP", 1)]
    since = clock.now()
    document_services.add_link(second, first, "guides")
    db.session.commit()
    assert {d["number"] for d in feed(client, "documents", since)} == {"1/QĐ-TEP", "2/QĐ-TEP"}
