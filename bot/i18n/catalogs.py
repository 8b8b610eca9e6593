"""Translators' one command: `python -m bot.i18n.catalogs extract|update|compile|check|init LANG`.

- extract: collect every `_()`, `ngettext()`, `pgettext()`, `N_()` and `NC_()` of bot/ and cogs/ into
  bot/locales/messages.pot (Babel's Python extractor).
- update:  merge the template into every bot/locales/<lang>/LC_MESSAGES/messages.po (new texts come in empty).
- compile: write each messages.mo next to its .po (the .mo files are committed: installs need no build step).
- check:   what the tests check: the template is up to date, every text translated (nothing empty or fuzzy),
  the same {placeholders} as the source, the language's number of plural forms, no stale .mo. Exit 1 on problems.
- init LANG: start a new language's catalog from the template (LANG is a Babel id such as `it` or `pt_PT`).

The usual round after changing texts: `extract`, `update`, translate the empty entries, `compile`, `check`.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from bot.i18n.core import DOMAIN, LANGUAGES, LOCALES_DIR, SOURCE_LANGUAGE

ROOT = LOCALES_DIR.parent.parent
SOURCES = ("bot", "cogs")
TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, "NC_": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
WIDTH = 116


def _new_catalog(locale: str | None = None) -> Catalog:
    return Catalog(
        locale=locale,
        domain=DOMAIN,
        project="seedream-imagine-bot",
        version="1",
        copyright_holder="seedream-imagine-bot contributors",
        msgid_bugs_address="https://github.com/seedream-imagine-bot/issues",
        fuzzy=False,
    )


def extracted() -> Catalog:
    """The template as the source code reads now."""
    catalog = _new_catalog()
    for source in SOURCES:
        found = extract_from_dir(
            ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("Translators:",)
        )
        for filename, lineno, message, comments, context in found:
            path = f"{source}/{filename}"
            catalog.add(message, locations=[(path, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=WIDTH, ignore_obsolete=True, include_previous=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def read(path: Path, locale: str | None = None) -> Catalog:
    """A .po or .pot file."""
    with path.open("rb") as file:
        return read_po(file, locale=locale, domain=DOMAIN)


def po_path(babel_id: str) -> Path:
    """Where a language's catalog lives."""
    return LOCALES_DIR / babel_id / "LC_MESSAGES" / f"{DOMAIN}.po"


def translated_languages() -> dict[str, Path]:
    """Babel id -> .po path of every language that has a catalog (the source language has none)."""
    return {b: po_path(b) for lang, b in LANGUAGES.items() if lang != SOURCE_LANGUAGE and po_path(b).exists()}


def compiled(po: Path) -> bytes:
    """The .mo bytes a .po compiles to (fuzzy entries left out)."""
    buffer = io.BytesIO()
    write_mo(buffer, read(po, po.parent.parent.name), use_fuzzy=False)
    return buffer.getvalue()


def extract() -> None:
    """Write the template."""
    _write(extracted(), TEMPLATE)


def update() -> None:
    """Merge the template into every language's catalog."""
    template = read(TEMPLATE)
    for babel_id, path in translated_languages().items():
        catalog = read(path, babel_id)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        _write(catalog, path)


def init(babel_id: str) -> None:
    """A new language's catalog, every text still to translate."""
    catalog = _new_catalog(babel_id)
    for message in read(TEMPLATE):
        if message.id:
            catalog.add(
                message.id, locations=message.locations, auto_comments=message.auto_comments, context=message.context
            )
    _write(catalog, po_path(babel_id))


def compile_all() -> None:
    """Write every .mo."""
    for path in translated_languages().values():
        path.with_suffix(".mo").write_bytes(compiled(path))


def _key(message: Message) -> tuple[object, str | None]:
    return message.id, message.context


def placeholders(text: str) -> set[str]:
    """The names of a text's {placeholders}."""
    return set(PLACEHOLDER.findall(text))


def template_problems() -> list[str]:
    """Texts in the code missing from the template, or left in it after they were removed."""
    source = {_key(m) for m in extracted() if m.id}
    template = {_key(m) for m in read(TEMPLATE) if m.id}
    problems = [f"not extracted yet: {key}" for key in source - template]
    problems += [f"no longer in the code: {key}" for key in template - source]
    return problems


def catalog_problems(babel_id: str, path: Path) -> list[str]:
    """One language's untranslated, fuzzy, placeholder and plural-form problems, and a stale .mo."""
    catalog = read(path, babel_id)
    wanted = {_key(m) for m in read(TEMPLATE) if m.id}
    have = {_key(m): m for m in catalog if m.id}
    problems = [f"{babel_id}: missing {key}" for key in wanted - set(have)]
    plurals = get_plural(babel_id).num_plurals  # the language's rule (CLDR), whatever the file's header says
    if catalog.num_plurals != plurals:
        problems.append(f"{babel_id}: Plural-Forms has {catalog.num_plurals} forms, the language {plurals}")
    for key, message in have.items():
        problems += [f"{babel_id}: {problem} in {key}" for problem in _message_problems(message, plurals)]
    mo = path.with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != compiled(path):
        problems.append(f"{babel_id}: {mo.name} is stale (run compile)")
    return problems


def _message_problems(message: Message, plurals: int) -> Iterable[str]:
    if message.fuzzy:
        yield "fuzzy"
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    raw = message.string if isinstance(message.string, tuple | list) else (message.string,)
    strings = tuple(str(text or "") for text in raw)
    if message.pluralizable and len(strings) != plurals:
        yield f"{len(strings)} plural forms instead of {plurals}"
    if not all(strings):
        yield "untranslated"
    wanted = set().union(*(placeholders(str(i)) for i in ids))
    for text in strings:
        if text and placeholders(text) != wanted:
            yield f"placeholders {sorted(placeholders(text))} instead of {sorted(wanted)}"


def problems() -> list[str]:
    """Everything `check` reports."""
    found = template_problems()
    for babel_id, path in translated_languages().items():
        found += catalog_problems(babel_id, path)
    return found


def main(argv: list[str]) -> int:
    """Run one command."""
    commands = {"extract": extract, "update": update, "compile": compile_all}
    if len(argv) == 2 and argv[0] == "init":
        init(argv[1])
        return 0
    if len(argv) == 1 and argv[0] in commands:
        commands[argv[0]]()
        return 0
    if argv == ["check"]:
        found = problems()
        print("\n".join(found) or "catalogs OK")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
