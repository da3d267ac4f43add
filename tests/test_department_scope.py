"""Department-scoped data (issue #11 item 6, "phân quyền đến từng phòng, ban, cán bộ"): an
officer whose account names a department sees, in review, unit and province reports, the
lookup, dashboards and every export, only the indicators of the groups it owns; an officer
without a department sees them all. One matrix: pages × (scoped to A, scoped to B,
unscoped), asserting which indicator labels each page shows."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import openpyxl
import pytest

from dantoc.catalogs.models import Department
from dantoc.extensions import db
from dantoc.indicators import services, visibility
from dantoc.indicators.models import Indicator, IndicatorGroup
from tests.factories import browser, make_user
from tests.test_reports_flow import submitted_report
from tests.test_reports_support import make_world, officer, put, village_values

#: Labels by the department owning their group: A owns households, population and a rate
#: over them; B owns the poor households, the road and the poor-household rate.
LABELS = {
    "A": ("Tổng số hộ", "Số nhân khẩu", "Số người bình quân một hộ"),
    "B": ("Số hộ nghèo", "Đường đã cứng hóa", "Tỷ lệ hộ nghèo (thử)"),
}
#: What each page can show at all: reports and the biểu show entered figures, the lookup
#: and the dashboard also derived ones; yes/no answers are counted where figures are.
ENTERED = {"A": LABELS["A"][:2], "B": LABELS["B"][:2]}
DASHBOARD = {"A": ("Tổng số hộ", "Số nhân khẩu", "Số người bình quân một hộ"),
             "B": ("Số hộ nghèo", "Tỷ lệ hộ nghèo (thử)")}


@dataclass
class Scene:
    world: object
    report: object  # the commune's approved report
    submission: object  # an approved village report
    ids: dict[str, int]
    departments: dict[str, Department]


def _split(world) -> tuple[dict[str, Department], dict[str, int]]:
    """The questionnaire's group goes to department A; a new group of B takes the poor
    households and the road; one derived indicator in each."""
    departments = {k: Department(code=f"dep-{k.lower()}", name=f"Phòng {k}") for k in "AB"}
    db.session.add_all(departments.values())
    db.session.flush()
    items = {i.indicator.code: i.indicator for s in world.version.sections for i in s.items}
    group_a = items["households"].group
    group_a.department_id = departments["A"].id
    group_b = IndicatorGroup(catalogue_version_id=group_a.catalogue_version_id, code="G2",
                             name="Nghèo", department_id=departments["B"].id)
    db.session.add(group_b)
    db.session.flush()
    for code in ("poor_households", "road_hardened"):
        items[code].group_id = group_b.id
    db.session.flush()
    per_household = services.create_indicator(
        group=group_a, code="people_per_household", name="Số người bình quân một hộ",
        value_type="decimal", aggregation="none", formula="population / households")
    rate = services.create_indicator(
        group=group_b, code="poor_rate", name="Tỷ lệ hộ nghèo (thử)", value_type="percent",
        unit_of_measure="%", aggregation="none", formula="poor_households / households * 100")
    db.session.commit()
    ids = {code: i.id for code, i in items.items()} | {"people_per_household": per_household.id,
                                                      "poor_rate": rate.id}
    return departments, ids


@pytest.fixture(name="scene")
def scene_fixture(app):
    world = make_world()
    departments, ids = _split(world)
    first = put(world.version, world.villages[0], world.period,
                village_values(40, 50, 50, poor=4))
    put(world.version, world.villages[1], world.period, village_values(60, 70, 70, poor=15))
    put(world.version, world.villages[2], world.period, village_values(9, 9, 9, poor=9),
        state="submitted")
    put(world.version, world.others[0], world.period, village_values(300, 400, 400, poor=30))
    _commune, commune_client = officer(app, "commune_officer", "03388")
    report = submitted_report(world, commune_client)
    _province, province_client = officer(app, "province_officer", "12")
    response = province_client.post(f"/reports/{report.id}/approve",
                                    data={"version": str(report.version)})
    assert response.status_code == 303
    return Scene(world, report, first, ids, departments)


def viewer(app, scene: Scene, kind: str):
    """A province-level officer: of department A or B (a department's officer), or without
    a department (the province officer)."""
    if kind == "unscoped":
        user = make_user("province_officer", unit_code="12")
    else:
        user = make_user("department_officer", unit_code="12",
                         department=scene.departments[kind])
    return browser(app, user)


#: The indicators of each department (what a viewer of it may ask the lookup for).
OWNED = {"A": ("households", "population", "people_per_household"),
         "B": ("poor_households", "road_hardened", "poor_rate")}


def _lookup(scene: Scene, kind: str, extra: str = "") -> str:
    """The lookup of every indicator the viewer may choose (a hidden one is refused: see
    :func:`test_a_hidden_indicator_is_refused_like_an_unknown_one`)."""
    w = scene.world
    codes = OWNED["A"] + OWNED["B"] if kind == "unscoped" else OWNED[kind]
    chosen = "&".join(f"indicator={scene.ids[code]}" for code in codes)
    return f"/lookup/?{chosen}&period_from={w.period.id}&period_to={w.period.id}{extra}"


def _text(response) -> str:
    kind = response.headers.get("Content-Type", "")
    if "spreadsheetml" in kind:
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        return " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row
                        if c.value is not None)
    return response.get_data(as_text=True)


#: page → (URL for the scene, the labels it shows per department).
PAGES: dict[str, tuple[Callable[[Scene, str], str], dict]] = {
    "review": (lambda s, k: f"/review/{s.submission.client_uuid}", ENTERED),
    "commune report": (lambda s, k: f"/reports/{s.report.id}", ENTERED),
    "province report": (lambda s, k: s.world.report_url(s.world.province), ENTERED),
    "biểu page": (lambda s, k: f"/reports/{s.report.id}/bieu", ENTERED),
    "biểu xlsx": (lambda s, k: f"/reports/{s.report.id}/bieu.xlsx", ENTERED),
    "lookup": (_lookup, LABELS),
    "lookup csv": (lambda s, k: _lookup(s, k, "&format=csv"), LABELS),
    "lookup xlsx": (lambda s, k: _lookup(s, k, "&format=xlsx"), LABELS),
    "dashboard": (lambda s, k: "/lookup/dashboard", DASHBOARD),
}


@pytest.mark.parametrize("kind", ["A", "B", "unscoped"])
@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_shows_only_the_departments_indicators(app, scene, page, kind):
    url, shows = PAGES[page]
    response = viewer(app, scene, kind).get(url(scene, kind))
    assert response.status_code == 200, response.get_data(as_text=True)[-600:]
    text = _text(response)
    seen = {"A", "B"} if kind == "unscoped" else {kind}
    for department, labels in shows.items():
        for label in labels:
            assert (label in text) == (department in seen), (page, kind, label)


def test_a_hidden_indicator_is_refused_like_an_unknown_one(app, scene):
    """A shared lookup URL naming another department's indicator: 422, no table, and the
    indicator's name nowhere on the page."""
    url = _lookup(scene, "unscoped")
    response = viewer(app, scene, "A").get(url)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="lookup-table"' not in page
    assert "does not exist or is not among the indicators you may see" in page
    assert not any(label in page for label in LABELS["B"])
    assert viewer(app, scene, "A").get(url + "&format=csv").status_code == 422


def test_the_visible_set_is_a_subquery_not_a_list(app, scene):
    """One function answers for every page; for a department it is a subquery on the
    groups' owner (no literal ids), for everyone else no limit."""
    scoped = make_user("department_officer", department=scene.departments["B"])
    unscoped = make_user("province_officer")
    statement = visibility.visible_indicators(scoped)
    assert "department_id" in str(statement) and "IN (" not in str(statement).upper().replace(
        "IN (SELECT", "")
    assert visibility.visible_indicators(unscoped) is None
    codes = {db.session.get(Indicator, i).code for i in visibility.visible_ids(scoped)}
    assert codes == {"poor_households", "road_hardened", "poor_rate"}
