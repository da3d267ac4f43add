"""Province staff screens for the catalogs: pages, fragments, permissions, writes over HTTP."""

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.catalogs import queries, services
from dantoc.catalogs.models import UNKNOWN_START, AdminUnit, Department, UnitLineage, UnitType
from dantoc.extensions import db
from tests.factories import make_user, unit

BEFORE, AFTER = date(2025, 6, 30), date(2025, 7, 1)
VILLAGE = {"code": "03388-001", "name": "Tổ dân phố 1", "parent_code": "03388",
           "valid_from": "2025-07-01", "valid_to": "", "aliases": "", "source": "Thử"}


@pytest.fixture
def staff(login):
    """A signed-in province officer (catalog.manage), with English pages."""
    user = make_user("province_officer")
    user.locale = "en"  # the profile's language (the browser's is not read)
    db.session.commit()
    return login(user)


@pytest.fixture
def commune_staff(login):
    """A signed-in commune officer: may read catalogs, not change them."""
    return login(make_user("commune_officer", unit_code="03388"))


def type_id(code: str) -> int:
    return db.session.scalar(sa.select(UnitType.id).filter_by(code=code))


def body_rows(html: str) -> int:
    tbody = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return tbody.count("<tr")


def actions() -> list[str]:
    return db.session.scalars(sa.select(AuditEvent.action)).all()


# Reading ---------------------------------------------------------------------------------------

def test_units_page_defaults_to_today(staff):
    html = staff.get("/catalogs/units").get_data(as_text=True)
    assert "<html" in html and 'id="unit-rows"' in html
    assert "Phường Đoàn Kết" in html and "Huyện Tam Đường" not in html
    assert "39 units" in html  # province + 38 communes


@pytest.mark.parametrize(("query", "present", "absent"), [
    ("q=doan+ket&on=2025-06-30", ["Phường Đoàn Kết", "03389"], ["Phường Tân Phong"]),
    ("q=DOÀN&on=2025-07-01", ["Phường Đoàn Kết", "03388"], ["03389"]),
    ("q=hua+bum&on=", ["Xã Hua Bun", "Xã Hua Bum"], ["Mường Tè"]),
    ("level=district&on=2025-06-30", ["Huyện Nậm Nhùn", "8 units"], ["Xã "]),
])
def test_search_and_filters(staff, query, present, absent):
    html = staff.get(f"/catalogs/units?{query}", headers={"HX-Request": "true"}).get_data(
        as_text=True)
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html


def test_pagination(staff):
    first = staff.get("/catalogs/units?on=2025-06-30").get_data(as_text=True)
    assert "115 units" in first and "Page 1 of 5" in first and body_rows(first) == 25
    assert "page=2" in first and "on=2025-06-30" in first
    last = staff.get("/catalogs/units?on=2025-06-30&page=5").get_data(as_text=True)
    assert body_rows(last) == 15
    everything = staff.get("/catalogs/units?on=").get_data(as_text=True)
    assert "153 units" in everything


