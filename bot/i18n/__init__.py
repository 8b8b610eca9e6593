"""Translations: every member-visible text goes through gettext catalogs managed with Babel (issue 13).

The API (Discord-free; bot/jobs may use it)::

    from bot.i18n import N_, _, ngettext, pgettext, speaking

    _("Your limits in this server")                        # a sentence, translated into the current language
    _("Made {count} images").format(count=n)                # named {placeholders}, filled AFTER translation
    ngettext("{n} image", "{n} images", n).format(n=n)      # plurals: each language's own rules (ru has three)
    pgettext("command name", "help")                        # a context for ambiguous short labels
    TITLE = N_("Commands")  ...  _(TITLE)                    # module-level constants: mark now, translate later
    @app_commands.command(name="help", description=N_("What this bot can do"))  # command texts: N_ (descriptions,
    app_commands.Choice(name=N_("Language"), value="language")  # choice names), NC_("command name", "help") names

    with speaking("ja"):                                    # public texts: the server's language
        await channel.send(_("Done"))

Rules: never an f-string or `%` inside `_()`, never positional `{}`; the string literal itself goes inside
`_()` so `python -m bot.i18n.catalogs extract` finds it. Member text (prompts, names) goes in placeholders.
Where a module imports `_`, never use `_` as a throwaway name in a function (`limits, _ = ...` makes `_` local
to it: UnboundLocalError at the next `_("...")`); write `limits, _config = ...`.

Which language: `current_language()` (a contextvar; en-US when nothing was set). App commands, buttons and
modals already run under `speaking(language_for(interaction.locale))` (bot/presentation/speaking.py), so
private replies need nothing more. Code that posts publicly (progress, results, leaderboards, notices) wraps the
posting in `speaking(job.language)` / `speaking(server language)` explicitly; the server's language now is
`await public_language(store.guilds, guild_id, guild_locale)` (bot/presentation/speaking.py), and a job's is
`JobSpec.language` / `JobRecord.language`, fixed at admission. Tests: `start_bot(pseudo_locale=True)` and
`tests/i18n_check.assert_translated(text, allowed=[member text, "/imagine"])`.

Formatting per language (Babel): `number(n)`, `percent(x)`, `money(amount, currency="USD")`, `date(d)`,
`datetime_text(dt)`, `duration(seconds)` ("2 minutes"), `duration(seconds, short=True)` ("5 s"),
`relative(seconds)` ("in 5 minutes"), `either(items)` / `every(items)` ("a, b or c" / "a, b and c").

Languages: `LANGUAGES` (Discord locale values; en-US is the source); `language_for(discord_locale)` maps any
Discord locale to one of them (en-GB -> en-US, es-419 -> es-ES, unknown or None -> en-US).

Pseudo-locale (a translator's and tester's tool): `use_pseudo(True)` (setting PSEUDO_LOCALE) makes every `_()`
return a marked, accented copy of the English source, placeholders intact: "⟦Ŵĥåţ {name} çåñ ðö⟧".
"""

from __future__ import annotations

from bot.i18n.core import (
    LANGUAGES,
    N_,
    NC_,
    SOURCE_LANGUAGE,
    _,
    babel_locale,
    current_language,
    language_for,
    ngettext,
    pgettext,
    pseudo_enabled,
    speaking,
    use_language,
    use_pseudo,
)
from bot.i18n.formatting import (
    date,
    date_pattern,
    datetime_text,
    duration,
    either,
    every,
    money,
    number,
    percent,
    relative,
    warm,
)

__all__ = [
    "LANGUAGES",
    "NC_",
    "N_",
    "SOURCE_LANGUAGE",
    "_",
    "babel_locale",
    "current_language",
    "date",
    "date_pattern",
    "datetime_text",
    "duration",
    "either",
    "every",
    "language_for",
    "money",
    "ngettext",
    "number",
    "percent",
    "pgettext",
    "pseudo_enabled",
    "relative",
    "speaking",
    "use_language",
    "use_pseudo",
    "warm",
]
