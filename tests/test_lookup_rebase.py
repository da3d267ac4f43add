"""Re-based lookups (issue #11 item 5): a period before 2025-07-01 shown on the units of then
or on today's communes through the lineage links. Merges sum, a split apportions sums by its
share and marks them estimated, an average is refused with words, and the reused code 03388
(Phường Quyết Tiến until 30/06/2025, Phường Đoàn Kết since) never mixes the two units."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from dantoc.catalogs.models import AdminUnit, UnitLineage
from dantoc.extensions import db
from dantoc.indicators.models import FormVersion, Indicator, Period
from dantoc.lookup import dashboard, query
from tests.factories import make_period, make_questionnaire, make_user, make_village, signed_in
from tests.factories.submissions import INDICATORS
from tests.test_reports_support import old_unit, put, unit

BEFORE = "2025-01-01"  # a day of the old tree (district → commune)
TODAY = date(2026, 12, 6)
#: The test questionnaire, with the distance averaged (an average cannot be re-based).
AVERAGED = tuple((code, name, {**attrs, "aggregation": "average"} if code == "distance_km"
                  else attrs) for code, name, attrs in INDICATORS)


@dataclass
class Rebase:
    version: FormVersion
    y2024: Period
    y2026: Period
    quyet_tien: AdminUnit  # old 03388
    old_doan_ket: AdminUnit  # old 03389, merged into the new 03388 too
    split: AdminUnit  # a sample old commune split 60 % / 40 %
    doan_ket: AdminUnit  # new 03388
    muong_kim: AdminUnit  # new 03637
    khoen_on: AdminUnit  # new 03640

    def indicator(self, code: str) -> Indicator:
        return next(i.indicator for s in self.version.sections for i in s.items
                    if i.indicator.code == code)

    def run(self, *codes: str, rebase: bool, periods=None, scope=None) -> query.Table:
        return query.run(query.Request(tuple(self.indicator(c) for c in codes),
                                       tuple(periods or (self.y2024, self.y2026)), scope,
                                       rebase=rebase, day=TODAY))


def values(households: int, distance: str = "2") -> dict:
    return {"households": Decimal(households), "distance_km": Decimal(distance)}


@pytest.fixture
def world(app) -> Rebase:
    version = make_questionnaire(indicators=AVERAGED)
    y2024 = make_period("2024", open_now=False)
    y2026 = make_period("2026")
    quyet_tien, old_doan_ket = unit("03388", BEFORE), unit("03389", BEFORE)
    split = old_unit("ZZS", "commune", "xa", unit("105", BEFORE))
    muong_kim, khoen_on = unit("03637"), unit("03640")
    for target, share in ((muong_kim, "0.6"), (khoen_on, "0.4")):
        db.session.add(UnitLineage(kind="split", from_unit_id=split.id, to_unit_id=target.id,
                                   effective_date=date(2025, 7, 1), share=Decimal(share)))
    qt1, qt2 = (old_unit(f"03388-V{n}", "village", "ban", quyet_tien) for n in (1, 2))
    dk = old_unit("03389-V1", "village", "ban", old_doan_ket)
    zz = old_unit("ZZS-V1", "village", "ban", split)
    db.session.commit()
    put(version, qt1, y2024, values(40, "2"))
    put(version, qt2, y2024, values(10, "4"))
    put(version, dk, y2024, values(25, "9"))
    put(version, zz, y2024, values(100, "1"))
    put(version, make_village("03388-N1"), y2026, values(7, "3"))
    put(version, make_village("03637-N1", commune_code="03637"), y2026, values(11, "5"))
    return Rebase(version, y2024, y2026, quyet_tien, old_doan_ket, split, unit("03388"),
                  muong_kim, khoen_on)


def by_label(table: query.Table) -> dict[str, tuple[Decimal | None, str | None]]:
    column = table.columns[0]
    return {r.label: (table.cell(r, column), table.flag(r, column)) for r in table.rows}


def total(table: query.Table) -> Decimal:
    return table.totals[table.columns[0].key]


def test_as_of_shows_the_old_communes_with_their_district(world):
    cells = by_label(world.run("households", rebase=False, periods=[world.y2024]))
    assert cells == {
        "Phường Quyết Tiến (Thành phố Lai Châu) · Năm 2024": (Decimal(50), None),
        "Phường Đoàn Kết (Thành phố Lai Châu) · Năm 2024": (Decimal(25), None),
        "Xã ZZS (mẫu) (Thành phố Lai Châu) · Năm 2024": (Decimal(100), None),
    }


def test_rebased_merges_sum_and_splits_apportion_as_estimates(world):
    cells = by_label(world.run("households", rebase=True, periods=[world.y2024]))
    # Quyết Tiến (50) and the old Đoàn Kết (25) merged into today's Phường Đoàn Kết: a sum.
    assert cells["Phường Đoàn Kết · Năm 2024"] == (Decimal(75), None)
    # The split commune's 100 households: 60 % to Mường Kim, 40 % to Khoen On, estimated.
    assert cells["Xã Mường Kim · Năm 2024"] == (Decimal(60), query.ESTIMATED)
    assert cells["Xã Khoen On · Năm 2024"] == (Decimal(40), query.ESTIMATED)
    assert len(cells) == 3


def test_the_rebased_province_total_equals_the_as_of_total(world):
    for periods in ([world.y2024], [world.y2026], [world.y2024, world.y2026]):
        as_of = world.run("households", rebase=False, periods=periods)
        rebased = world.run("households", rebase=True, periods=periods)
        assert total(rebased) == total(as_of)
    assert total(world.run("households", rebase=True)) == Decimal(193)  # 175 + 7 + 11


def test_the_reused_code_03388_never_mixes_quyet_tien_and_doan_ket(world):
    assert world.quyet_tien.code == world.doan_ket.code == "03388"
    assert world.quyet_tien.id != world.doan_ket.id
    as_of = by_label(world.run("households", rebase=False))
    assert as_of["Phường Quyết Tiến (Thành phố Lai Châu) · Năm 2024"] == (Decimal(50), None)
    assert as_of["Phường Đoàn Kết · Năm 2026"] == (Decimal(7), None)  # only today's villages
    assert "Phường Quyết Tiến (Thành phố Lai Châu) · Năm 2026" not in as_of
    assert "Phường Đoàn Kết · Năm 2024" not in as_of
    # Today's Đoàn Kết by village, as of then: its villages only, none of Quyết Tiến's.
    villages = by_label(world.run("households", rebase=False, scope=world.doan_ket))
    assert list(villages.values()) == [(Decimal(7), None)]
    # Re-based, today's Đoàn Kết reads 2024 through the lineage and 2026 as it is.
    series = by_label(world.run("households", rebase=True, scope=world.doan_ket))
    assert series == {"Phường Đoàn Kết · Năm 2024": (Decimal(75), None),
                      "Phường Đoàn Kết · Năm 2026": (Decimal(7), None)}


def test_an_average_is_refused_where_it_would_be_re_based(world):
    table = world.run("distance_km", rebase=True)
    cells = by_label(table)
    assert cells["Phường Đoàn Kết · Năm 2024"] == (None, query.REFUSED)
    assert cells["Xã Mường Kim · Năm 2024"] == (None, query.REFUSED)
    assert cells["Phường Đoàn Kết · Năm 2026"] == (Decimal(3), None)  # today's units: as it is
    assert table.totals[table.columns[0].key] is None
    assert table.total_flags[table.columns[0].key] == query.REFUSED
    as_of = by_label(world.run("distance_km", rebase=False, periods=[world.y2024]))
    assert as_of["Phường Quyết Tiến (Thành phố Lai Châu) · Năm 2024"] == (Decimal(3), None)


def lookup_url(world: Rebase, *codes: str, **extra) -> str:
    args = [f"indicator={world.indicator(c).id}" for c in codes]
    args += [f"period_from={world.y2024.id}", f"period_to={world.y2026.id}"]
    args += [f"{k}={v}" for k, v in extra.items()]
    return "/lookup/?" + "&".join(args)


def test_the_switch_is_a_get_parameter_and_the_page_says_estimated_or_refused(app, world):
    user = make_user("province_officer")
    user.locale = "vi"
    db.session.commit()
    client = signed_in(app.test_client(), user)
    page = client.get(lookup_url(world, "households", "distance_km", rebase="y"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Quy đổi theo đơn vị hiện nay" in html
    assert 'name="rebase" type="checkbox" value="y" checked' in html or \
        ('name="rebase"' in html and "checked" in html)
    assert "Xã Mường Kim · Năm 2024" in html and "ước tính" in html
    assert "không quy đổi được" in html
    plain = client.get(lookup_url(world, "households")).get_data(as_text=True)
    assert "Phường Quyết Tiến (Thành phố Lai Châu) · Năm 2024" in plain
    assert "ước tính" not in plain
    csv = client.get(lookup_url(world, "households", "distance_km", rebase="y", format="csv"))
    text = csv.get_data().decode("utf-8-sig")
    assert "không quy đổi được" in text and "60" in text


def test_the_dashboard_trend_reads_on_todays_communes(world):
    trend, = dashboard.trends(world.doan_ket, [world.indicator("households")], TODAY)
    points = {p.code: v for p, v in trend.points}
    assert points["2024"] == Decimal(75) and points["2026"] == Decimal(7)
    kim, = dashboard.trends(world.muong_kim, [world.indicator("households")], TODAY)
    assert {p.code: v for p, v in kim.points}["2024"] == Decimal(60)
    assert kim.estimated == {world.y2024.id}


def test_a_report_on_the_old_units_links_to_its_rebased_figures(app, world):
    user = make_user("province_officer")
    user.locale = "vi"
    db.session.commit()
    client = signed_in(app.test_client(), user)
    form = world.version.form.code
    old = client.get(f"/reports/{form}/2024/{unit('12').id}").get_data(as_text=True)
    link = re.search(r'<p class="note" id="rebased">[^<]*<a\s+href="([^"]+)"', old)
    assert link and "rebase=y" in link.group(1)
    table = client.get(html.unescape(link.group(1))).get_data(as_text=True)
    assert "Xã Mường Kim · Năm 2024" in table and "ước tính" in table
    today = client.get(f"/reports/{form}/2026/{unit('12').id}").get_data(as_text=True)
    assert 'id="rebased"' not in today