@pytest.mark.parametrize(("headers", "full"), [
    ({}, True),
    ({"HX-Request": "true"}, False),
    ({"HX-Request": "true", "HX-Boosted": "true"}, True),
])
@pytest.mark.parametrize("url", ["/catalogs/units?q=lai", "/catalogs/ethnic-groups?q=mong"])
def test_fragment_or_full_page(staff, url, headers, full):
    response = staff.get(url, headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("<html" in html) is full
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(("day", "present", "absent"), [
    ("2025-06-30", ["Huyện Tam Đường", "Phường Quyết Tiến", "Cấp huyện"], ["Xã Than Uyên"]),
    ("2025-07-01", ["Phường Đoàn Kết", "Phường Tân Phong", "Cấp xã"], ["Huyện", "Cấp huyện"]),
])
def test_tree_on_a_date(staff, day, present, absent):
    html = staff.get(f"/catalogs/units/tree?on={day}").get_data(as_text=True)
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html.split("<main", 1)[1]


def test_unit_detail_shows_versions_and_lineage(staff):
    old = queries.resolve("03388", BEFORE)
    html = staff.get(f"/catalogs/units/{old.id}").get_data(as_text=True)
    assert "Phường Quyết Tiến" in html and "Went into" in html and "Phường Đoàn Kết" in html
    assert "Huyện" not in html or "Thành phố Lai Châu" in html  # its parent, the city
    new = queries.resolve("03388", AFTER)
    html = staff.get(f"/catalogs/units/{new.id}").get_data(as_text=True)
    assert "Formed from" in html
    for name in ("Phường Quyết Thắng", "Xã Sùng Phài", "Xã Lả Nhì Thàng"):
        assert name in html
    assert staff.get("/catalogs/units/999999").status_code == 404


def test_lists_and_overview(staff):
    html = staff.get("/catalogs/ethnic-groups?q=meo").get_data(as_text=True)
    assert "HMông" in html and "1 ethnic group" in html
    html = staff.get("/catalogs/religions").get_data(as_text=True)
    assert html.count(">yes<") == 16 and "Mặc Môn" in html
    html = staff.get("/catalogs/").get_data(as_text=True)
    assert "54 ethnic groups" in html and "16 recognised religions" in html
    response = staff.get("/catalogs/import/units.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).lstrip("\ufeff").startswith("code,name,unit_type")


def test_sample_units_are_marked(staff):
    services.create_unit(code="S-1", name="Bản Mẫu", unit_type=db.session.get(
        UnitType, type_id("ban")), parent=unit("03388"), valid_from=AFTER, is_sample=True)
    db.session.commit()
    html = staff.get("/catalogs/units?q=ban+mau").get_data(as_text=True)
    assert 'class="sample"' in html and "sample data" in html


# Writing ---------------------------------------------------------------------------------------

def test_create_a_village(staff):
    response = staff.post("/catalogs/units/new", data={**VILLAGE, "unit_type": type_id(
        "to_dan_pho"), "is_sample": "y"})
    assert response.status_code == 303
    created = queries.resolve("03388-001", AFTER)
    assert response.headers["Location"].endswith(f"/catalogs/units/{created.id}")
    assert created.parent.name == "Phường Đoàn Kết" and created.is_sample
    event = db.session.scalar(sa.select(AuditEvent).filter_by(action="catalog.unit.create"))
    assert event.object_id == str(created.id) and event.actor_name.startswith("province")


@pytest.mark.parametrize(("changes", "words"), [
    ({"code": "03388", "unit_type": "phuong", "parent_code": "12"}, "must not overlap"),
    ({"parent_code": "99999"}, "No unit has the code 99999"),
    ({"valid_from": "2024-01-01"}, "exists only"),
    ({"valid_to": "2020-01-01"}, "must not be before"),
])
def test_create_refused_with_a_message_at_the_field(staff, changes, words):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit))
    data = {**VILLAGE, "unit_type": type_id("ban"), **changes}
    data["unit_type"] = type_id(data["unit_type"]) if isinstance(data["unit_type"], str) else \
        data["unit_type"]
    response = staff.post("/catalogs/units/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and words in html and 'class="err"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == before
    assert "catalog.unit.create" not in actions()


def test_edit_and_close(staff):
    staff.post("/catalogs/units/new", data={**VILLAGE, "unit_type": type_id("to_dan_pho")})
    village = queries.resolve("03388-001", AFTER)
    form = staff.get(f"/catalogs/units/{village.id}/edit").get_data(as_text=True)
    assert 'value="03388-001"' in form and 'value="03388"' in form
    response = staff.post(f"/catalogs/units/{village.id}/edit", data={
        **VILLAGE, "name": "Tổ dân phố Một", "unit_type": type_id("to_dan_pho")})
    assert response.status_code == 303
    response = staff.post(f"/catalogs/units/{village.id}/close", data={"valid_to": "2026-01-31"})
    assert response.status_code == 303
    db.session.expire_all()
    village = db.session.get(AdminUnit, village.id)
    assert (village.name, village.valid_to) == ("Tổ dân phố Một", date(2026, 1, 31))
    assert {"catalog.unit.update", "catalog.unit.close"} <= set(actions())


def test_edit_a_reference_unit_keeps_its_unresearched_start(staff):
    old = queries.resolve("03448", BEFORE)
    form = staff.get(f"/catalogs/units/{old.id}/edit").get_data(as_text=True)
    assert 'name="valid_from" type="date" value=""' in form
    response = staff.post(f"/catalogs/units/{old.id}/edit", data={
        "code": "03448", "name": old.name, "unit_type": old.unit_type_id, "parent_code": "107",
        "valid_from": "", "valid_to": "2025-06-30", "aliases": "Xã Pa Vệ Sủ; Xã Pa Ve Su",
        "source": old.source})
    assert response.status_code == 303
    db.session.expire_all()
    old = db.session.get(AdminUnit, old.id)
    assert (old.valid_from, old.aliases) == (UNKNOWN_START, "Xã Pa Vệ Sủ; Xã Pa Ve Su")
    assert old.parent.code == "107" and "catalog.unit.update" in actions()


def test_closing_a_commune_with_villages_is_refused(staff):
    staff.post("/catalogs/units/new", data={**VILLAGE, "unit_type": type_id("to_dan_pho")})
    commune = unit("03388")
    html = staff.post(f"/catalogs/units/{commune.id}/close",
                      data={"valid_to": "2025-12-31"}).get_data(as_text=True)
    assert "close or move it first" in html
    db.session.expire_all()
    assert unit("03388").valid_to is None


def test_record_a_lineage_link(staff):
    staff.post("/catalogs/units/new", data={**VILLAGE, "unit_type": type_id("to_dan_pho")})
    staff.post("/catalogs/units/new", data={**VILLAGE, "code": "03388-002", "name": "Tổ 2",
                                            "valid_from": "2026-01-01",
                                            "unit_type": type_id("to_dan_pho")})
    source = queries.resolve("03388-001", AFTER)
    bad = staff.post(f"/catalogs/units/{source.id}/lineage", data={
        "kind": "split", "to_code": "NOPE", "effective_date": "2026-01-01", "share": "0.5"})
    assert "does not exist" in bad.get_data(as_text=True)
    response = staff.post(f"/catalogs/units/{source.id}/lineage", data={
        "kind": "split", "to_code": "03388-002", "effective_date": "2026-01-01",
        "share": "0.5", "legal_basis": "QĐ thử"})
    assert response.status_code == 303
    link = db.session.scalar(sa.select(UnitLineage).filter_by(from_unit_id=source.id))
    assert link.to_unit.code == "03388-002" and "catalog.lineage.create" in actions()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_over_http(staff, fmt):
    import openpyxl

    rows = [["code", "name", "unit_type", "parent_code", "valid_from"],
            ["03388-001", "Tổ dân phố 1", "Tổ dân phố", "03388", "2025-07-01"],
            ["03408-001", "Bản Thử", "Bản", "03408", "2025-07-01"]]
    if fmt == "csv":
        data = "\n".join(",".join(r) for r in rows).encode()
    else:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        data = buffer.getvalue()
    response = staff.post("/catalogs/import", data={"kind": "units", "file": (
        io.BytesIO(data), f"villages.{fmt}")}, content_type="multipart/form-data")
    assert response.status_code == 303
    assert "2 new, 0 updated" in staff.get("/catalogs/import").get_data(as_text=True)
    assert queries.resolve("03408-001", AFTER).parent.code == "03408"
    assert actions().count("catalog.unit.create") == 2 and "catalog.import" in actions()


def test_import_refused_over_http_lists_lines(staff):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit))
    data = ("code,name,unit_type,parent_code,valid_from\n"
            "03388-001,Tổ 1,Tổ dân phố,03388,2025-07-01\n"
            "03388-002,Tổ 2,Tổ dân phố,03388,not-a-date\n").encode()
    response = staff.post("/catalogs/import", data={"kind": "units", "file": (
        io.BytesIO(data), "villages.csv")}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Line 3, valid_from" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == before
    assert "catalog.import" not in actions()


def test_departments(staff):
    response = staff.post("/catalogs/departments/new", data={"code": "P-CS",
                                                             "name": "Phòng Chính sách"})
    assert response.status_code == 303
    assert "Phòng Chính sách" in staff.get("/catalogs/departments").get_data(as_text=True)
    again = staff.post("/catalogs/departments/new", data={"code": "P-CS", "name": "Again"})
    assert "already used" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Department)) == 1
    assert actions().count("catalog.department.create") == 1


