"""Translator pages: coverage report, export download, import with errors, permissions."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.catalogs.models import EthnicGroup, Religion
from dantoc.extensions import db
from dantoc.i18n import coverage, exchange, exchange_formats
from dantoc.i18n.models import ContentTranslation
from dantoc.i18n.selection import registry
from tests import i18n_support
from tests.factories import make_user, signed_in
from tests.i18n_support import TEST_TAG

qaa_translations = i18n_support.qaa_translations
qaa_app = i18n_support.qaa_app
qaa_client = i18n_support.qaa_client


def ethnic(code: str) -> EthnicGroup:
    return db.session.scalar(sa.select(EthnicGroup).where(EthnicGroup.code == code))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def login_as_translator(client):
    user = make_user("province_officer")
    signed_in(client, user)
    return user


def test_coverage_counts_interface_and_content(qaa_app):
    religion = db.session.scalars(sa.select(Religion)).first()
    key = f"religions:{religion.id}:name"
    qaa = registry()[TEST_TAG]
    rows = exchange.export_rows(qaa)
    for row in rows:
        if row.key in (key, "Password"):
            row.translation = "QAA-TEST " + (row.source_vi or row.key)
    exchange.apply(qaa, rows)
    (row,) = coverage.report([qaa])
    assert row.interface.done == len(i18n_support.TEST_STRINGS) + 1  # file + database
    assert row.content.done == 1 and row.content.total > 50
    vi, en = coverage.report([registry()["vi"], registry()["en"]])
    assert vi.interface.percent == en.interface.percent == vi.content.percent == 100.0


@pytest.mark.parametrize("role, status", [("province_officer", 200), ("admin", 200),
                                          ("village_head", 403), ("commune_officer", 403)])
def test_translation_pages_need_the_translation_verb(client, login, role, status):
    login(make_user(role, unit_code="12" if role != "village_head" else None))
    assert client.get("/i18n/").status_code == status
    assert client.get("/i18n/ium").status_code == status


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get("/i18n/ium/export?format=csv")
    assert response.status_code in (302, 303) and "/accounts/login" in response.headers["Location"]


def test_index_lists_every_offered_locale_with_its_coverage(client, login):
    login(make_user("province_officer"))
    html = client.get("/i18n/").get_data(as_text=True)
    for loc in registry().offered():
        assert f'href="/i18n/{loc.tag}"' in html
    assert "100%" in html


@pytest.mark.parametrize("fmt, mimetype", [
    ("csv", "text/csv"), ("po", "text/x-gettext-translation"),
    ("xlsx", exchange_formats.FORMATS["xlsx"])])
def test_export_download(client, login, fmt, mimetype):
    login(make_user("province_officer"))
    response = client.get(f"/i18n/hmn-Latn-VN-x-rpa/export?format={fmt}&scope=missing")
    assert response.status_code == 200 and response.mimetype == mimetype
    assert "dantoc-hmn_Latn_VN-rpa-" in response.headers["Content-Disposition"]
    rows = exchange_formats.read(response.data, f"x.{fmt}", "hmn-Latn-VN-x-rpa")
    assert {r.kind for r in rows} == {"interface", "content"}
    assert all(not r.translation for r in rows)


@pytest.mark.parametrize("query", ["format=exe", "scope=some", ""])
def test_export_refuses_bad_parameters_and_vietnamese(client, login, query):
    login(make_user("province_officer"))
    assert client.get(f"/i18n/ium/export?{query}&format=doc").status_code == 400
    assert client.get("/i18n/vi/export?format=csv").status_code == 400


def test_import_through_the_page_commits_and_audits(qaa_client, qaa_app):
    login_as_translator(qaa_client)
    thai = ethnic("03")
    data = f"kind,key,translation\ncontent,ethnic_groups:{thai.id}:name,QAA-TEST Thai\n"
    response = qaa_client.post(f"/i18n/{TEST_TAG}/import",
                               data={"file": (io.BytesIO(data.encode()), "t.csv")})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/i18n/{TEST_TAG}"
    page = qaa_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 changed" in page or "1 mục thay đổi" in page
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "i18n.content.set"))
    assert event.actor_name and event.after["text"] == "QAA-TEST Thai"


def test_a_refused_import_through_the_page_writes_nothing(qaa_client, qaa_app):
    login_as_translator(qaa_client)
    thai = ethnic("03")
    data = (f"kind,key,translation\ncontent,ethnic_groups:{thai.id}:name,QAA-TEST ok\n"
            f"content,ethnic_groups:{thai.id}:note,x\n")
    response = qaa_client.post(f"/i18n/{TEST_TAG}/import",
                               data={"file": (io.BytesIO(data.encode()), "t.csv")})
    assert response.status_code == 422
    assert "Line 3" in response.get_data(as_text=True) or "Dòng 3" in response.get_data(
        as_text=True)
    assert count(ContentTranslation) == 0


def test_import_without_a_file_shows_the_field_error(client, login):
    login(make_user("province_officer"))
    response = client.post("/i18n/ium/import", data={})
    assert response.status_code == 422
    assert "Hãy chọn một tệp." in response.get_data(as_text=True)


def test_errors_are_in_the_readers_language(qaa_client, qaa_app):
    login_as_translator(qaa_client)
    data = b"kind,key,translation\ncontent,ethnic_groups:999999:name,x\n"
    response = qaa_client.post(f"/i18n/{TEST_TAG}/import?lang=vi",
                               data={"file": (io.BytesIO(data), "t.csv")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Dòng 2: Khóa nội dung không xác định: ethnic_groups:999999:name" in html


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true", "HX-Boosted": "true"}])
@pytest.mark.parametrize("path", ["/i18n/", "/i18n/ium", "/i18n/vi"])
def test_pages_are_full_pages_plain_and_boosted(client, login, headers, path):
    login(make_user("province_officer"))
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith("<!doctype html>") and "<h1>" in html
    assert ('action="/i18n/vi/import"' in html) is False
