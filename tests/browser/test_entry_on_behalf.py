"""Issue #14 "Done when", in Chromium at 360 × 640: a commune officer enters a village's
yearly form on its behalf (the village has no phone), another officer of the commune approves
it, and the audit names both; the officer who typed it in cannot approve it (four eyes)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests import forks
from tests.browser.conftest import (
    ROOT,
    SEED_PERSON,
    ReviewServer,
    _Database,
    _free_port,
    _gunicorn,
    _server_env,
    wait_until,
)
from tests.browser.test_review_journey import (
    FORM,
    PERIOD,
    YEARLY,
    assert_clean,
    fill_yearly,
    no_sideways_scroll,
    settled,
    sign_in_people,
)

pytestmark = pytest.mark.browser

SECOND_OFFICER = ("demo-xa-b", "demo-xa-b-2026", "Cán bộ xã thứ hai (mẫu)")
VALUES = {"households": 64, "poor": 7, "near_poor": 3, "population": {"03": (120, 118)}}



@dataclass
class BehalfServer(ReviewServer):
    village: tuple[int, str] = (0, "")


@pytest.fixture(scope="module")
def behalf_server(tmp_path_factory, demo_database):
    """gunicorn over a database of its own (a copy of the session's demo database), with a
    second officer of the commune."""
    directory = tmp_path_factory.mktemp("behalf")
    database = _Database(directory)
    port = _free_port()
    database_url = database.create(demo_database)
    env = _server_env(database_url, port)
    sign_ins = demo_database.sign_ins
    try:
        done = forks.run([sys.executable, "-c", SEED_PERSON, *SECOND_OFFICER,
                          "commune_officer"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300, check=False)
        assert done.returncode == 0, f"seed failed:\n{done.stdout}\n{done.stderr}"
        seeded = json.loads(done.stdout.strip().splitlines()[-1])
        with _gunicorn(env, port, directory / "gunicorn.log") as url:
            yield BehalfServer(url, sign_ins, directory / "gunicorn.log", env=env,
                               database_url=database_url, commune_id=seeded["commune"],
                               village=tuple(seeded["villages"][2]))  # no village head
    finally:
        database.drop()


@pytest.fixture
def people(browser, behalf_server):
    yield from sign_in_people(browser, behalf_server.url)


def test_an_officer_enters_for_a_village_and_another_approves(behalf_server, people):
    server = behalf_server
    village_id, village = server.village
    first = people(*server.sign_in_for("commune_officer"))
    page = first.page
    page.get_by_role("link", name="Nhập thay cho thôn").click()
    page.wait_for_url("**/entry/for/")
    no_sideways_scroll(page)
    section = page.locator("section.village", has_text=village)
    section.get_by_role("link", name=YEARLY).click()
    page.wait_for_url(f"**/entry/for/{village_id}/{FORM}/{PERIOD}")
    expect(page.locator("#behalf")).to_be_visible()
    no_sideways_scroll(page)
    fill_yearly(page, VALUES)
    settled(page)
    page.click("form.entry button[value=submit]")
    page.wait_for_url("**/review/*")
    expect(page.locator("#typed-in")).to_contain_text("Xã nhập thay cho thôn")
    expect(page.locator("#lock")).to_have_attribute("data-lock", "own_submission")
    no_sideways_scroll(page)
    review_url = page.url
    # The review page of its UUID acknowledged the submit: it left the phone's outbox, which
    # sent it only once (it used to keep it, send it again and, redirected to this page, take
    # that for a session that ended).
    wait_until(page, "async () => (await window.dantocOutbox.list()).length === 0")
    sent = [line for line in server.log.read_text().splitlines()
            if f'"POST /entry/for/{village_id}/{FORM}/{PERIOD} HTTP/1.1" 303' in line]
    assert len(sent) == 1, sent
    assert_clean(first)

    second = people(*SECOND_OFFICER[:2])
    second.page.goto(review_url)
    expect(second.page.locator("#typed-in")).to_be_visible()
    second.page.click("form[action$='/approve'] button[type=submit]")
    expect(second.page.locator(".tag.status-approved")).to_have_count(1)
    assert_clean(second)

    rows = server.rows(
        "SELECT a.action, a.actor_name, a.after FROM audit_events a JOIN submissions s"
        " ON a.object_id = CAST(s.id AS VARCHAR(60)) AND a.object_type = 'submissions'"
        " WHERE s.unit_id = :u AND a.action IN ('submission.submit', 'submission.approve')"
        " ORDER BY a.id", u=village_id)
    actors = [(action, name) for action, name, _after in rows]
    assert actors == [("submission.submit", server.sign_in_for("commune_officer")[0]),
                      ("submission.approve", SECOND_OFFICER[0])]
    after = rows[0][2] if isinstance(rows[0][2], dict) else json.loads(rows[0][2])
    assert after["source"] == "commune"
    state = server.rows("SELECT s.state FROM submissions s WHERE s.unit_id = :u", u=village_id)
    assert state == [("approved",)]
