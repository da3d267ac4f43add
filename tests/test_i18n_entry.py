"""A village head in a minority locale: translated labels where they exist, Vietnamese
(marked ``lang="vi"``) everywhere else, never a blank; numbers still validate."""

from __future__ import annotations

import re

import pytest

from dantoc.extensions import db
from dantoc.i18n import services
from tests import i18n_support
from tests.factories import (
    entry_url,
    make_period,
    make_questionnaire,
    make_village,
    make_village_head,
    signed_in,
)
from tests.i18n_support import TEST_TAG

qaa_translations = i18n_support.qaa_translations
qaa_app = i18n_support.qaa_app
qaa_client = i18n_support.qaa_client


def _items(version) -> dict:
    return {i.indicator.code: i.indicator for s in version.sections for i in s.items}


@pytest.fixture
def form_page(qaa_app, qaa_client):
    """The questionnaire page of a village head who chose the test locale, with the name of
    one indicator, one choice label and one section title translated."""
    village, version = make_village(), make_questionnaire()
    period = make_period()
    indicators = _items(version)
    households, access = indicators["households"], indicators["health_access"]
    services.set_content("indicators", households.id, "name", TEST_TAG, "QAA-TEST households",
                         households.name)
    choice = access.choices[0]
    services.set_content("indicator_choices", choice.id, "label", TEST_TAG, "QAA-TEST near",
                         choice.label)
    section = version.sections[0]
    services.set_content("form_sections", section.id, "title", TEST_TAG, "QAA-TEST part",
                         section.title)
    user = make_village_head(village, locale=TEST_TAG)
    db.session.commit()
    signed_in(qaa_client, user)
    response = qaa_client.get(entry_url(village, version, period))
    assert response.status_code == 200
    return response.get_data(as_text=True), indicators


def test_translated_labels_appear_where_they_exist(form_page):
    html, _indicators = form_page
    assert '<html lang="qaa">' in html
    assert re.search(r"<label for=\"v\d+\">QAA-TEST households", html)
    assert "QAA-TEST near" in html
    assert "<h2>QAA-TEST part</h2>" in html


def test_everything_else_is_vietnamese_and_marked_so(form_page):
    html, indicators = form_page
    for code in ("poor_households", "distance_km", "note"):
        assert f'<span lang="vi">{indicators[code].name}</span>' in html
    assert '<span lang="vi">Điều cần báo thêm</span>' in html  # help text
    assert "<h2>Phần 2</h2>" in html
    assert "Dưới 5 km" in html  # untranslated choice label
    labels = re.findall(r"<(?:label|legend)[^>]*>(.*?)</(?:label|legend)>", html, re.S)
    assert labels and all(re.sub(r"<[^>]+>", "", label).strip() for label in labels)
