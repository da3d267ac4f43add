"""A published form's definition is built once per process and reused (issue 17 item 2),
and any change to what it is built from is seen at the next request, in every process."""

from __future__ import annotations

import sqlalchemy as sa

from dantoc.extensions import db
from dantoc.indicators.models import DefinitionStamp, Indicator, ValidationRule
from dantoc.submissions import spec_cache
from tests.factories_submissions import (
    entry_fixture,  # noqa: F401  (the "entry" fixture)
    post,
)
from tests.test_statement_counts import counting


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
