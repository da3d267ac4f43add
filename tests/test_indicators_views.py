"""Province staff screens of the indicator system, through HTTP."""

from datetime import date

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.indicators import services
from dantoc.indicators.models import (
    CatalogueVersion,
    FormItem,
    FormSection,
    FormVersion,
    Indicator,
    IndicatorGroup,
    Period,
    ValidationRule,
)
from tests.factories import (
    BOOSTED,
    HX,
    ensure_reference,
    make_catalogue,
    make_form,
    make_group,
    make_household_catalogue,
    make_indicator,
    make_user,
)


@pytest.fixture
def staff(app, login):
    """A signed-in province officer's client."""
    ensure_reference()
    return login(make_user("province_officer"))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def text(response) -> str:
    return response.get_data(as_text=True)


PAGES = ["/indicators/", "/indicators/catalogues", "/indicators/catalogues/new",
         "/indicators/groups", "/indicators/groups/new", "/indicators/list",
         "/indicators/list/new", "/indicators/rules", "/indicators/rules/new",
         "/indicators/forms", "/indicators/forms/new", "/indicators/periods",
         "/indicators/periods/new"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_province_staff(staff, path):
    response = staff.get(path)
    assert response.status_code == 200
    assert "<html" in text(response)
    assert "Traceback" not in text(response)


@pytest.mark.parametrize("role", ["village_head", "commune_officer", "department_officer",
                                  "api_client"])
@pytest.mark.parametrize("method, path", [
    ("get", "/indicators/"), ("get", "/indicators/list"), ("get", "/indicators/periods"),
    ("post", "/indicators/catalogues/new"), ("post", "/indicators/periods/generate"),
])
def test_roles_without_form_manage_get_403(app, login, role, method, path):
    ensure_reference()
    client = login(make_user(role))
    response = getattr(client, method)(path, data={"code": "X", "name": "X",
                                                   "valid_from": "2026-01-01"})
    assert response.status_code == 403
    assert count(CatalogueVersion) == 0 and count(Period) == 0
    assert db.session.scalar(sa.select(AuditEvent.id).where(
        AuditEvent.action.like("indicators.%"))) is None


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get("/indicators/list")
    assert response.status_code in (302, 303, 401)
    assert count(CatalogueVersion) == 0


# --- indicator list: search, filter, paginate, fragment ---

def seed_list():
    version, group, _ = make_household_catalogue()
    other = make_group(make_catalogue("OTHER"), "GX", name="Nhóm khác")
    make_indicator(other, "schools", name="Số trường học")
    for n in range(30):
        make_indicator(group, f"bulk_{n:02d}", name=f"Chỉ tiêu hàng loạt {n}")
    db.session.commit()
    return version, group, other


def test_list_search_by_code_or_name(staff):
    seed_list()
    page = text(staff.get("/indicators/list?q=near"))
    assert "near_poor" in page and "households" not in page
    page = text(staff.get("/indicators/list?q=trường"))
    assert "schools" in page and "bulk_01" not in page


def test_list_filter_by_version_and_group(staff):
    _, group, other = seed_list()
    page = text(staff.get(f"/indicators/list?version={other.catalogue_version_id}"))
    assert "schools" in page and "households" not in page
    page = text(staff.get(f"/indicators/list?group={group.id}&q=poor"))
    assert "near_poor" in page and "schools" not in page


def test_list_paginates(staff):
    seed_list()
    first = text(staff.get("/indicators/list"))
    second = text(staff.get("/indicators/list?page=2"))
    assert ": 36<" in first
    assert first.count("/edit\"") == 25
    assert second.count("/edit\"") == 11
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_list_fragment_vs_page(staff):
    seed_list()
    fragment = text(staff.get("/indicators/list?q=poor", headers=HX))
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<div id="indicator-rows"')
    assert "near_poor" in fragment and "bulk_01" not in fragment
    boosted = text(staff.get("/indicators/list?q=poor", headers=BOOSTED))
    assert "<html" in boosted


# --- create and edit through HTTP ---

def test_create_catalogue_version(staff):
    response = staff.post("/indicators/catalogues/new", data={
        "code": "TT06-2025", "name": "TT 06/2025", "valid_from": "2025-07-01"})
    assert response.status_code == 303
    version = db.session.scalar(sa.select(CatalogueVersion))
    assert (version.code, version.valid_from, version.valid_to) == (
        "TT06-2025", date(2025, 7, 1), None)
    assert db.session.scalar(sa.select(AuditEvent.action).where(
        AuditEvent.action == "indicators.catalogue.create"))


@pytest.mark.parametrize("data, field", [
    ({"code": "TAKEN", "name": "X", "valid_from": "2025-07-01"}, "code"),
    ({"code": "bad code!", "name": "X", "valid_from": "2025-07-01"}, "code"),
    ({"code": "NEW", "name": "X", "valid_from": "2025-07-01", "valid_to": "2025-01-01"},
     "valid_to"),
    ({"code": "NEW", "name": "", "valid_from": "2025-07-01"}, "name"),
    ({"code": "NEW", "name": "X", "valid_from": "not a date"}, "valid_from"),
])
def test_bad_catalogue_version_shows_message_at_field(staff, data, field):
    make_catalogue("TAKEN")
    db.session.commit()
    response = staff.post("/indicators/catalogues/new", data=data)
    assert response.status_code == 200
    assert f'id="{field}-err"' in text(response)
    assert count(CatalogueVersion) == 1


def test_create_and_edit_group(staff):
    version = make_catalogue()
    db.session.commit()
    response = staff.post("/indicators/groups/new", data={
        "catalogue_version": version.id, "code": "G01", "name": "Dân số", "department": 0})
    assert response.status_code == 303
    group = db.session.scalar(sa.select(IndicatorGroup))
    response = staff.post(f"/indicators/groups/{group.id}/edit", data={
        "code": "G01", "name": "Dân số và phân bố", "department": 0, "position": 2})
    assert response.status_code == 303
    db.session.expire_all()
    assert (group.name, group.position) == ("Dân số và phân bố", 2)


def indicator_data(group, **values):
    return {"group": group.id, "code": "poor_households", "name": "Số hộ nghèo",
            "value_type": "integer", "aggregation": "sum", "unit_of_measure": "hộ",
            "min_value": "0", "max_value": "", "help_text": "", "choices": ""} | values


def test_create_indicator_with_choices(staff):
    group = make_group(make_catalogue())
    db.session.commit()
    response = staff.post("/indicators/list/new", data=indicator_data(
        group, code="health", value_type="choice", aggregation="none", min_value="",
        choices="Gần\nxa | Xa trạm", required="y"))
    assert response.status_code == 303
    indicator = db.session.scalar(sa.select(Indicator))
    assert indicator.required is True
    assert [(c.code, c.label) for c in indicator.choices] == [("gan", "Gần"), ("xa", "Xa trạm")]


@pytest.mark.parametrize("values, field", [
    ({"code": "1 bad"}, "code"),
    ({"code": "households"}, "code"),
    ({"min_value": "10", "max_value": "5"}, "max_value"),
    ({"min_value": "abc"}, "min_value"),
    ({"value_type": "choice", "aggregation": "none", "min_value": ""}, "choices"),
    ({"choices": "a | A\na | B"}, "choices"),
    ({"value_type": "nonsense"}, "value_type"),
])
def test_bad_indicator_shows_message_at_field(staff, values, field):
    _, group, _ = make_household_catalogue()
    db.session.commit()
    before = count(Indicator)
    response = staff.post("/indicators/list/new", data=indicator_data(group, **values))
    assert response.status_code == 200
    assert f'id="{field}-err"' in text(response)
    assert count(Indicator) == before


def test_edit_indicator_form_shows_current_values(staff):
    group = make_group(make_catalogue())
    indicator = make_indicator(group, "distance", "decimal", min_value=0, max_value=200,
                               unit_of_measure="km")
    db.session.commit()
    page = text(staff.get(f"/indicators/{indicator.id}/edit"))
    assert 'value="distance"' in page and 'value="200"' in page and 'value="km"' in page
    response = staff.post(f"/indicators/{indicator.id}/edit", data=indicator_data(
        group, code="distance", value_type="decimal", aggregation="average", max_value="150"))
    assert response.status_code == 303
    db.session.expire_all()
    assert (indicator.max_value, indicator.aggregation) == (150, "average")


def test_create_rule_and_parser_error_at_field(staff):
    version, _, _ = make_household_catalogue()
    db.session.commit()
    response = staff.post("/indicators/rules/new", data={
        "catalogue_version": version.id, "code": "poor_le", "severity": "error",
        "message": "Sai", "expression": "poor <= households.__class__"})
    assert response.status_code == 200
    page = text(response)
    assert 'id="expression-err"' in page and "19" in page
    assert count(ValidationRule) == 0
    response = staff.post("/indicators/rules/new", data={
        "catalogue_version": version.id, "code": "poor_le", "severity": "error",
        "message": "Sai", "expression": "poor <= households"})
    assert response.status_code == 303
    page = text(staff.get("/indicators/rules"))
    assert "poor &lt;= households" in page


# --- forms and the version editor ---

@pytest.fixture
def draft(staff):
    version, _, indicators = make_household_catalogue()
    form = make_form(version, "PT01")
    section = services.add_section(form.versions[0], "Hộ gia đình")
    for code in ("households", "poor"):
        services.add_item(section, indicators[code])
    db.session.commit()
    return form.versions[0]


def test_create_form_through_http(staff):
    version = make_catalogue()
    ensure_reference()
    village = db.session.scalar(sa.text("SELECT id FROM admin_levels WHERE code = 'village'"))
    response = staff.post("/indicators/forms/new", data={
        "code": "PT-THON", "kind": "phieu", "name": "Phiếu thôn", "legal_basis": "",
        "catalogue_version": version.id, "fill_level": village, "period_type": "year"})
    assert response.status_code == 303
    created = db.session.scalar(sa.select(FormVersion))
    assert response.headers["Location"].endswith(f"/indicators/versions/{created.id}")
    assert (created.number, created.status, created.period_type) == (1, "draft", "year")


def test_editor_page_and_preview(staff, draft):
    page = text(staff.get(f"/indicators/versions/{draft.id}"))
    assert "Hộ gia đình" in page and "households" in page and 'id="version-editor"' in page
    preview = text(staff.get(f"/indicators/versions/{draft.id}/preview"))
    assert "Hộ gia đình" in preview and "Chỉ tiêu poor" in preview


def test_add_section_and_item_with_htmx(staff, draft):
    response = staff.post(f"/indicators/versions/{draft.id}/sections",
                          data={"title": "Trường học"}, headers=HX)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and "Trường học" in fragment
    section = db.session.scalar(sa.select(FormSection).where(FormSection.title == "Trường học"))
    school = db.session.scalar(sa.select(Indicator).where(Indicator.code == "has_school"))
    response = staff.post(f"/indicators/versions/{draft.id}/items",
                          data={"section": section.id, "indicator": school.id})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(FormItem.section_id).where(
        FormItem.indicator_id == school.id)) == section.id


