"""Interface catalogs: Vietnamese and English complete, minority catalogs never invented.

When this fails because someone added a string, run ``scripts/i18n-update`` and translate
the new entries of ``translations/vi/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog

from dantoc.extensions import db
from dantoc.i18n import message_catalogs
from dantoc.i18n.exchange import PLACEHOLDER
from dantoc.i18n.models import ContentTranslation, InterfaceTranslation


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return message_catalogs.extract()


def _ids(catalog) -> dict:
    return {(m.id[0] if m.pluralizable else m.id, m.context): m for m in catalog if m.id}


def _strings(message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


def test_every_msgid_has_a_vietnamese_translation(extracted):
    vi = _ids(message_catalogs.read(message_catalogs.po_path("vi")))
    missing = [key[0] for key in _ids(extracted)
               if key not in vi or vi[key].fuzzy or not all(_strings(vi[key]))]
    assert missing == [], f"{len(missing)} untranslated: run scripts/i18n-update, translate"


def test_english_catalog_lists_every_msgid(extracted):
    en = _ids(message_catalogs.read(message_catalogs.po_path("en")))
    assert sorted(k[0] for k in _ids(extracted) if k not in en) == []


@pytest.mark.parametrize("name", ["vi", "en"])
def test_translations_keep_the_placeholders_of_the_msgid(name):
    wrong = []
    for message in message_catalogs.read(message_catalogs.po_path(name)):
        ids = message.id if message.pluralizable else (message.id,)
        expected = set(PLACEHOLDER.findall(" ".join(ids)))
        for text in filter(None, _strings(message)):
            if set(PLACEHOLDER.findall(text)) - expected or (
                    len(ids) == 1 and set(PLACEHOLDER.findall(text)) != expected):
                wrong.append((ids[0], text))
    assert wrong == []


@pytest.mark.parametrize("msgid, vietnamese", [
    ("Sign in", "Đăng nhập"), ("Catalogs", "Danh mục"), ("Indicators", "Chỉ tiêu"),
    ("Administrative units", "Đơn vị hành chính"), ("Language", "Ngôn ngữ"),
])
def test_key_terms_use_the_administrative_vocabulary(msgid, vietnamese):
    vi = _ids(message_catalogs.read(message_catalogs.po_path("vi")))
    assert vi[(msgid, None)].string == vietnamese


def test_minority_catalogs_are_never_invented():
    """Any catalog other than vi/en ships empty: real translations come from translators."""
    for path in message_catalogs.po_files():
        name = path.parent.parent.name
        if name in ("vi", "en"):
            continue
        assert [m.id for m in message_catalogs.read(path) if m.id and any(_strings(m))] == [], name


def test_the_database_ships_no_translations(app):
    for model in (ContentTranslation, InterfaceTranslation):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_catalogs_of_locales_unknown_to_cldr_init_update_and_compile(tmp_path, extracted):
    path = message_catalogs.init("hmn_Latn_VN@rpa", extracted, root=tmp_path)
    with pytest.raises(FileExistsError):
        message_catalogs.init("hmn_Latn_VN@rpa", extracted, root=tmp_path)
    catalog = message_catalogs.read(path)
    assert catalog.locale_identifier == "hmn_Latn_VN@rpa"
    assert len(catalog) == len(extracted)
    assert not any(any(_strings(m)) for m in catalog if m.id)
    total = sum(1 for m in extracted if m.id)
    assert message_catalogs.update(extracted, root=tmp_path) == {"hmn_Latn_VN@rpa": total}
    assert message_catalogs.compile_all(tmp_path) == [path.with_suffix(".mo")]
    assert message_catalogs.compile_all(tmp_path) == []  # up to date


def test_compiled_catalogs_leave_fuzzy_entries_out(tmp_path):
    catalog = Catalog(locale="vi")
    catalog.add("Save", "Lưu")
    catalog.add("Cancel", "Hủy (đoán)", flags=["fuzzy"])
    path = message_catalogs.po_path("vi", tmp_path)
    message_catalogs.write(path, catalog)
    message_catalogs.compile_all(tmp_path)
    from babel.support import Translations

    with path.with_suffix(".mo").open("rb") as stream:
        compiled = Translations(stream)
    assert (compiled.gettext("Save"), compiled.gettext("Cancel")) == ("Lưu", "Cancel")


def test_translate_cli_reports_coverage(runner):
    result = runner.invoke(args=["translate", "coverage"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:]}
    assert set(lines) >= {"vi", "en", "blt-Tavt", "hmn-Latn-VN-x-rpa"}
    assert "100.0%" in lines["vi"] and "100.0%" in lines["en"]
    assert "0.0%" in lines["blt-Tavt"]


def test_translate_cli_init_refuses_unknown_locales(runner):
    result = runner.invoke(args=["translate", "init", "xx-Fake"])
    assert result.exit_code != 0 and "registered" in result.output
