"""Fixtures for the i18n tests: a private-use test locale with a tiny test-only catalog.

``qaa`` is in the ISO 639-2 range reserved for local use, so it can never be mistaken for a
real language, and its strings are visibly test data. No minority-language text is made up.
"""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog

from dantoc import ROOT
from dantoc.i18n import message_catalogs
from tests.conftest import app_on

TEST_TAG = "qaa"
TEST_LOCALE = {"tag": TEST_TAG, "name_vi": "Ngôn ngữ thử (chỉ để kiểm thử)",
               "test_only": True}
#: The only strings of the test catalog: English msgid → obviously fake test text.
TEST_STRINGS = {"Sign in": "QAA-TEST sign-in", "Language": "QAA-TEST language"}


def write_test_catalog(root) -> None:
    catalog = Catalog(locale=TEST_TAG, header_comment="# TEST DATA, not a language.")
    for msgid, text in TEST_STRINGS.items():
        catalog.add(msgid, text)
    message_catalogs.write(message_catalogs.po_path(TEST_TAG, root), catalog)
    message_catalogs.compile_all(root, force=True)


@pytest.fixture(scope="session")
def qaa_translations(tmp_path_factory):
    root = tmp_path_factory.mktemp("translations")
    write_test_catalog(root)
    return root


@pytest.fixture
def qaa_app(database_url, qaa_translations):
    """An app that also knows the test locale ``qaa`` and its test catalog."""
    with app_on(database_url, I18N_EXTRA_LOCALES=[TEST_LOCALE],
                BABEL_TRANSLATION_DIRECTORIES=f"{ROOT / 'translations'};{qaa_translations}"
                ) as app:
        yield app


@pytest.fixture
def qaa_client(qaa_app):
    return qaa_app.test_client()
