"""Wording a village head understands (issue #14 item 7): official terms in the Vietnamese
catalog, no "bạn" on the village head's pages, WTForms' messages in Vietnamese, receipt codes
that can be read over the phone, and only the administrative levels in use offered."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from dantoc.submissions.models import RECEIPT_ALPHABET, receipt_code
from tests.factories import (
    ensure_reference,
    make_user,
    make_village_head,
    post,
    signed_in,
)

VI = Path(__file__).resolve().parent.parent / "translations/vi/LC_MESSAGES/messages.po"
#: The old term → the official one (issue #14's table).
OLD_TERMS = {
    "Do đơn vị cấp sau điền": "Cấp đơn vị điền phiếu",
    "Mở trước khi kết thúc kỳ số ngày": "Số ngày mở nhận trước khi kết thúc kỳ",
    "Biểu mẫu đã hết hạn": "Trang đã hết hạn, vui lòng tải lại",
    "Cài đặt điện thoại này": "Kích hoạt trên điện thoại này",
    "Thay đổi lớn": "Biến động lớn so với kỳ trước",
    "Hạn chót": "Hạn báo cáo",
    "Điều chuyển": "Điều chỉnh địa giới",
    "Cộng tổng": "Tính tổng",
    "phê duyệt": "duyệt",
}


def _catalog():
    with VI.open("rb") as f:
        return [m for m in read_po(f) if m.id]


def _texts(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


@pytest.mark.parametrize("old, new", OLD_TERMS.items())
def test_the_vietnamese_catalog_uses_the_official_terms(old, new):
    found = [m.id for m in _catalog() if any(old.lower() in t.lower() for t in _texts(m))]
    assert found == []
    assert any(new in t for m in _catalog() for t in _texts(m))


def test_form_versions_are_put_into_use_not_issued():
    forms = [m for m in _catalog() if any("indicators" in loc for loc, _line in m.locations)]
    assert forms and not [m.id for m in forms if any("ban hành" in t for t in _texts(m))]


def test_the_village_heads_pages_never_say_ban(app, entry, login):
    head = make_village_head(entry.village, locale="vi", username="head-vi")
    client = signed_in(app.test_client(), head)
    key = str(uuid.uuid4())
    pages = ["/entry/", entry.url, "/outbox", "/offline"]
    html = "".join(client.get(p).get_data(as_text=True) for p in pages)
    post(client, entry.url, entry.answers(households="abc"), key=key, action="draft")
    post(client, entry.url, entry.answers(), key=key)
    html += client.get(f"/entry/receipt/{key}").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "Hạn báo cáo" in text
    assert not re.search(r"\bbạn\b", text, re.IGNORECASE), re.findall(r".{40}\bbạn\b.{20}",
                                                                      text, re.I)[:3]


def test_wtforms_messages_are_in_vietnamese(client):
    html = client.post("/accounts/login", data={"username": "a" * 70, "password": "x"})\
        .get_data(as_text=True)
    assert "Trường không được dài quá 60 ký tự." in html
    assert "Field cannot be longer" not in html


def test_receipt_codes_are_eight_unambiguous_characters_from_the_uuid(app, entry):
    key = uuid.UUID("1f2e3d4c-5b6a-4798-8877-665544332211")
    code = receipt_code(key)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
    assert code == receipt_code(key) and code != receipt_code(uuid.uuid4())
    assert not set("ILOU") & set(RECEIPT_ALPHABET)
    post(entry.client, entry.url, entry.answers(), key=str(key))
    page = entry.client.get(f"/entry/receipt/{key}").get_data(as_text=True)
    assert code in page


def test_only_the_levels_in_use_are_offered_for_a_new_form(app, login):
    ensure_reference()
    staff = login(make_user("province_officer"))
    html = staff.get("/indicators/forms/new").get_data(as_text=True)
    assert "Cấp xã" in html and "Cấp huyện" not in html


def test_reference_notes_in_english_are_not_shown(app, login):
    import sqlalchemy as sa

    from dantoc.catalogs import reference
    from dantoc.catalogs.models import AdminUnit
    from dantoc.extensions import db

    reference.load_reference()
    db.session.commit()
    sources = set(db.session.scalars(sa.select(AdminUnit.source).distinct()))
    assert sources <= {reference.SOURCE_OLD, reference.SOURCE_NEW, reference.SOURCE_PROVINCE}
    html = login(make_user("province_officer")).get("/catalogs/religions").get_data(as_text=True)
    assert "census lists it as a separate religion" not in html