def test_add_item_twice_is_refused_at_field(staff, draft):
    section = draft.sections[0]
    poor = db.session.scalar(sa.select(Indicator).where(Indicator.code == "poor"))
    response = staff.post(f"/indicators/versions/{draft.id}/items",
                          data={"section": section.id, "indicator": poor.id}, headers=HX)
    assert response.status_code == 200
    assert 'id="indicator-err"' in text(response)
    assert count(FormItem) == 2


def test_move_and_remove_item_with_htmx(staff, draft):
    last = draft.sections[0].items[1]
    response = staff.post(f"/indicators/items/{last.id}/move/up", headers=HX)
    fragment = text(response)
    assert "<html" not in fragment
    assert fragment.index("poor") < fragment.index("households")
    response = staff.post(f"/indicators/items/{last.id}/remove")
    assert response.status_code == 303
    db.session.expire_all()
    assert [i.indicator.code for i in draft.sections[0].items] == ["households"]


def test_publish_then_edits_are_refused_then_new_version(staff, draft):
    response = staff.post(f"/indicators/versions/{draft.id}/publish")
    assert response.status_code == 303
    db.session.expire_all()
    assert draft.status == "published"
    item = draft.sections[0].items[0]
    response = staff.post(f"/indicators/items/{item.id}/remove", headers=HX)
    assert "error-box" in text(response)
    response = staff.post(f"/indicators/versions/{draft.id}/sections", data={"title": "X"},
                          follow_redirects=True)
    assert 'class="flash"' in text(response)
    assert count(FormItem) == 2 and count(FormSection) == 1
    response = staff.post(f"/indicators/forms/{draft.form_id}/new-version")
    assert response.status_code == 303
    copy = db.session.scalar(sa.select(FormVersion).where(FormVersion.number == 2))
    assert response.headers["Location"].endswith(f"/indicators/versions/{copy.id}")
    assert count(FormItem) == 4


