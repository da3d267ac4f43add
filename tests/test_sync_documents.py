"""``flask sync pull`` of document groups and documents: metadata, files, links, what the
centre retires or takes back, read-only copies at the province (dantoc/sync/documents.py)."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.documents import files as stored_files
from dantoc.documents import services
from dantoc.documents.models import DocState, Document, DocumentGroup, DocumentLink
from dantoc.extensions import db
from dantoc.refusal import Refusal
from dantoc.sync import pull as sync
from dantoc.sync.models import SyncCursor
from tests.api_support import make_client
from tests.conftest import base_config
from tests.documents_support import make_docx, make_pdf, new_document, new_group, use_storage
from tests.factories import make_user, signed_in
from tests.test_api_sync import PEER, Transport

RESOURCES = ("document-groups", "documents")


@pytest.fixture
def centre(app, tmp_path):
    """The centre's library: a group inside another, a public decision with a PDF that
    replaces an older one, an internal plan with a DOCX, a draft; a province's token."""
    use_storage(app, tmp_path / "centre")
    parent = new_group("Chính sách dân tộc")
    child = services.save_group(None, name="Giảm nghèo", parent=parent, position=2)
    old = new_document(child, "12/2020/QĐ-TTg", "Quy định cũ", validity="expired",
                       validity_changed_on=date(2025, 1, 1))
    decision = new_document(child, "414/QĐ-TTg", "Phê duyệt chương trình giảm nghèo",
                            signer="Nguyễn Văn A", issued_on=date(2026, 3, 2),
                            effective_on=date(2026, 3, 15), validity="in_force")
    services.attach_file(decision, make_pdf("chuong trinh giam ngheo"), "Quyết định 414.pdf")
    services.add_link(decision, old, "replaces")
    plan = new_document(parent, "7/KH-UBDT", "Kế hoạch nội bộ", visibility="internal",
                        doc_type="ke_hoach")
    services.attach_file(plan, make_docx(), "ke hoach.docx")
    new_document(parent, "9/QĐ-NHAP", "Dự thảo", publish=False)
    db.session.commit()
    token = make_client(name="tinh", role="api_reporter")[1]["Authorization"]
    return app, token.removeprefix("Bearer ")


@pytest.fixture
def province(databases, tmp_path):
    url = databases.new()
    app = create_app(base_config(url) | {"SYNC_PEER": PEER,
                                         "DOCUMENT_STORAGE": str(tmp_path / "province")})
    yield app
    with app.app_context():
        db.engine.dispose()
    databases.drop(url)


def library() -> dict:
    """The library as people see it, comparable between the two databases."""
    groups = {g.slug: (g.name, g.parent.slug if g.parent else None, g.position, g.retired)
              for g in db.session.scalars(sa.select(DocumentGroup))}
    documents = {d.number: (d.group.slug, d.state, d.visibility, d.summary, d.signer,
                            d.issued_on, d.validity, tuple(f.sha256 for f in d.files))
                 for d in db.session.scalars(sa.select(Document))
                 if d.state != DocState.DRAFT}
    links = sorted(db.session.execute(sa.select(
        DocumentLink.kind, Document.number).join(Document, DocumentLink.source_id ==
                                                 Document.id)).tuples())
    db.session.rollback()  # end the read: the other instance writes to its own database
    return {"groups": groups, "documents": documents, "links": links}


def pull(app, token, **options) -> dict:
    return sync.pull(PEER, token, Transport(app, **options), resources=RESOURCES, limit=2)


def pulled_decision(app, token) -> Document:
    """The province after a pull: its copy of the centre's decision 414."""
    pull(app, token)
    return db.session.scalar(sa.select(Document).where(Document.number == "414/QĐ-TTg"))


def test_the_library_arrives_with_its_files_and_a_second_pass_changes_nothing(
        centre, province):
    app, token = centre
    want = library()
    with province.app_context():
        result = pull(app, token)
        assert library() == want  # the draft stays at the centre
        assert result["documents"].added == 3 and result["document-groups"].added == 2
        decision = db.session.scalar(sa.select(Document).where(
            Document.number == "414/QĐ-TTg"))
        assert decision.synced_from == PEER and decision.group.synced_from == PEER
        pdf = decision.files[0]
        assert pdf.kind == "pdf" and pdf.filename == "quyet-dinh-414.pdf"
        assert stored_files.path_of(pdf.sha256).read_bytes()[:5] == b"%PDF-"
        # found by the words of its PDF, as at the centre
        assert "chuong trinh giam ngheo" in db.session.scalar(
            sa.select(Document.search_text).where(Document.id == decision.id))
        db.session.rollback()

        transport = Transport(app)
        again = sync.pull(PEER, token, transport, resources=RESOURCES, limit=2)
        assert all(c.added == c.changed == c.retired == 0 for c in again.values()), again
        assert not any("/files/" in url for url in transport.urls)  # nothing downloaded
        assert all("changed_since=" in url for url in transport.urls)
        assert library() == want


