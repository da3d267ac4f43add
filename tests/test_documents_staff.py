"""Staff screens: documents, groups and notices are created, changed, published and retired
through the views, audited, within the person's department or units."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from dantoc import clock
from dantoc.audit.models import AuditEvent
from dantoc.catalogs.models import Department
from dantoc.demo.units import current_communes
from dantoc.documents import services
from dantoc.documents.models import Announcement, Document, DocumentFile, DocumentLink
from dantoc.extensions import db
from tests.documents_support import make_pdf, new_document, new_group, use_storage
from tests.factories import make_user

FORM = {"number": "12/QĐ-UBND", "doc_type": "quyet_dinh", "issuer": "UBND tỉnh Lai Châu",
        "signer": "", "issued_on": "2026-03-02", "effective_on": "2026-03-02",
        "validity": "in_force", "validity_changed_on": "", "summary": "Về việc hỗ trợ đồng bào",
        "field": "Chính sách dân tộc", "visibility": "public", "source": ""}


@pytest.fixture
def departments(app):
    found = {}
    for code in ("d1", "d2"):
        found[code] = Department(code=f"zz-{code}", name=f"Phòng {code}")
        db.session.add(found[code])
    db.session.flush()
    return found


@pytest.fixture
def groups(app, departments, tmp_path):
    use_storage(app, tmp_path)
    found = {"d1": new_group("Nhóm d1", departments["d1"].id),
             "d2": new_group("Nhóm d2", departments["d2"].id)}
    db.session.commit()
    return found


def actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_create_edit_publish_unpublish_retire(client, login, groups):
    login(make_user("province_officer"))
    response = client.post("/documents/new", data=FORM | {"group": groups["d1"].id})
    assert response.status_code == 303
    document = db.session.scalar(sa.select(Document).where(Document.number == "12/QĐ-UBND"))
    assert (document.state, document.signer, document.slug) == (
        "draft", None, "quyet-dinh-12-qd-ubnd")
    assert client.get("/van-ban/quyet-dinh-12-qd-ubnd").status_code == 404

    url = f"/documents/{document.id}"
    assert client.post(url, data=FORM | {"group": groups["d1"].id, "signer": "Lê Văn A"}
                       ).status_code == 303
    assert client.post(f"{url}/state", data={"action": "publish"}).status_code == 303
    assert client.get("/van-ban/quyet-dinh-12-qd-ubnd").status_code == 200
    assert client.post(f"{url}/state", data={"action": "unpublish"}).status_code == 303
    assert client.get("/van-ban/quyet-dinh-12-qd-ubnd").status_code == 404
    assert client.post(f"{url}/state", data={"action": "retire"}).status_code == 303
    refused = client.post(f"{url}/state", data={"action": "publish"})
    assert refused.status_code == 409
    db.session.expire_all()
    assert document.state == "retired"
    assert actions()[-5:] == ["document.create", "document.update", "document.publish",
                              "document.unpublish", "document.retire"]
    update = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "document.update"))
    assert (update.before["signer"], update.after["signer"]) == (None, "Lê Văn A")


@pytest.mark.parametrize(("changes", "message"), [
    ({"number": ""}, 'id="number-err"'),
    ({"effective_on": "2026-01-01"}, "không thể có hiệu lực trước ngày ban hành"),
    ({"validity": "", "validity_changed_on": "2026-04-01"}, "tình trạng hiệu lực đã thay đổi"),
    ({"doc_type": "bogus"}, 'id="doc_type-err"'),
])
def test_bad_input_is_refused_with_a_message_and_nothing_kept(client, login, groups, changes,
                                                              message):
    login(make_user("province_officer"))
    response = client.post("/documents/new", data=FORM | {"group": groups["d1"].id} | changes)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0


def test_the_same_number_twice_is_refused(client, login, groups):
    login(make_user("province_officer"))
    client.post("/documents/new", data=FORM | {"group": groups["d1"].id})
    again = client.post("/documents/new", data=FORM | {"group": groups["d2"].id})
    assert "Đã có văn bản khác mang số ký hiệu 12/QĐ-UBND" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 1


def test_department_staff_manage_only_their_groups(client, login, groups, departments):
    own = new_document(groups["d1"], "1/QĐ-SDTTG", "Văn bản của phòng d1")
    other = new_document(groups["d2"], "2/QĐ-SDTTG", "Văn bản của phòng d2")
    db.session.commit()
    login(make_user("province_officer", department_id=departments["d1"].id))
    listing = client.get("/documents/").get_data(as_text=True)
    assert "1/QĐ-SDTTG" in listing and "2/QĐ-SDTTG" not in listing
    assert client.get(f"/documents/{own.id}").status_code == 200
    assert client.get(f"/documents/{other.id}").status_code == 403
    assert client.post(f"/documents/{other.id}/state",
                       data={"action": "retire"}).status_code == 403
    moved = client.post("/documents/new", data=FORM | {"group": groups["d2"].id})
    assert moved.status_code == 422  # not a group they may choose
    assert db.session.scalar(sa.select(Document.id).where(
        Document.number == "12/QĐ-UBND")) is None
    db.session.expire_all()
    assert other.state == "published"


def test_people_without_the_verb_are_refused(client, login, groups):
    document = new_document(groups["d1"], "3/QĐ-SDTTG", "Văn bản")
    db.session.commit()
    login(make_user("commune_officer", unit_code="03388"))
    assert client.get("/documents/").status_code == 403
    assert client.get(f"/documents/{document.id}").status_code == 403


def test_upload_through_the_screen(app, client, login, groups, tmp_path):
    document = new_document(groups["d1"], "4/QĐ-SDTTG", "Văn bản có tệp")
    db.session.commit()
    login(make_user("province_officer"))
    url = f"/documents/{document.id}/files"
    exe = client.post(url, data={"file": (io.BytesIO(b"MZ" + b"\0" * 100), "de-an.pdf")},
                      content_type="multipart/form-data")
    assert exe.status_code == 422
    assert "Chỉ nhận tệp PDF, Word (DOC, DOCX) và Excel (XLSX)." in exe.get_data(as_text=True)
    assert not (tmp_path / "documents").exists()
    # larger than the application's 2 MB request limit, within the attachment limit
    big = make_pdf("Ke hoach lon", padding=3 * 1024 * 1024)
    assert post_file(client, url, big, "ke-hoach.pdf") == 303
    row = db.session.scalar(sa.select(DocumentFile))
    assert row.size == len(big) and row.kind == "pdf"
    app.config["DOCUMENT_MAX_BYTES"] = 1024 * 1024
    assert post_file(client, url, big, "b.pdf") == 413


def post_file(client, url: str, data: bytes, name: str) -> int:
    """POST a file, encoded in memory (the test client would spool a large body to a
    temporary file that nobody closes)."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(data),
                                                                     filename=name)}))
    response = client.post(url, data=body,
                           content_type=f'multipart/form-data; boundary="{boundary}"')
    return response.status_code


