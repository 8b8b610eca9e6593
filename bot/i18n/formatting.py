"""Numbers, money, dates, durations and lists in the current language (Babel's CLDR data).

Babel reads a locale's data from disk the first time it is used: every language is warmed here, at import, so
no formatting call reads files from the event loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel import Locale, dates, lists, numbers

from bot.i18n.core import LANGUAGES, babel_locale


def _warm() -> None:
    for babel_id in LANGUAGES.values():
        locale = Locale.parse(babel_id)
        _ = locale.number_symbols, locale.plural_form, locale.list_patterns, locale.unit_display_names
        _ = locale.currency_formats, locale.date_formats, locale.time_formats, locale.datetime_formats


_warm()


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
    return str(dates.format_date(value, format=style, locale=babel_locale()))


def datetime_text(value: dt.datetime, *, style: str = "medium") -> str:
    """A date and time, in the value's own time zone."""
    return str(dates.format_datetime(value, format=style, tzinfo=value.tzinfo, locale=babel_locale()))


def duration(seconds: float, *, short: bool = False) -> str:
    """A rounded duration: "2 minutes" / "2分钟"; `short`: "5 s" / "5秒"."""
    return str(
        dates.format_timedelta(
            dt.timedelta(seconds=seconds), threshold=1.0, format="narrow" if short else "long", locale=babel_locale()
        )
    )


def relative(seconds: float) -> str:
    """A duration from now: "in 5 minutes" / "5 minutes ago" (negative seconds: the past)."""
    return str(
        dates.format_timedelta(dt.timedelta(seconds=seconds), threshold=1.0, add_direction=True, locale=babel_locale())
    )


def either(items: Sequence[str]) -> str:
    """`a, b or c` in the current language."""
    return lists.format_list(list(items), style="or", locale=babel_locale()) if items else ""


def every(items: Sequence[str]) -> str:
    """`a, b and c` in the current language."""
    return lists.format_list(list(items), locale=babel_locale()) if items else ""
