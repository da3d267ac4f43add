"""Dashboards (issue #11 item 3): completeness of the current period and key indicators over
time, as server-drawn SVG beside their numbers, for the province and for a commune."""

from __future__ import annotations

import re

import sqlalchemy as sa

from dantoc.catalogs.models import AdminUnit
from dantoc.extensions import db
from tests.factories_submissions import entry_fixture, make_officer  # noqa: F401
from tests.test_lookup import data  # noqa: F401  (fixture)
from tests.test_lookup import province as province_client  # noqa: F401


def test_the_province_dashboard_counts_villages_and_draws_the_trend(
        app, entry, data, province_client):  # noqa: F811
    html = province_client.get("/lookup/dashboard").get_data(as_text=True)
    assert html.count("<svg") >= 2 and "<script" not in html.split("<main")[1].split(
        "</main>")[0]
    # three approved villages (two of 03388, one of 03391), one submitted, in the period
    assert re.search(r"3 of \d+ villages approved", html)
    households = html[html.index("Tổng số hộ"):]
    assert ">95<" in households.split("</table>")[0]  # 40 + 30 + 25, the pending 1000 not
    assert 'class="dot"' in html


def test_a_commune_officer_sees_their_commune_and_no_other(app, entry, data):  # noqa: F811
    _officer, client = make_officer(app)
    html = client.get("/lookup/dashboard").get_data(as_text=True)
    assert entry.village.parent.name in html
    assert re.search(r"2 of \d+ villages approved", html)
    assert ">70<" in html[html.index("Tổng số hộ"):].split("</table>")[0]
    other = db.session.scalar(sa.select(AdminUnit).where(  # Xã Mường Kim, another commune
        AdminUnit.code == "03637", AdminUnit.valid_to.is_(None)))
    assert client.get(f"/lookup/dashboard?unit={other.id}").status_code == 403