def test_links_between_documents(client, login, groups):
    old = new_document(groups["d1"], "5/QĐ-SDTTG", "Văn bản cũ")
    new = new_document(groups["d1"], "6/QĐ-SDTTG", "Văn bản mới")
    db.session.commit()
    login(make_user("province_officer"))
    assert client.post(f"/documents/{new.id}/links", data={
        "kind": "replaces", "target": "5/QĐ-SDTTG"}).status_code == 303
    twice = client.post(f"/documents/{new.id}/links", data={
        "kind": "replaces", "target": "5/QĐ-SDTTG"})
    assert "đã được ghi" in twice.get_data(as_text=True) or twice.status_code == 422
    itself = client.post(f"/documents/{new.id}/links", data={
        "kind": "amends", "target": "6/QĐ-SDTTG"})
    assert "không thể liên kết với chính nó" in itself.get_data(as_text=True)
    link = db.session.scalar(sa.select(DocumentLink))
    assert (link.source_id, link.target_id, link.kind) == (new.id, old.id, "replaces")
    page = client.get(f"/van-ban/{old.slug}").get_data(as_text=True)
    assert "được thay thế bởi" in page


def test_groups_tree_without_cycles(client, login, groups):
    login(make_user("province_officer"))
    assert client.post("/documents/groups/new", data={
        "name": "Nhóm con", "parent": groups["d1"].id, "department": groups["d1"].department_id,
        "position": 1}).status_code == 303
    child = db.session.scalar(sa.select(services.DocumentGroup).where(
        services.DocumentGroup.name == "Nhóm con"))
    assert child.slug == "nhom-con" and child.parent_id == groups["d1"].id
    cycle = client.post(f"/documents/groups/{groups['d1'].id}", data={
        "name": "Nhóm d1", "parent": child.id, "department": groups["d1"].department_id})
    assert "Một nhóm không thể nằm trong chính nó." in cycle.get_data(as_text=True)
    assert "document.group.create" in actions()


def test_commune_staff_write_notices_for_their_commune(client, login, groups):
    first, second = current_communes()[:2]
    login(make_user("commune_officer", unit_code=first.code))
    data = {"title": "Họp dân bản", "body": "Mời bà con họp lúc 8 giờ.", "dated": "2026-12-01"}
    assert client.post("/documents/announcements/new",
                       data=data | {"unit": second.id}).status_code == 422
    assert client.post("/documents/announcements/new",
                       data=data | {"unit": first.id}).status_code == 303
    notice = db.session.scalar(sa.select(Announcement))
    assert (notice.unit_id, notice.state) == (first.id, "draft")
    assert "Họp dân bản" not in client.get("/").get_data(as_text=True)
    assert client.post(f"/documents/announcements/{notice.id}/state",
                       data={"action": "publish"}).status_code == 303
    client.get("/")  # the signed-in person is sent on to their work
    province_notice = services.save_announcement(
        None, unit=db.session.get(type(first), first.parent_id) or first.parent,
        title="Của tỉnh", body="Nội dung", dated=clock.today())
    db.session.commit()
    assert client.get(f"/documents/announcements/{province_notice.id}").status_code == 403
    assert [a for a in actions() if a.startswith("announcement.")] == [
        "announcement.create", "announcement.publish", "announcement.create"]


def test_published_notices_show_on_the_home_page(client, groups):
    commune = current_communes()[0]
    notice = services.save_announcement(None, unit=commune, title="Lịch tiêm chủng",
                                        body="Tại trạm y tế xã.", dated=clock.today())
    services.change_announcement(notice, "publish")
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Lịch tiêm chủng" in page and commune.name in page


@pytest.mark.parametrize(("column", "value"), [
    ("state", "gone"), ("visibility", "secret"), ("doc_type", "bogus"),
    ("validity", "maybe"), ("summary", ""), ("published_at", None),
])
def test_database_constraints(groups, column, value):
    document = new_document(groups["d1"], "7/QĐ-SDTTG", "Văn bản")
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(Document.__table__).where(
            Document.__table__.c.id == document.id).values({column: value}))
    db.session.rollback()
