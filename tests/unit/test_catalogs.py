"""The catalogs: the template matches the code, every language translates every text with the source's
placeholders and its own number of plural forms, nothing fuzzy, and each committed .mo matches its .po."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, SOURCE_LANGUAGE, catalogs


def test_every_language_has_a_catalog() -> None:
    expected = {babel_id for language, babel_id in LANGUAGES.items() if language != SOURCE_LANGUAGE}
    assert set(catalogs.translated_languages()) == expected


def test_the_template_is_up_to_date_with_the_code() -> None:
    assert catalogs.template_problems() == [], "run: python -m bot.i18n.catalogs extract && ... update"


@pytest.mark.parametrize("babel_id", sorted(b for lang, b in LANGUAGES.items() if lang != SOURCE_LANGUAGE))
def test_a_catalog_is_complete_consistent_and_compiled(babel_id: str) -> None:
    assert catalogs.catalog_problems(babel_id, catalogs.po_path(babel_id)) == []


def test_the_checks_catch_a_broken_catalog(tmp_path: Path) -> None:
    """A lost placeholder, an untranslated or fuzzy text, a missing plural form, a stale .mo are all reported."""
    po = tmp_path / "ru" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    shutil.copy(catalogs.po_path("ru"), po)
    shutil.copy(catalogs.po_path("ru").with_suffix(".mo"), po.with_suffix(".mo"))
    text = po.read_text(encoding="utf-8")
    text = text.replace('msgstr "Что умеет {bot}"', 'msgstr "Что умеет бот"')
    text = text.replace('msgstr "Смешивание ответом"', 'msgstr ""')
    text = text.replace('msgstr[2] "{count} изображений"', 'msgstr[2] ""', 1)
    text = text.replace('msgid "Language"', '#, fuzzy\nmsgid "Language"', 1)
    po.write_text(text, encoding="utf-8")
    problems = "\n".join(catalogs.catalog_problems("ru", po))
    assert "placeholders [] instead of ['bot']" in problems
    assert "untranslated in ('Blend by replying', None)" in problems
    assert "untranslated in (('{count} image', '{count} images'), None)" in problems
    assert "fuzzy in ('Language', None)" in problems
    assert "messages.mo is stale" in problems


def test_plural_forms_are_checked_against_the_languages_rule(tmp_path: Path) -> None:
    po = tmp_path / "ru" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    text = catalogs.po_path("ru").read_text(encoding="utf-8")
    po.write_text(text.replace('msgstr[2] "{count} изображений"\n', "", 1), encoding="utf-8")
    assert "ru: untranslated in (('{count} image', '{count} images'), None)" in catalogs.catalog_problems("ru", po)
    header = text.split("\n\n", 1)[0]
    wrong = header.replace("nplurals=3", "nplurals=2")
    assert wrong != header
    po.write_text(text.replace(header, wrong, 1), encoding="utf-8")
    assert "ru: Plural-Forms has 2 forms, the language 3" in catalogs.catalog_problems("ru", po)
