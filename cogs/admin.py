"""/imagine-admin: limits, role tiers, exempt roles, channels, blocked words, mod-log, statistics, the audit log,
and the server's own API key."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot import guild_language
from bot.budget import BudgetNotice
from bot.charts import daily_chart
from bot.client import ImageBot
from bot.guild_admin import SETTINGS, GuildAdmin
from bot.i18n import N_, _, speaking
from bot.presentation import tier_text, usage_text
from bot.presentation.guards import RefusalReporter, report_budget
from bot.presentation.key_form import ApiKeyForm
from bot.presentation.speaking import public_language
from bot.quotas import RefusedRequest
from bot.server_keys import ServerKeys
from bot.tiers import PRESETS, RESOLUTION_ORDER
from bot.usage import UsageService, day_label

SETTING_CHOICES = [app_commands.Choice(name=info.label, value=key) for key, info in SETTINGS.items()]
SETTING_CHOICES.append(app_commands.Choice(name=guild_language.LABEL, value=guild_language.KEY))
PRESET_CHOICES = [app_commands.Choice(name=preset.name, value=key) for key, preset in PRESETS.items()]
# Choice names are looked up in the catalogs by the command translator (one English text per resolution).
RESOLUTION_CHOICES = [
    app_commands.Choice(name=N_("up to 1K"), value="1K"),
    app_commands.Choice(name=N_("up to 2K"), value="2K"),
    app_commands.Choice(name=N_("up to 3K"), value="3K"),
    app_commands.Choice(name=N_("up to 4K"), value="4K"),
]
assert [c.value for c in RESOLUTION_CHOICES] == list(RESOLUTION_ORDER)
KEY_ACTIONS = [
    app_commands.Choice(name=N_("Enter or replace the key"), value="set"),
    app_commands.Choice(name=N_("Show its status"), value="status"),
    app_commands.Choice(name=N_("Remove it"), value="remove"),
]


class AdminGroup(app_commands.Group):
    """The command group; every subcommand re-checks Manage Server on the bot's side."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Discord hides the group from non-admins, but a stale client or a changed permission must not pass."""
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True