def test_what_the_centre_changes_retires_or_takes_back_reaches_the_province(
        centre, province):
    app, token = centre
    with province.app_context():
        pull(app, token)
    decision = db.session.scalar(sa.select(Document).where(Document.number == "414/QĐ-TTg"))
    services.update_document(decision, signer="Trần Thị B")
    services.attach_file(decision, make_pdf("phu luc"), "Phụ lục.pdf")
    services.change_state(db.session.scalar(sa.select(Document).where(
        Document.number == "12/2020/QĐ-TTg")), "retire")
    services.change_state(db.session.scalar(sa.select(Document).where(
        Document.number == "7/KH-UBDT")), "unpublish")
    group = db.session.scalar(sa.select(DocumentGroup).where(
        DocumentGroup.name == "Giảm nghèo"))
    services.save_group(group, name="Giảm nghèo bền vững", parent=group.parent, position=2)
    db.session.commit()
    with province.app_context():
        result = pull(app, token)
        assert (result["documents"].changed, result["documents"].retired) == (1, 2)
        assert result["document-groups"].changed == 1
        states = dict(db.session.execute(sa.select(Document.number, Document.state)).all())
        assert states == {"414/QĐ-TTg": "published", "12/2020/QĐ-TTg": "retired",
                          "7/KH-UBDT": "draft"}  # taken back: hidden again
        decision = db.session.scalar(sa.select(Document).where(
            Document.number == "414/QĐ-TTg"))
        assert decision.signer == "Trần Thị B" and len(decision.files) == 2
        assert db.session.scalar(sa.select(DocumentGroup.name).where(
            DocumentGroup.id == decision.group_id)) == "Giảm nghèo bền vững"
        # the link between two national documents stays while both are here
        assert db.session.scalar(sa.select(sa.func.count(DocumentLink.id))) == 1


def test_a_changed_summary_is_found_by_its_new_words_at_the_province(centre, province):
    app, token = centre
    with province.app_context():
        pull(app, token)
    decision = db.session.scalar(sa.select(Document).where(Document.number == "414/QĐ-TTg"))
    services.update_document(decision, summary="Chương trình sinh kế bền vững")
    db.session.commit()
    with province.app_context():
        assert pull(app, token)["documents"].changed == 1  # the metadata only, no file
        assert "sinh ke ben vung" in db.session.scalar(sa.select(Document.search_text).where(
            Document.number == "414/QĐ-TTg"))


def test_national_documents_are_read_only_at_the_province_local_ones_are_not(
        centre, province):
    app, token = centre
    with province.app_context():
        decision = pulled_decision(app, token)
        group = decision.group
        for change in (lambda: services.update_document(decision, signer="X"),
                       lambda: services.change_state(decision, "retire"),
                       lambda: services.attach_file(decision, make_pdf("x"), "x.pdf"),
                       lambda: services.save_group(group, name="Khác")):
            with pytest.raises(Refusal) as refused:
                change()
            assert refused.value.code == "national_record"
            db.session.rollback()
        # a document made here may sit in a national group and refer to a national one
        local = new_document(group, "15/QĐ-UBND", "Quyết định của tỉnh")
        services.add_link(local, decision, "guides")
        db.session.commit()
        assert local.synced_from is None

        again = pull(app, token)  # the province's own link stays
        assert all(c.changed == 0 for c in again.values())
        assert db.session.scalar(sa.select(sa.func.count(DocumentLink.id))) == 2


def test_the_staff_screen_shows_a_national_document_without_its_forms(
        centre, province):
    app, token = centre
    with province.app_context():
        decision_id = pulled_decision(app, token).id
        http = signed_in(province.test_client(), make_user("province_officer",
                                                           unit_code="12"))
        page = http.get(f"/documents/{decision_id}").get_data(as_text=True)
        assert "Từ trung ương" in page
        assert f'action="/documents/{decision_id}/files"' not in page
        assert f'action="/documents/{decision_id}/state"' not in page
        refused = http.post(f"/documents/{decision_id}/state", data={"action": "retire"},
                            headers={"Accept": "text/html"})
        assert refused.status_code == 409
        assert db.session.scalar(sa.select(Document.state).where(
            Document.id == decision_id)) == "published"


def test_an_interrupted_pass_resumes_and_a_file_that_differs_is_refused(centre, province):
    app, token = centre

    class SecondPageFails(Transport):
        def get(self, url, headers):
            if "/documents?" in url and "cursor=" in url:
                return 500, {"detail": "Lỗi máy chủ"}
            return super().get(url, headers)

    with province.app_context():
        with pytest.raises(sync.SyncError, match="HTTP 500"):
            sync.pull(PEER, token, SecondPageFails(app), resources=RESOURCES, limit=2)
        stored = {c.resource: json.loads(c.cursor) for c in db.session.scalars(
            sa.select(SyncCursor))}
        assert stored["document-groups"]["cursor"] is None
        assert stored["documents"]["cursor"] is not None  # after the committed page
        kept = db.session.scalar(sa.select(sa.func.count(Document.id)))
        assert kept == 2  # the first page: its documents and their files together

        class Tampered(Transport):
            def download(self, url, headers):
                status, data = super().download(url, headers)
                return status, data + b"%"

        with pytest.raises(sync.SyncError, match="different from what the peer announced"):
            sync.pull_resource(PEER, token, "documents", Tampered(app), limit=2)
        assert db.session.scalar(sa.select(sa.func.count(Document.id))) == kept

        resumed = Transport(app)
        counts = sync.pull_resource(PEER, token, "documents", resumed, limit=2)
        assert "cursor=" in resumed.urls[0]
        assert counts.added == 1
        assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 3
