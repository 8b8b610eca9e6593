"""GuildAdmin: validate and apply a server's settings changes; every change is audited (who, what, when)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bot import guild_language
from bot.errors import BadInput
from bot.i18n import N_, _, either, ngettext, number, pgettext
from bot.imagegen.catalog import RESOLUTIONS, Catalog
from bot.limits import LIMIT_FIELDS, Limits, effective_limits
from bot.pricing import money
from bot.settings import Settings
from bot.store import UsageStore
from bot.store.guilds import AuditEntry, GuildConfig, RoleTier
from bot.textclean import ascii_number, code_span
from bot.tiers import CUSTOM, PRESETS

MAX_WORD_CHARS = 100
MAX_BLOCKED_WORDS = 500
MAX_TIERS = 25  # roles with a tier per server (the list stays one message)
_TRUE = {"on", "true", "yes", "1", "allow", "allowed"}
_FALSE = {"off", "false", "no", "0", "deny", "denied"}


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """How one setting is shown (`label`: English, marked; show it with `_(info.label)`) and parsed."""

    label: str
    kind: type
    low: float = 0
    high: float = 10**9


SETTINGS: dict[str, SettingInfo] = {
    "member_daily_images": SettingInfo(N_("Images per member per day"), int),
    "server_daily_images": SettingInfo(N_("Images per server per day"), int),
    "concurrent_jobs": SettingInfo(N_("Concurrent jobs per member"), int, 0, 50),
    "cooldown_seconds": SettingInfo(N_("Cooldown between requests (s)"), float, 0, 86400),
    "max_set_size": SettingInfo(N_("Largest set size"), int, 1, 15),
    "allow_4k": SettingInfo(N_("4K allowed"), bool),
    "default_resolution": SettingInfo(N_("Default size"), str),
    "watermark": SettingInfo(N_("Watermark"), bool),
    "default_model": SettingInfo(N_("Default model"), str),
    "member_monthly_images": SettingInfo(N_("Images per member per month"), int),
    "monthly_budget": SettingInfo(N_("Monthly budget (US$)"), float, 0, 10**7),
    "show_costs": SettingInfo(N_("Show costs to every member"), bool),
}
assert set(SETTINGS) == set(LIMIT_FIELDS)


def parse_value(key: str, raw: str, catalog: Catalog) -> Any:
    """A setting's value from what an admin typed; `default` (None) clears the override."""
    info = SETTINGS[key]
    text = raw.strip().lower()
    if text in ("default", "reset", ""):
        return None
    if key == "default_model":
        model = catalog.find(raw)
        if model is None:
            names = either([f"`{m.name}`" for m in catalog.offered])
            raise BadInput(_("Default model: choose {names} (or `default`).").format(names=names))
        return model.id
    if info.kind is bool:
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise BadInput(_("{setting}: answer `on` or `off` (or `default`).").format(setting=_(info.label)))
    if key == "default_resolution":
        if text.upper() in RESOLUTIONS:
            return text.upper()
        sizes = either([f"`{r}`" for r in RESOLUTIONS])
        raise BadInput(_("Default size: choose {sizes} (or `default`).").format(sizes=sizes))
    plain = ascii_number(text)
    if plain is None:
        raise BadInput(
            _("{setting}: {value} is not a number; write digits such as 10 or 2.5.").format(
                setting=_(info.label), value=code_span(raw, 20)
            )
        )
    value = float(plain)
    if not info.low <= value <= info.high or (info.kind is int and value != int(value)):
        if info.kind is int:
            text = _("{setting}: use a whole number from {low} to {high} (0 = no limit where it applies).")
        else:
            text = _("{setting}: use a number from {low} to {high} (0 = no limit where it applies).")
        raise BadInput(text.format(setting=_(info.label), low=number(info.low), high=number(info.high)))
    return int(value) if info.kind is int else value


def normalise_word(word: str) -> str:
    """A blocked word or phrase as stored: trimmed, single spaces, lower case."""
    cleaned = " ".join(word.split()).lower()
    if not cleaned or len(cleaned) > MAX_WORD_CHARS:
        raise BadInput(_("A blocked word must be 1 to {count} characters.").format(count=number(MAX_WORD_CHARS)))
    return cleaned


