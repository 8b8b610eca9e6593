"""Numbers, money, dates, durations and lists in the current language (Babel's CLDR data).

Babel reads a locale's data from disk the first time it is used: the bot reads every language's with `warm()` in a
thread as it starts (not at import: it would lengthen every start-up by ~0.1 s of CPU), so no formatting call on
the event loop reads files. Under the pseudo-locale the words CLDR supplies (month names,
"hour", "or") are marked as translated, while the items of a list stay outside the markers: an item that bypassed
the catalogs still shows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Literal

from babel import Locale, dates, lists, numbers

from bot.i18n.core import LANGUAGES, babel_locale, pseudo_enabled
from bot.i18n.pseudo import CLOSE, OPEN

_ITEM = re.compile(r"(\x00\d+\x00)")  # a list item's place


def warm() -> None:
    """Read every language's CLDR data now (blocking: call it in a thread)."""
    for babel_id in LANGUAGES.values():
        locale = Locale.parse(babel_id)
        _ = locale.number_symbols, locale.plural_form, locale.list_patterns, locale.unit_display_names
        _ = locale.currency_formats, locale.date_formats, locale.time_formats, locale.datetime_formats


def number(value: float, *, digits: int | None = None) -> str:
    """1,234.5 / 1 234,5 / 1.234,5 ... (`digits`: exactly that many decimals)."""
    if digits is not None:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return str(numbers.format_decimal(value, format=pattern, locale=babel_locale()))
    return str(numbers.format_decimal(value, locale=babel_locale()))


def percent(fraction: float) -> str:
    """0.25 -> 25% / 25 % ..."""
    return str(numbers.format_percent(fraction, locale=babel_locale()))


def money(amount: float, currency: str = "USD") -> str:
    """$1.50 / 1,50 $US / US$1.50 ... in the current language."""
    return str(numbers.format_currency(amount, currency, locale=babel_locale()))


def date(value: dt.date | dt.datetime, *, style: str = "medium") -> str:
    """A date ("Dec 1, 2026" / "2026年12月1日")."""
    return _cldr(dates.format_date(value, format=style, locale=babel_locale()))


def date_pattern(value: dt.date | dt.datetime, skeleton: str) -> str:
    """A date shaped by a CLDR skeleton: "MMMMd" -> "July 1" / "7月1日", "yMMMM" -> "November 2026"."""
    return _cldr(dates.format_skeleton(skeleton, value, locale=babel_locale()))


def datetime_text(value: dt.datetime, *, style: str = "medium") -> str:
    """A date and time, in the value's own time zone."""
    return _cldr(dates.format_datetime(value, format=style, tzinfo=value.tzinfo, locale=babel_locale()))


def duration(seconds: float, *, short: bool = False) -> str:
    """A rounded duration: "2 minutes" / "2分钟"; `short`: "5 s" / "5秒"."""
    return _cldr(
        dates.format_timedelta(
            dt.timedelta(seconds=seconds), threshold=1.0, format="narrow" if short else "long", locale=babel_locale()
        )
    )


def relative(seconds: float) -> str:
    """A duration from now: "in 5 minutes" / "5 minutes ago" (negative seconds: the past)."""
    return _cldr(
        dates.format_timedelta(dt.timedelta(seconds=seconds), threshold=1.0, add_direction=True, locale=babel_locale())
    )


def either(items: Sequence[str]) -> str:
    """`a, b or c` in the current language."""
    return _listed(items, "or")


def every(items: Sequence[str]) -> str:
    """`a, b and c` in the current language."""
    return _listed(items, "standard")


def _cldr(text: str) -> str:
    """Words from CLDR's data: translated, as far as the pseudo-locale is concerned."""
    return f"{OPEN}{text}{CLOSE}" if pseudo_enabled() else str(text)


def _listed(items: Sequence[str], style: Literal["standard", "or"]) -> str:
    if not items:
        return ""
    if not pseudo_enabled():
        return str(lists.format_list(list(items), style=style, locale=babel_locale()))
    keys = [f"\x00{index}\x00" for index in range(len(items))]
    pattern = lists.format_list(keys, style=style, locale=babel_locale())
    pieces = _ITEM.split(pattern)  # the connecting words marked, the items as they are
    return "".join(items[keys.index(p)] if i % 2 else _cldr(p) if p else "" for i, p in enumerate(pieces))