# --- periods ---

def test_generate_quarters_for_a_year(staff):
    response = staff.post("/indicators/periods/generate", data={
        "period_type": "quarter", "year": "2027", "opens_before_end": "7",
        "closes_after_end": "15"})
    assert response.status_code == 303
    codes = db.session.scalars(sa.select(Period.code).order_by(Period.code)).all()
    assert codes == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    services.create_period(period_type="year", code="2030", opens_on=date(2030, 12, 1),
                           closes_on=date(2031, 1, 31))
    db.session.commit()
    page = text(staff.get("/indicators/periods?year=2027"))
    assert all(f"2027-Q{n}" in page for n in range(1, 5)) and "2030" not in page


def test_custom_period_without_cutoff_is_refused_at_field(staff):
    response = staff.post("/indicators/periods/new", data={
        "period_type": "custom", "code": "DT-2026", "name": "Điều tra", "start_date": "2026-01-01",
        "end_date": "2026-06-30", "opens_on": "2026-07-01", "closes_on": "2026-08-01"})
    assert response.status_code == 200
    assert 'id="cutoff_date-err"' in text(response)
    assert count(Period) == 0


def test_period_window_checked_at_field(staff):
    response = staff.post("/indicators/periods/new", data={
        "period_type": "year", "code": "2026", "opens_on": "2026-12-01",
        "closes_on": "2026-11-01"})
    assert 'id="closes_on-err"' in text(response)
    assert count(Period) == 0
    response = staff.post("/indicators/periods/new", data={
        "period_type": "year", "code": "2026", "opens_on": "2026-11-01",
        "closes_on": "2027-01-31"})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Period.name)) == "Năm 2026"


# --- department confidentiality ---

def test_department_staff_edit_only_their_departments_groups(app, login):
    from dantoc.catalogs.models import Department

    ensure_reference()
    mine, theirs = Department(code="d-mine", name="Phòng A"), Department(code="d-x", name="B")
    db.session.add_all([mine, theirs])
    db.session.flush()
    version = make_catalogue()
    own = make_group(version, "G1", department=mine)
    other = make_group(version, "G2", department=theirs)
    foreign = make_indicator(other, "foreign")
    client = login(make_user("province_officer", department_id=mine.id))
    assert client.get(f"/indicators/groups/{own.id}/edit").status_code == 200
    assert client.get(f"/indicators/groups/{other.id}/edit").status_code == 403
    assert client.get(f"/indicators/{foreign.id}/edit").status_code == 403
    response = client.post("/indicators/list/new", data=indicator_data(other, code="sneaky"))
    assert response.status_code == 403
    assert db.session.scalar(sa.select(Indicator.id).where(Indicator.code == "sneaky")) is None
    listing = text(client.get("/indicators/list"))
    assert f"/indicators/{foreign.id}/edit" not in listing and "foreign" in listing
