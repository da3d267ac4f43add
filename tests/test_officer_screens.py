"""Issue 16, officer screens for a commune of 30 villages: each role lands on its work; the
navigation reaches users, the unit's report and completeness; completeness's "create an
account" opens a form with only the fields that apply and the unit filled in; the inbox finds
a village by name and leads to the next report; the review page puts each field's comment
box beside its value; a grid offers the commune's ethnic groups first."""

from __future__ import annotations

import re

import pytest

from dantoc.extensions import db
from dantoc.submissions import formbuilder
from tests.factories import make_user
from tests.factories_submissions import html_of, make_village_head
from tests.test_reports_support import COMMUNE, make_world, officer, put, village_values


@pytest.mark.parametrize("role, unit_code, landing", [
    ("commune_officer", COMMUNE, "/review/"),
    ("province_officer", "12", "/reports/completeness"),
    ("department_officer", "12", "/reports/completeness"),
])
def test_each_officer_lands_on_their_work(login, role, unit_code, landing):
    client = login(make_user(role, unit_code=unit_code))
    response = client.get("/")
    assert response.status_code == 303 and response.headers["Location"] == landing


def test_the_village_head_lands_on_what_is_due(app, login):
    w = make_world(villages=1, others=0)
    client = login(make_village_head(w.villages[0]))
    assert client.get("/").headers["Location"] == "/entry/"


def test_the_commune_officer_reaches_users_the_report_and_completeness(app):
    w = make_world(villages=1, others=0)
    _user, client = officer(app, "commune_officer", COMMUNE)
    nav = client.get("/review/").get_data(as_text=True).split("<main", 1)[0]
    for href in ('href="/accounts/users"', 'href="/reports/completeness"',
                 'href="/reports/own"', 'href="/review/"'):
        assert href in nav, href
    response = client.get("/reports/own")
    assert response.status_code == 303
    assert response.headers["Location"] == w.report_url(w.commune)


def test_completeness_links_to_creating_the_missing_village_head(app):
    w = make_world(villages=2, others=0)
    make_village_head(w.villages[0])
    _user, client = officer(app, "commune_officer", COMMUNE)
    html = client.get("/reports/completeness").get_data(as_text=True)
    link = f'/accounts/users/new?unit={w.villages[1].id}&amp;role=village_head'
    assert link in html
    assert f'/accounts/users/new?unit={w.villages[0].id}&amp;' not in html  # has a head

    page = html_of(client.get(link.replace("&amp;", "&")))
    assert "role_code" not in page or page.attrs("role_code")["tag"] == "input"
    assert "password" not in page and "department_id" not in page
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(rf'<option selected value="{w.villages[1].id}"', form)
    units = re.findall(r'<option[^>]* value="(\d+)"', form)
    assert str(w.commune.id) not in units  # a village head belongs to a village


def test_a_new_village_head_defaults_to_a_village_without_one(app):
    w = make_world(villages=2, others=0)
    make_village_head(w.villages[0])
    _user, client = officer(app, "commune_officer", COMMUNE)
    form = client.get("/accounts/users/new").get_data(as_text=True)
    selected = re.search(r'<option selected value="(\d+)"', form)
    assert selected and int(selected[1]) not in (w.villages[0].id, w.commune.id)
    response = client.post("/accounts/users/new", data={
        "username": "truong-ban-moi", "full_name": "Trưởng bản mới",
        "role_code": "village_head", "unit_id": str(w.villages[1].id)})
    assert response.status_code == 303, response.get_data(as_text=True)


def test_the_province_chooses_role_department_and_password(app):
    _user, client = officer(app, "admin", "12")
    page = html_of(client.get("/accounts/users/new"))
    assert page.attrs("role_code")["tag"] == "select"
    assert "password" in page


def test_the_inbox_finds_a_village_and_leads_to_the_next_report(app):
    w = make_world(villages=3, others=0)
    waiting = [put(w.version, v, w.period, village_values(10), state="submitted")
               for v in w.villages]
    _user, client = officer(app, "commune_officer", COMMUNE)
    name = w.villages[1].name
    typed = w.villages[1].code[-3:].lower()  # "r08" finds "Bản thử 03388-R08 (mẫu)"
    text = html_of(client.get("/review/", query_string={"village": typed}))
    rows = text.text("review-rows")
    assert name in rows and w.villages[0].name not in rows and w.villages[2].name not in rows

    first = waiting[0]
    page = client.get(f"/review/{first.client_uuid}").get_data(as_text=True)
    nexts = re.findall(r'id="next-report"\s+href="/review/([0-9a-f-]+)"', page)
    assert len(nexts) == 1 and nexts[0] != str(first.client_uuid)
    response = client.post(f"/review/{first.client_uuid}/approve", data={"version": "1"},
                           follow_redirects=True)
    after = response.get_data(as_text=True)
    nexts = re.findall(r'id="next-report"\s+href="/review/([0-9a-f-]+)"', after)
    assert nexts and nexts[0] in {str(s.client_uuid) for s in waiting[1:]}


def test_each_comment_box_is_beside_its_value(app):
    w = make_world(villages=1, others=0)
    submission = put(w.version, w.villages[0], w.period, village_values(10, 4, 5),
                     state="submitted")
    _user, client = officer(app, "commune_officer", COMMUNE)
    html = client.get(f"/review/{submission.client_uuid}").get_data(as_text=True)
    items = re.findall(r"<li[^>]*>(.*?)</li>", html.split('<ol class="values"', 1)[1]
                       .split("</ol>", 1)[0], re.S)
    thai = next(i for i in items if "Thái – Nữ" in i)
    assert ">5<" in thai and 'form="return-form"' in thai and "<input" in thai
    assert "<details" not in html  # no separate list of comment boxes below


def test_a_grid_offers_the_communes_groups_first(app):
    w = make_world(villages=2, others=0)
    put(w.version, w.villages[0], w.period,  # a neighbour reported Dao (09)
        {"households": 5, "population|ethnic_group=09;sex=male": 3})
    spec = formbuilder.load_spec(w.version)
    from dantoc.submissions import queries

    nearby = queries.keys_nearby(w.villages[1], ["population"])
    grid = formbuilder.layout(spec, [], {}, nearby=nearby)
    population = next(g for g in grid.values() if g.item.indicator.code == "population")
    assert population.addable[0][0] == "09"
    db.session.rollback()
