"""Every command, group, subcommand, option and context menu name, marked for the catalogs (issue 13).

discord.py takes option names from the callbacks' argument names, so the names are listed here rather than
renamed where they are defined. `CatalogTranslator` looks each up as `pgettext("command name", name)`.
Translations of chat names must stay valid for Discord (lower case, no spaces, <= 32 letters, digits, - or _)
and distinct among siblings; context menu names are free text of 1-32 characters.
tests/unit/test_command_names.py fails when this list and the command tree disagree.
"""

from __future__ import annotations

from bot.i18n import NC_

COMMANDS = (
    NC_("command name", "imagine"),
    NC_("command name", "tray"),
    NC_("command name", "job"),
    NC_("command name", "usage"),
    NC_("command name", "leaderboard"),
    NC_("command name", "imagine-admin"),
    NC_("command name", "settings"),
    NC_("command name", "help"),
)

SUBCOMMANDS = (  # and groups
    NC_("command name", "show"),
    NC_("command name", "forget-me"),
    NC_("command name", "leaderboards"),
    NC_("command name", "tier"),
    NC_("command name", "set"),
    NC_("command name", "remove"),
    NC_("command name", "list"),
    NC_("command name", "exempt"),
    NC_("command name", "channel"),
    NC_("command name", "block-word"),
    NC_("command name", "blocked-words"),
    NC_("command name", "mod-log"),
    NC_("command name", "stats"),
    NC_("command name", "audit"),
    NC_("command name", "api-key"),
)

OPTIONS = (
    NC_("command name", "prompt"),
    NC_("command name", "count"),
    NC_("command name", "resolution"),
    NC_("command name", "aspect"),
    NC_("command name", "image1"),
    NC_("command name", "image2"),
    NC_("command name", "image3"),
    NC_("command name", "image4"),
    NC_("command name", "image5"),
    NC_("command name", "image6"),
    NC_("command name", "use_tray"),
    NC_("command name", "id"),
    NC_("command name", "member"),
    NC_("command name", "visible"),
    NC_("command name", "period"),
    NC_("command name", "metric"),
    NC_("command name", "role"),
    NC_("command name", "preset"),
    NC_("command name", "daily"),
    NC_("command name", "monthly"),
    NC_("command name", "models"),
    NC_("command name", "max_resolution"),
    NC_("command name", "max_set"),
    NC_("command name", "setting"),
    NC_("command name", "value"),
    NC_("command name", "allowed"),
    NC_("command name", "word"),
    NC_("command name", "blocked"),
    NC_("command name", "action"),
)

CONTEXT_MENUS = (
    # Translators: a context menu entry (right click on a message): free text, at most 32 characters.
    NC_("command name", "Add to references"),
    # Translators: a context menu entry (right click on a message): free text, at most 32 characters.
    NC_("command name", "Blend with prompt…"),
)

NAMES = frozenset(COMMANDS + SUBCOMMANDS + OPTIONS + CONTEXT_MENUS)