class GuildAdmin:
    """Changes made through /imagine-admin; permission checks happen in the cog, before any call here."""

    def __init__(self, settings: Settings, store: UsageStore) -> None:
        self.settings = settings
        self.store = store

    async def overview(self, guild_id: int) -> tuple[Limits, GuildConfig]:
        """The limits in force and the server's own configuration."""
        config = await self.store.guilds.load(guild_id)
        return effective_limits(self.settings, config), config

    async def set_setting(self, guild_id: int, by: int, key: str, raw: str) -> str:
        """Override (or reset) one setting; returns a confirmation line."""
        if key == guild_language.KEY:
            language = guild_language.parse_language(raw)
            await self.store.guilds.set_value(guild_id, key, language, by=by)
            return guild_language.confirmation(language)
        if key not in SETTINGS:
            raise BadInput(_("Unknown setting {setting}.").format(setting=code_span(key)))
        catalog = self.settings.catalog
        value = parse_value(key, raw, catalog)
        await self.store.guilds.set_value(guild_id, key, value, by=by)
        limits, _config = await self.overview(guild_id)
        shown = {"setting": _(SETTINGS[key].label), "value": display(key, getattr(limits, key), catalog)}
        if value is None:
            line = _("{setting} is now **{value}** (the bot's default).").format(**shown)
        else:
            line = _("{setting} is now **{value}**.").format(**shown)
        model = catalog.get(limits.default_model)
        if key in ("default_model", "default_resolution") and limits.default_resolution not in model.resolutions:
            note = _("{model} makes {sizes}, so its jobs use {size} unless a member picks a size.").format(
                model=model.name, sizes=either(model.resolutions), size=model.nearest(limits.default_resolution)
            )
            line = f"{line} {note}"
        return line

    async def set_modlog(self, guild_id: int, by: int, channel_id: int | None) -> None:
        """Send every prompt and its outcome to this channel (None: stop)."""
        await self.store.guilds.set_value(guild_id, "modlog_channel", channel_id, by=by)

    async def set_exempt(self, guild_id: int, by: int, role_id: int, exempt: bool) -> bool:
        """Exempt a role from the per-member limits (or stop exempting it)."""
        return await self.store.guilds.set_member("guild_exempt_roles", guild_id, role_id, exempt, by=by)

    async def set_channel(self, guild_id: int, by: int, channel_id: int, allowed: bool) -> bool:
        """Add a channel to (or remove it from) the list the bot is restricted to."""
        return await self.store.guilds.set_member("guild_channels", guild_id, channel_id, allowed, by=by)

    async def set_word(self, guild_id: int, by: int, word: str, blocked: bool) -> bool:
        """Block (or unblock) a word or phrase in prompts."""
        word = normalise_word(word)
        if blocked:
            config = await self.store.guilds.load(guild_id)
            if len(config.blocked_words) >= MAX_BLOCKED_WORDS:
                raise BadInput(
                    ngettext(
                        "A server can block at most {count} word.",
                        "A server can block at most {count} words.",
                        MAX_BLOCKED_WORDS,
                    ).format(count=number(MAX_BLOCKED_WORDS))
                )
        return await self.store.guilds.set_member("guild_blocked_words", guild_id, word, blocked, by=by)

    async def set_tier(self, guild_id: int, by: int, role_id: int, preset: str | None, **limits: Any) -> RoleTier:
        """Give a role a preset tier, its own limits, or a preset with some limits changed; returns the tier.

        `limits` (daily_images, monthly_images, models, max_resolution, max_set_size) left None keep the preset's
        value, else the role's current tier's, else the server's default. `models` is `all` or model ids.
        """
        config = await self.store.guilds.load(guild_id)
        if role_id not in config.tiers and len(config.tiers) >= MAX_TIERS:
            raise BadInput(
                ngettext(
                    "A server can give tiers to at most {count} role. Remove one first.",
                    "A server can give tiers to at most {count} roles. Remove one first.",
                    MAX_TIERS,
                ).format(count=number(MAX_TIERS))
            )
        changes = {key: value for key, value in limits.items() if value is not None}
        if preset is None and not changes:
            raise BadInput(_("Choose a preset, or at least one limit to set for this role."))
        if "models" in changes:
            changes["models"] = self.parse_models(changes["models"])
        base = PRESETS[preset] if preset is not None else config.tiers.get(role_id, RoleTier(CUSTOM))
        tier = dataclasses.replace(base, **changes, name=CUSTOM if changes else base.name)
        await self.store.guilds.set_tier(guild_id, role_id, tier, by=by)
        return tier

    async def remove_tier(self, guild_id: int, by: int, role_id: int) -> bool:
        """Take a role's tier away (its members fall back on their other roles' tiers, else the server's default)."""
        return await self.store.guilds.remove_tier(guild_id, role_id, by=by)

    def parse_models(self, raw: str) -> tuple[str, ...]:
        """`all` (every model: ()) or models this bot offers, by name or id, separated by commas (ids also by
        spaces): `Seedream 4.0, Seedream 4.5`."""
        if raw.strip().lower() in ("", "all"):
            return ()
        catalog = self.settings.catalog
        chosen: list[str] = []
        for part in (p.strip() for p in raw.split(",") if p.strip()):
            found = catalog.find(part)
            words = [found] if found is not None else [catalog.find(w) for w in part.split()]
            if None in words:
                names = ", ".join(f"{m.name} ({code_span(m.id)})" for m in catalog.offered)
                raise BadInput(
                    _("Unknown model {model}: this bot offers {names} (or `all`).").format(
                        model=code_span(part), names=names
                    )
                )
            chosen += [model.id for model in words if model is not None]
        return tuple(dict.fromkeys(chosen))

    async def audit_log(self, guild_id: int) -> list[AuditEntry]:
        """Newest changes first."""
        return await self.store.guilds.audit_log(guild_id)


def display(key: str, value: Any, catalog: Catalog | None = None) -> str:
    """A setting's value in words (the budget in money, a model by its friendly name)."""
    if key == "monthly_budget":
        return money(value) if value else _("no budget")
    if key == "default_model" and catalog is not None:
        return catalog.get(str(value)).name
    return show(value)


def show(value: Any) -> str:
    """A setting value in words."""
    if isinstance(value, bool):
        return pgettext("setting value", "on") if value else pgettext("setting value", "off")
    if value == 0:
        return _("no limit")
    if isinstance(value, int | float):
        return number(value)
    return str(value)
