"""Fallback chains: a minority locale with partial translations shows them where they exist
and Vietnamese elsewhere, never a blank; formatting never fails for a locale CLDR lacks."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from unittest.mock import patch

import pytest
import pytz
import sqlalchemy as sa
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from dantoc.catalogs.models import EthnicGroup, Religion
from dantoc.extensions import db
from dantoc.i18n import content, formatting, services
from dantoc.i18n.content import NotTranslatable, tr, tr_html
from dantoc.i18n.locales import LOCALES
from dantoc.i18n.selection import use_locale
from tests import i18n_support
from tests.factories import make_user, signed_in
from tests.i18n_support import TEST_STRINGS, TEST_TAG

qaa_translations = i18n_support.qaa_translations
qaa_app = i18n_support.qaa_app
qaa_client = i18n_support.qaa_client

ALL_TAGS = [loc.tag for loc in LOCALES]


def ethnic(code: str) -> EthnicGroup:
    return db.session.scalar(sa.select(EthnicGroup).where(EthnicGroup.code == code))


def text_of(html: str, selector_re: str) -> str:
    return re.search(selector_re, html, re.S).group(1).strip()


# --- interface -----------------------------------------------------------------------------

def test_test_locale_shows_its_strings_and_vietnamese_elsewhere(qaa_client):
    html = qaa_client.get(f"/accounts/login?lang={TEST_TAG}").get_data(as_text=True)
    assert '<html lang="qaa">' in html
    assert text_of(html, r"<h1>(.*?)</h1>") == TEST_STRINGS["Sign in"]
    assert text_of(html, r'<label for="lang-select">(.*?)</label>') == TEST_STRINGS["Language"]
    assert text_of(html, r'<label for="username">(.*?)</label>') == "Tên đăng nhập"  # vi


def test_database_strings_come_before_the_catalog_and_are_seen_at_once(qaa_app, qaa_client):
    services.set_interface(TEST_TAG, "Password", "QAA-TEST password")
    services.set_interface(TEST_TAG, "Sign in", "QAA-TEST sign-in from the database")
    db.session.commit()
    html = qaa_client.get(f"/accounts/login?lang={TEST_TAG}").get_data(as_text=True)
    assert text_of(html, r'<label for="password">(.*?)</label>') == "QAA-TEST password"
    assert text_of(html, r"<h1>(.*?)</h1>") == "QAA-TEST sign-in from the database"


@pytest.mark.parametrize("tag", ALL_TAGS)
def test_every_registered_locale_renders_every_label(client, tag):
    html = client.get(f"/accounts/login?lang={tag}").get_data(as_text=True)
    labels = re.findall(r"<label[^>]*>(.*?)</label>", html, re.S)
    assert len(labels) >= 3 and all(label.strip() for label in labels)
    expected = "Sign in" if tag == "en" else "Đăng nhập"  # minority catalogs ship empty
    assert text_of(html, r"<h1>(.*?)</h1>") == expected


def test_plural_messages_fall_back_too(qaa_app):
    from flask_babel import ngettext

    with qaa_app.test_request_context(f"/?lang={TEST_TAG}"):
        assert ngettext("%(num)s unit", "%(num)s units", 3) == "3 đơn vị"
        services.set_interface(TEST_TAG, "%(num)s unit", "QAA-TEST %(num)s")
        db.session.commit()
        from dantoc.i18n.selection import forget

        forget()
        assert ngettext("%(num)s unit", "%(num)s units", 3) == "QAA-TEST 3"


# --- content -------------------------------------------------------------------------------

@pytest.fixture
def translated_group(qaa_app):
    """Thái (code 03) with a test-locale name but no translated note or religion."""
    group = ethnic("03")
    services.set_content("ethnic_groups", group.id, "name", TEST_TAG, "QAA-TEST Thai",
                         group.name)
    db.session.commit()
    return group


def test_content_is_translated_where_it_exists_and_vietnamese_elsewhere(qaa_app,
                                                                        translated_group):
    other = ethnic("01")
    religion = db.session.scalars(sa.select(Religion)).first()
    with qaa_app.test_request_context(f"/?lang={TEST_TAG}"):
        assert tr(translated_group, "name") == "QAA-TEST Thai"
        assert tr(other, "name") == other.name == "Kinh"
        assert tr(religion, "name") == religion.name
        assert str(tr_html(translated_group, "name")) == "QAA-TEST Thai"
        assert str(tr_html(other, "name")) == '<span lang="vi">Kinh</span>'


@pytest.mark.parametrize("tag", ["vi", "en", "ium"])
def test_other_locales_do_not_see_the_test_translation(qaa_app, translated_group, tag):
    with qaa_app.test_request_context(f"/?lang={tag}"):
        assert tr(translated_group, "name") == "Thái"
        expected = "Thái" if tag == "vi" else '<span lang="vi">Thái</span>'
        assert str(tr_html(translated_group, "name")) == expected


def test_tr_html_escapes_text(qaa_app):
    group = ethnic("04")
    services.set_content("ethnic_groups", group.id, "name", TEST_TAG, "A & B <i>", group.name)
    db.session.commit()
    with qaa_app.test_request_context(f"/?lang={TEST_TAG}"):
        assert str(tr_html(group, "name")) == "A &amp; B &lt;i&gt;"


def test_vietnamese_pages_never_read_the_translation_table(app):
    group, statements = ethnic("05"), []

    def listener(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with app.test_request_context("/"):
            assert tr(group, "name") == group.name
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert not [s for s in statements if "content_translations" in s]


def test_unregistered_fields_are_a_programming_error(app):
    with app.test_request_context("/"), pytest.raises(NotTranslatable):
        tr(ethnic("01"), "code")


@pytest.mark.parametrize("object_type", sorted(content.TRANSLATABLE))
def test_every_registered_field_exists_on_its_model(app, object_type):
    model = content.model_of(object_type)
    assert model.__tablename__ == object_type
    for name in content.fields_of(object_type):
        assert name in model.__table__.columns
        assert content.max_length(object_type, name) > 0


@pytest.mark.parametrize("values, message", [
    ({"text": ""}, "not_empty"),
    ({"locale": "vi"}, "not_source_locale"),
])
def test_database_refuses_empty_and_vietnamese_content_translations(app, values, message):
    from dantoc.i18n.models import ContentTranslation

    row = {"object_type": "ethnic_groups", "object_id": ethnic("01").id, "field": "name",
           "locale": "ium", "text": "x", **values}
    db.session.add(ContentTranslation(**row))
    with pytest.raises(sa.exc.IntegrityError, match=message):
        db.session.flush()
    db.session.rollback()


def test_content_writes_are_audited_and_unchanged_writes_are_not(app):
    from dantoc.audit.models import AuditEvent

    group = ethnic("01")
    _row, changed = services.set_content("ethnic_groups", group.id, "name", "ium", "x", "Kinh")
    _row, again = services.set_content("ethnic_groups", group.id, "name", "ium", "x", "Kinh")
    db.session.commit()
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "i18n.content.set")).all()
    assert (changed, again, len(events)) == (True, False, 1)
    assert events[0].after["object"] == f"ethnic_groups:{group.id}:name"


# --- formatting ----------------------------------------------------------------------------

@pytest.mark.parametrize("tag, number, day", [
    ("vi", "1.234.567,5", "01/07/2025"),
    ("en", "1,234,567.5", "01/07/2025"),  # dates: the official dd/mm/yyyy in every language
    ("ium", "1.234.567,5", "01/07/2025"),  # no CLDR data: Vietnamese conventions
    ("hmn-Latn-VN-x-rpa", "1.234.567,5", "01/07/2025"),
    ("blt-Tavt", "1.234.567,5", "01/07/2025"),  # CLDR core only: Vietnamese
    ("lo", "1.234.567,5", "01/07/2025"),
    (TEST_TAG, "1.234.567,5", "01/07/2025"),
])
def test_formatting_uses_cldr_or_falls_back_to_vietnamese(qaa_app, tag, number, day):
    with qaa_app.test_request_context(f"/?lang={tag}"):
        assert formatting.format_number(Decimal("1234567.5")) == number
        assert formatting.format_number(1234567) == number.partition(number[-2])[0]
        # Whole numbers take a shortcut; it writes what Babel writes, whatever the value.
        locale = formatting._locale()
        for value in (0, 7, 999, 1000, 1234567, Decimal("1234567"), Decimal("1234567.000"),
                      Decimal(-1234), 10**12, Decimal("0.0005"), 1234.5):
            assert formatting.format_number(value) == babel_numbers.format_decimal(
                value, locale=locale), value
        assert formatting.format_date(date(2025, 7, 1)) == day
        # A date is written without Babel's general machinery; it writes what Babel writes.
        for value in (date(2025, 7, 1), date(1999, 12, 31), date(2200, 1, 9), date(987, 3, 4),
                      date(1, 1, 1)):
            assert formatting.format_date(value) == babel_dates.format_date(
                value, format=formatting.DATE_PATTERN, locale=locale), value
        assert formatting.format_date(date(2025, 7, 1), "long") == babel_dates.format_date(
            date(2025, 7, 1), format="long", locale=locale)
        assert formatting.format_number(None) == ""
        assert formatting.format_percent(0.125)
        # 03:00 UTC is 10:00 in Asia/Ho_Chi_Minh
        assert formatting.format_datetime(datetime(2025, 7, 1, 3, 0, tzinfo=UTC)) == \
            "10:00 01/07/2025"
        # A moment is written without Babel's general machinery; it writes what Babel writes.
        for zone in ("Asia/Ho_Chi_Minh", "Europe/Paris", "America/St_Johns", "UTC"):
            with patch("flask_babel.get_timezone", lambda zone=zone: pytz.timezone(zone)):
                for value in (datetime(2025, 7, 1, 3, 0, tzinfo=UTC), datetime(2025, 3, 30, 1, 30),
                              datetime(1999, 12, 31, 23, 59, 59), datetime(2200, 1, 1, 0, 5),
                              datetime(2025, 10, 26, 0, 59, tzinfo=UTC)):
                    assert formatting.format_datetime(value) == babel_dates.format_datetime(
                        value, format=formatting.DATETIME_PATTERN,
                        tzinfo=pytz.timezone(zone), locale=locale), (zone, value)
        # a moment's date is its day in the province: 20:00 UTC is already the next day
        assert formatting.format_date(datetime(2025, 6, 30, 20, 0, tzinfo=UTC)) == "01/07/2025"
        assert formatting.format_date(datetime(2025, 6, 30, 20, 0)) == "01/07/2025"  # naive: UTC


@pytest.mark.parametrize("period_type, code, expected", [
    ("year", "2025", "Năm 2025"), ("quarter", "2025-Q3", "Quý 3/2025"),
    ("half_year", "2025-H1", "6 tháng đầu năm 2025"),
    ("half_year", "2025-H2", "6 tháng cuối năm 2025"), ("month", "2025-07", "Tháng 7/2025"),
    ("custom", "DS-2025", "Điều tra 2025"), ("quarter", "garbage", "Điều tra 2025"),
    ("quarter", "2025-Q5", "Điều tra 2025"), ("month", "2025-Q1", "Điều tra 2025"),
])
def test_period_labels(app, period_type, code, expected):
    with app.test_request_context("/"):
        assert formatting.period_label(period_type, code, "Điều tra 2025") == expected


@pytest.mark.parametrize("tag, expected", [("en", "Quarter 3/2025"), ("ium", "Quý 3/2025"),
                                           ("vi", "Quý 3/2025")])
def test_period_labels_follow_the_chain(app, tag, expected):
    with app.test_request_context("/"), use_locale(tag):
        assert formatting.period_label("quarter", "2025-Q3") == expected


def test_period_labels_kept_per_locale_and_period(app):
    """A period's label is kept per process in a locale whose text comes from files only:
    the same label as computed afresh, per locale, type, code and name."""
    from types import SimpleNamespace

    quarter = SimpleNamespace(period_type="quarter", code="2025-Q3", name=None)
    survey = SimpleNamespace(period_type="custom", code="DS-2025", name="Điều tra 2025")
    for tag, expected in (("vi", "Quý 3/2025"), ("en", "Quarter 3/2025"), ("vi", "Quý 3/2025"),
                          ("ium", "Quý 3/2025")):
        with app.test_request_context("/"), use_locale(tag):
            for _twice in range(2):
                assert formatting.format_period(quarter) == expected
                assert formatting.format_period(survey) == "Điều tra 2025"
    survey.name = "Điều tra lại 2025"  # a renamed custom period is a new label
    with app.test_request_context("/"), use_locale("vi"):
        assert formatting.format_period(survey) == "Điều tra lại 2025"
    assert {key[0] for key in app.extensions["dantoc.period_labels"]} == {"vi", "en"}


# --- pages: lang attributes on mixed-language fragments -----------------------------------

def test_a_page_marks_vietnamese_names_inside_an_english_page(client, login):
    login(make_user("province_officer"))
    html = client.get("/catalogs/ethnic-groups?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert '<td><span lang="vi">Thái</span>' in html
    vietnamese = client.get("/catalogs/ethnic-groups?lang=vi").get_data(as_text=True)
    assert "<td>Thái" in vietnamese and '<span lang="vi">' not in vietnamese


def test_a_test_locale_page_mixes_translated_and_vietnamese_names(qaa_client,
                                                                  translated_group):
    user = make_user("province_officer")
    signed_in(qaa_client, user)
    html = qaa_client.get(f"/catalogs/ethnic-groups?lang={TEST_TAG}").get_data(as_text=True)
    assert "<td>QAA-TEST Thai" in html  # the page's own language: no span
    assert '<td><span lang="vi">Kinh</span>' in html  # fallback, marked as Vietnamese