class Admin(commands.Cog):
    """Server settings for members with Manage Server; every change is audited."""

    admin = AdminGroup(
        name="imagine-admin",
        description=N_("Image bot settings for this server"),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    tier = AdminGroup(name="tier", description=N_("Limits per role: a preset or your own"), parent=admin)

    def __init__(self, service: GuildAdmin, usage: UsageService, reporter: RefusalReporter, keys: ServerKeys) -> None:
        self.service = service
        self.usage = usage
        self.reporter = reporter
        self.keys = keys

    async def cog_unload(self) -> None:
        """Drop mod-log posts still waiting for their minute."""
        self.reporter.close()

    @staticmethod
    async def _reply(interaction: discord.Interaction, content: str) -> None:
        await interaction.response.send_message(content, ephemeral=True)

    @admin.command(name="show", description=N_("Show the limits and settings in force"))
    async def show(self, interaction: discord.Interaction) -> None:
        """All settings, marking this server's overrides."""
        assert interaction.guild_id is not None
        limits, config = await self.service.overview(interaction.guild_id)
        await self._reply(interaction, usage_text.limits_overview(limits, config, self.service.settings.catalog))

    @admin.command(name="set", description=N_("Change a limit, a default or the language (value `default` resets it)"))
    @app_commands.describe(
        setting=N_("What to change"),
        value=N_("A number, on/off, a size (2K), a model name, a language (ja, de, pt-BR…), or `default`"),
    )
    @app_commands.choices(setting=SETTING_CHOICES)
    async def set_(self, interaction: discord.Interaction, setting: str, value: str) -> None:
        """Override one setting for this server."""
        assert interaction.guild_id is not None
        line = await self.service.set_setting(interaction.guild_id, interaction.user.id, setting, value)
        await self._reply(interaction, f"✅ {line}")

    @admin.command(name="exempt", description=N_("Exempt a role from the per-member limits"))
    @app_commands.describe(role=N_("The role"), exempt=N_("Exempt it (true) or not any more (false)"))
    async def exempt(self, interaction: discord.Interaction, role: discord.Role, exempt: bool = True) -> None:
        """Add or remove an exempt role."""
        assert interaction.guild_id is not None
        await self.service.set_exempt(interaction.guild_id, interaction.user.id, role.id, exempt)
        if exempt:
            text = _("✅ {role} is now exempt from the per-member limits.")
        else:
            text = _("✅ {role} is no longer exempt from the per-member limits.")
        await self._reply(interaction, text.format(role=role.mention))

    @tier.command(name="set", description=N_("Give a role a preset tier or its own limits (most generous role wins)"))
    @app_commands.describe(
        role=N_("The role (@everyone: every member)"),
        preset=N_("Free, Standard or Unlimited; the limits below change it"),
        daily=N_("Images per member per day (0 = no limit)"),
        monthly=N_("Images per member per month (0 = no limit)"),
        models=N_("Allowed model ids, separated by commas, or `all`"),
        max_resolution=N_("Highest resolution"),
        max_set=N_("Largest set per request"),
    )
    @app_commands.choices(preset=PRESET_CHOICES, max_resolution=RESOLUTION_CHOICES)
    async def tier_set(
        self,
        interaction: discord.Interaction,
        role: discord.Role,
        preset: str | None = None,
        daily: app_commands.Range[int, 0, 1_000_000] | None = None,
        monthly: app_commands.Range[int, 0, 10_000_000] | None = None,
        models: app_commands.Range[str, 1, 500] | None = None,
        max_resolution: str | None = None,
        max_set: app_commands.Range[int, 1, 15] | None = None,
    ) -> None:
        """Set a role's tier in one command."""
        assert interaction.guild_id is not None
        tier = await self.service.set_tier(
            interaction.guild_id,
            interaction.user.id,
            role.id,
            preset,
            daily_images=daily,
            monthly_images=monthly,
            models=models,
            max_resolution=max_resolution,
            max_set_size=max_set,
        )
        limits, _config = await self.service.overview(interaction.guild_id)
        line = tier_text.limits_line(tier_text.tier_of_role(limits, tier, role.id))
        who, name = tier_text.role(role.id, interaction.guild_id), tier_text.tier_name(tier.name)
        await self._reply(
            interaction, _("✅ {role} now has the **{tier}** tier: {limits}.").format(role=who, tier=name, limits=line)
        )

    @tier.command(name="remove", description=N_("Take a role's tier away"))
    @app_commands.describe(role=N_("The role"))
    async def tier_remove(self, interaction: discord.Interaction, role: discord.Role) -> None:
        """Remove a role's tier."""
        assert interaction.guild_id is not None
        removed = await self.service.remove_tier(interaction.guild_id, interaction.user.id, role.id)
        who = tier_text.role(role.id, interaction.guild_id)
        text = _("✅ {role} no longer has a tier.") if removed else _("{role} had no tier.")
        await self._reply(interaction, text.format(role=who))

    @tier.command(name="list", description=N_("The roles' tiers, the server default and the presets"))
    async def tier_list(self, interaction: discord.Interaction) -> None:
        """Every tier of this server."""
        assert interaction.guild_id is not None
        limits, config = await self.service.overview(interaction.guild_id)
        first, *more = tier_text.pages(tier_text.tier_list(limits, config))
        await self._reply(interaction, first)
        for page in more:
            await interaction.followup.send(page, ephemeral=True)

    @admin.command(name="channel", description=N_("Restrict the bot to chosen channels (none chosen = everywhere)"))
    @app_commands.describe(channel=N_("The channel"), allowed=N_("Allow it (true) or remove it from the list (false)"))
    async def channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel, allowed: bool = True
    ) -> None:
        """Add a channel to the allowed list, or remove it."""
        assert interaction.guild_id is not None
        await self.service.set_channel(interaction.guild_id, interaction.user.id, channel.id, allowed)
        _limits, config = await self.service.overview(interaction.guild_id)
        where = ", ".join(f"<#{c}>" for c in sorted(config.channels)) or _("every channel")
        await self._reply(interaction, _("✅ The bot now generates in: {channels}.").format(channels=where))

    @admin.command(name="block-word", description=N_("Refuse prompts containing a word or phrase"))
    @app_commands.describe(
        word=N_("Word or phrase (whole-word, case-insensitive)"), blocked=N_("Block (true) or unblock")
    )
    async def block_word(self, interaction: discord.Interaction, word: str, blocked: bool = True) -> None:
        """Add a blocked word, or remove one."""
        assert interaction.guild_id is not None
        changed = await self.service.set_word(interaction.guild_id, interaction.user.id, word, blocked)
        if blocked:
            text = _("✅ {word} is blocked.") if changed else _("✅ {word} is blocked (no change).")
        else:
            text = _("✅ {word} is unblocked.") if changed else _("✅ {word} is unblocked (no change).")
        await self._reply(interaction, text.format(word=f"||{discord.utils.escape_markdown(word.strip())}||"))

    @admin.command(name="blocked-words", description=N_("List the blocked words (privately)"))
    async def blocked_words(self, interaction: discord.Interaction) -> None:
        """The blocked list, behind spoilers."""
        assert interaction.guild_id is not None
        _limits, config = await self.service.overview(interaction.guild_id)
        words = ", ".join(f"||{discord.utils.escape_markdown(w)}||" for w in config.blocked_words)
        text = _("Blocked words: {words}").format(words=words) if words else _("No blocked words.")
        await self._reply(interaction, text[:2000])

    @admin.command(name="mod-log", description=N_("Send every prompt and its outcome to a channel"))
    @app_commands.describe(channel=N_("The mod-log channel; leave empty to turn it off"))
    async def mod_log(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        """Set or clear the mod-log channel."""
        assert interaction.guild_id is not None
        await self.service.set_modlog(interaction.guild_id, interaction.user.id, channel.id if channel else None)
        text = _("✅ Mod-log: {channel}.").format(channel=channel.mention) if channel else _("✅ Mod-log: off.")
        await self._reply(interaction, text)

    @admin.command(name="stats", description=N_("Last 30 days: images per day, top channels, failures"))
    async def stats(self, interaction: discord.Interaction) -> None:
        """The server summary with a per-day chart."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = await self.usage.server_stats(interaction.guild_id)
        days = [(day_label(d.day), d.images, d.failed) for d in stats.days]
        title = _("Images per day, last 30 days (UTC)")
        png = await asyncio.to_thread(daily_chart, title, days)
        file = discord.File(io.BytesIO(png), filename="usage_30_days.png", description=_("Images per UTC day"))
        await interaction.followup.send(usage_text.server_stats(stats), file=file, ephemeral=True)

    @admin.command(name="audit", description=N_("Recent settings changes: who, what, when"))
    async def audit(self, interaction: discord.Interaction) -> None:
        """The newest audit entries."""
        assert interaction.guild_id is not None
        entries = await self.service.audit_log(interaction.guild_id)
        await self._reply(interaction, usage_text.audit(entries)[:2000])

    @admin.command(name="api-key", description=N_("This server's own image API key: enter it, see it, or remove it"))
    @app_commands.describe(action=N_("Enter (or replace) the key in a private form, show its status, or remove it"))
    @app_commands.choices(action=KEY_ACTIONS)
    async def api_key(self, interaction: discord.Interaction, action: str = "set") -> None:
        """The server's own key: a private form to enter it, its status (last four characters), or removal."""
        assert interaction.guild_id is not None
        if action == "status":
            await self._reply(interaction, await self.keys.status(interaction.guild_id))
        elif action == "remove":
            await self._reply(interaction, await self.keys.remove(interaction.guild_id, interaction.user.id))
        else:
            self.keys.check_storing()  # no SECRET_KEY: said at once, before anything is typed
            await interaction.response.send_modal(ApiKeyForm(self.keys))


async def server_language_now(bot: ImageBot, guild_id: int | None) -> str:
    """The language of the server's public messages now (its setting, else its Discord locale)."""
    guild = bot.get_guild(guild_id) if guild_id else None
    return await public_language(bot.services.store.guilds, guild_id, guild.preferred_locale if guild else None)


async def setup(bot: ImageBot) -> None:
    """Extension entry point; refused requests and budget notices go to the mod-log from here, in the server's
    language (the refusal hook runs inside the member's command, which speaks the member's)."""
    reporter = RefusalReporter(bot)

    async def refused(channel: int, request: RefusedRequest) -> None:
        with speaking(await server_language_now(bot, request.guild_id)):  # folded later posts keep this language
            await reporter(channel, request)

    async def budget(channel: int, notice: BudgetNotice) -> None:
        with speaking(await server_language_now(bot, notice.guild_id)):
            await report_budget(bot, channel, notice)

    bot.services.quotas.refusal_hook = refused
    bot.services.quotas.budget.hook = budget
    await bot.add_cog(Admin(bot.services.admin, bot.services.usage, reporter, bot.services.keys))
