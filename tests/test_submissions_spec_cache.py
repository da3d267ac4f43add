"""A published form's definition is built once per process and reused (issue 17 item 2),
and any change to what it is built from is seen at the next request, in every process."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from dantoc.extensions import db
from dantoc.indicators.models import DefinitionStamp, Indicator, ValidationRule
from dantoc.submissions import spec_cache
from dantoc.submissions.models import Submission
from tests.client import FreshClient
from tests.conftest import app_on
from tests.factories import Setup, make_village, make_village_head, signed_in
from tests.factories_submissions import (
    entry_fixture,  # noqa: F401  (the "entry" fixture)
    entry_url,
    post,
)
from tests.test_statement_counts import counting
from tests.test_submissions_formbuilder import _last_year


def _statements(entry) -> int:
    with counting() as statements:
        assert entry.client.get(entry.url).status_code == 200
    return len(statements)


def _indicator(entry, code: str) -> Indicator:
    return db.session.scalar(sa.select(Indicator).where(
        Indicator.catalogue_version_id == entry.version.form.catalogue_version_id,
        Indicator.code == code))


def test_requests_reuse_the_built_form(entry):
    """Steady state with the cache against steady state without it (no stamp row: nothing
    is ever reused); the first requests of a session do more (renewals), so skip them."""
    spec_cache.clear()
    _statements(entry), _statements(entry)
    cached = _statements(entry)
    db.session.execute(sa.delete(DefinitionStamp))
    db.session.commit()
    assert spec_cache.stamp() == ""
    _statements(entry)
    rebuilt = _statements(entry)
    assert cached <= rebuilt - 5, (cached, rebuilt)  # sections, items, indicators, rules …


def test_an_indicator_renamed_after_publication_shows_at_once(entry):
    html = entry.client.get(entry.url).get_data(as_text=True)
    assert "Tổng số hộ" in html
    before = db.session.scalar(sa.select(DefinitionStamp.stamp))
    _indicator(entry, "households").name = "Số hộ (đã sửa)"
    db.session.commit()
    assert db.session.scalar(sa.select(DefinitionStamp.stamp)) != before
    html = entry.client.get(entry.url).get_data(as_text=True)
    assert "Số hộ (đã sửa)" in html


def test_a_rule_added_after_publication_is_checked_at_once(entry):
    answers = entry.answers(households="5")
    assert entry.client.get(entry.url).status_code == 200  # built and kept
    db.session.add(ValidationRule(
        catalogue_version_id=entry.version.form.catalogue_version_id, code="at_least_10",
        expression="households >= 10", message="Ít nhất 10 hộ (quy tắc mới).",
        severity="error"))
    db.session.commit()
    response = post(entry.client, entry.url, answers, key="5a7c0f55-33a1-4d0a-9a57-0b7d3e1f2a11")
    assert "Ít nhất 10 hộ (quy tắc mới)." in response.get_data(as_text=True)


def _hidden(html: str, name: str) -> str:
    return re.search(rf'<input id="{name}" name="{name}" type="hidden" value="([^"]*)">',
                     html).group(1)


@pytest.fixture
def csrf_app(database_url):
    with app_on(database_url, WTF_CSRF_ENABLED=True) as app:
        yield app


def test_a_kept_form_carries_each_pages_own_address_token_and_uuid(csrf_app):
    """A new form with nothing in it is rendered once per process and kept whole (issue
    17); every page puts back its own address, CSRF token and UUID."""
    spec_cache.clear()
    entry = Setup(lambda user: signed_in(FreshClient(csrf_app), user))
    village = make_village()
    other = signed_in(FreshClient(csrf_app), make_village_head(village))
    url = entry_url(village, entry.version, entry.period)
    first = entry.client.get(entry.url).get_data(as_text=True)
    forms = [key for key in spec_cache._markup if key[0] == "form"]
    assert len(forms) == 1
    second = other.get(url).get_data(as_text=True)
    assert [key for key in spec_cache._markup if key[0] == "form"] == forms  # reused
    for html, own in ((first, entry.url), (second, url)):
        assert f'<form method="post" action="{own}" class="entry"' in html
        assert f'data-hx-post="{own}/check"' in html
        token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
        assert _hidden(html, "csrf_token") == token
        assert "\x00" not in html
    assert _hidden(first, "uuid") != _hidden(second, "uuid")
    assert _hidden(first, "csrf_token") != _hidden(second, "csrf_token")
    answers = {**entry.answers(), "csrf_token": _hidden(second, "csrf_token")}
    response = post(other, url, answers, key=_hidden(second, "uuid"))
    assert response.status_code == 303  # the kept page's token and UUID are this page's
    assert db.session.scalar(sa.select(Submission.client_uuid).where(
        Submission.unit_id == village.id)) == uuid.UUID(_hidden(second, "uuid"))


def test_a_form_showing_last_periods_values_is_not_kept_whole(app, login):
    entry = Setup(login)
    village = make_village()
    other = signed_in(FreshClient(app), make_village_head(village))
    assert other.get(entry_url(village, entry.version, entry.period)).status_code == 200
    _last_year(entry, approve=True)
    html = entry.client.get(entry.url).get_data(as_text=True)
    assert re.search(rf'<small id="{entry.name("households")}-p">[^<]*40', html)