# Permissions -----------------------------------------------------------------------------------

READ_URLS = ["/catalogs/", "/catalogs/units", "/catalogs/units/tree", "/catalogs/ethnic-groups",
             "/catalogs/religions", "/catalogs/departments"]
WRITES = [("get", "/catalogs/units/new"), ("post", "/catalogs/units/new"),
          ("get", "/catalogs/import"), ("post", "/catalogs/import"),
          ("post", "/catalogs/departments/new"), ("post", "/catalogs/units/{id}/close"),
          ("post", "/catalogs/units/{id}/lineage"), ("get", "/catalogs/units/{id}/edit")]


@pytest.mark.parametrize("url", [*READ_URLS, "/catalogs/units/new", "/catalogs/import"])
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]


@pytest.mark.parametrize(("method", "url"), WRITES)
def test_reader_cannot_write(app, commune_staff, method, url):
    url = url.format(id=unit("03388").id)
    response = getattr(commune_staff, method)(url, data={"code": "X", "name": "X"})
    assert response.status_code == 403
    assert [a for a in actions() if a.startswith("catalog.") and a != "catalog.reference.load"
            ] == []


@pytest.mark.parametrize("url", READ_URLS)
def test_reader_can_read_and_village_head_cannot(app, login, url):
    reader = login(make_user("commune_officer", unit_code="03388"))
    assert reader.get(url).status_code == 200
    reader.post("/accounts/logout")
    head = login(make_user("village_head", unit_code="03388"))
    assert head.get(url).status_code == 403


def test_reader_sees_no_write_buttons(commune_staff):
    html = commune_staff.get(f"/catalogs/units/{unit('03388').id}").get_data(as_text=True)
    assert "/edit" not in html and "/lineage" not in html
    assert not re.search(r'href="/catalogs/import"', html)
