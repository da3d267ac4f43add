"""Indicators described as the Statistics Law requires (issue #11 item 7): edited on the
indicator screens, audited, shown beside the figures in the lookup and in the exports."""

from __future__ import annotations

import io

import openpyxl
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.indicators.models import Indicator
from tests.factories import make_catalogue, make_group
from tests.test_indicators_views import indicator_data, staff  # noqa: F401  (fixture)
from tests.test_lookup import data, lookup_table, url  # noqa: F401  (fixture)
from tests.test_lookup import province as province_client  # noqa: F401

DESCRIPTION = {
    "concept": "Hộ nghèo là hộ có thu nhập bình quân đầu người dưới chuẩn nghèo.",
    "method": "Đếm số hộ có tên trong danh sách hộ nghèo đã được phê duyệt.",
    "main_breakdowns": "Dân tộc; xã",
    "publication_period": "Năm",
    "data_source": "Báo cáo của thôn, bản",
    "responsible_agency": "Sở Dân tộc và Tôn giáo",
}


def test_the_indicator_screen_keeps_the_description_and_audits_it(staff):  # noqa: F811
    group = make_group(make_catalogue())
    db.session.commit()
    response = staff.post("/indicators/list/new", data=indicator_data(group, **DESCRIPTION))
    assert response.status_code == 303
    indicator = db.session.scalar(sa.select(Indicator))
    assert {name: getattr(indicator, name) for name in DESCRIPTION} == DESCRIPTION
    row = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "indicators.indicator.create"))
    assert row.after["concept"] == DESCRIPTION["concept"]
    page = staff.get(f"/indicators/{indicator.id}/edit").get_data(as_text=True)
    assert DESCRIPTION["method"] in page


def test_a_too_long_description_is_refused_at_its_field(staff):  # noqa: F811
    group = make_group(make_catalogue())
    db.session.commit()
    response = staff.post("/indicators/list/new",
                          data=indicator_data(group, publication_period="x" * 101))
    assert response.status_code == 200  # the form again, with the message at the field
    assert "100" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Indicator)) == 0


def test_the_lookup_and_its_xlsx_show_the_description(
        app, entry, data, province_client):  # noqa: F811
    indicator = db.session.get(Indicator, data["ids"]["households"])
    indicator.concept, indicator.data_source = "Số hộ đang sinh sống", "Phiếu thôn, bản"
    db.session.commit()
    link = url(data, entry, "households")
    html = province_client.get(link).get_data(as_text=True)
    assert "Số hộ đang sinh sống" in html and "Phiếu thôn, bản" in html
    book = openpyxl.load_workbook(io.BytesIO(province_client.get(link + "&format=xlsx").data))
    sheet = book.worksheets[1]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[1][0] == "households" and "Số hộ đang sinh sống" in rows[1]
