"""/imagine-admin: limits, role tiers, exempt roles, channels, blocked words, mod-log, statistics, the audit log,
and the server's own API key."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot import guild_language
from bot.charts import daily_chart
from bot.client import ImageBot
from bot.guild_admin import SETTINGS, GuildAdmin
from bot.i18n import N_
from bot.presentation import tier_text, usage_text
from bot.presentation.guards import RefusalReporter, report_budget
from bot.presentation.key_form import ApiKeyForm
from bot.server_keys import ServerKeys
from bot.tiers import PRESETS, RESOLUTION_ORDER
from bot.usage import UsageService, day_label

SETTING_CHOICES = [app_commands.Choice(name=info.label, value=key) for key, info in SETTINGS.items()]
SETTING_CHOICES.append(app_commands.Choice(name=guild_language.LABEL, value=guild_language.KEY))
PRESET_CHOICES = [app_commands.Choice(name=preset.name, value=key) for key, preset in PRESETS.items()]
RESOLUTION_CHOICES = [app_commands.Choice(name=f"up to {r}", value=r) for r in RESOLUTION_ORDER]
KEY_ACTIONS = [
    app_commands.Choice(name="Enter or replace the key", value="set"),
    app_commands.Choice(name="Show its status", value="status"),
    app_commands.Choice(name="Remove it", value="remove"),
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
        description="Image bot settings for this server",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    tier = AdminGroup(name="tier", description="Limits per role: a preset or your own", parent=admin)

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

    @admin.command(name="show", description="Show the limits and settings in force")
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

    @admin.command(name="exempt", description="Exempt a role from the per-member limits")
    @app_commands.describe(role="The role", exempt="Exempt it (true) or not any more (false)")
    async def exempt(self, interaction: discord.Interaction, role: discord.Role, exempt: bool = True) -> None:
        """Add or remove an exempt role."""
        assert interaction.guild_id is not None
        await self.service.set_exempt(interaction.guild_id, interaction.user.id, role.id, exempt)
        state = "is now exempt from" if exempt else "is no longer exempt from"
        await self._reply(interaction, f"✅ {role.mention} {state} the per-member limits.")

    @tier.command(name="set", description="Give a role a preset tier or its own limits (most generous role wins)")
    @app_commands.describe(
        role="The role (@everyone: every member)",
        preset="Free, Standard or Unlimited; the limits below change it",
        daily="Images per member per day (0 = no limit)",
        monthly="Images per member per month (0 = no limit)",
        models="Allowed model ids, separated by commas, or `all`",
        max_resolution="Highest resolution",
        max_set="Largest set per request",
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
        limits, _ = await self.service.overview(interaction.guild_id)
        line = tier_text.limits_line(tier_text.tier_of_role(limits, tier, role.id))
        who = tier_text.role(role.id, interaction.guild_id)
        await self._reply(interaction, f"✅ {who} now has the **{tier.name}** tier: {line}.")

    @tier.command(name="remove", description="Take a role's tier away")
    @app_commands.describe(role="The role")
    async def tier_remove(self, interaction: discord.Interaction, role: discord.Role) -> None:
        """Remove a role's tier."""
        assert interaction.guild_id is not None
        removed = await self.service.remove_tier(interaction.guild_id, interaction.user.id, role.id)
        who = tier_text.role(role.id, interaction.guild_id)
        await self._reply(interaction, f"✅ {who} no longer has a tier." if removed else f"{who} had no tier.")

    @tier.command(name="list", description="The roles' tiers, the server default and the presets")
    async def tier_list(self, interaction: discord.Interaction) -> None:
        """Every tier of this server."""
        assert interaction.guild_id is not None
        limits, config = await self.service.overview(interaction.guild_id)
        first, *more = tier_text.pages(tier_text.tier_list(limits, config))
        await self._reply(interaction, first)
        for page in more:
            await interaction.followup.send(page, ephemeral=True)

    @admin.command(name="channel", description="Restrict the bot to chosen channels (none chosen = everywhere)")
    @app_commands.describe(channel="The channel", allowed="Allow it (true) or remove it from the list (false)")
    async def channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel, allowed: bool = True
    ) -> None:
        """Add a channel to the allowed list, or remove it."""
        assert interaction.guild_id is not None
        await self.service.set_channel(interaction.guild_id, interaction.user.id, channel.id, allowed)
        _, config = await self.service.overview(interaction.guild_id)
        where = ", ".join(f"<#{c}>" for c in sorted(config.channels)) or "every channel"
        await self._reply(interaction, f"✅ The bot now generates in: {where}.")

    @admin.command(name="block-word", description="Refuse prompts containing a word or phrase")
    @app_commands.describe(word="Word or phrase (whole-word, case-insensitive)", blocked="Block (true) or unblock")
    async def block_word(self, interaction: discord.Interaction, word: str, blocked: bool = True) -> None:
        """Add a blocked word, or remove one."""
        assert interaction.guild_id is not None
        changed = await self.service.set_word(interaction.guild_id, interaction.user.id, word, blocked)
        state = "blocked" if blocked else "unblocked"
        note = "" if changed else " (no change)"
        await self._reply(interaction, f"✅ ||{discord.utils.escape_markdown(word.strip())}|| is {state}{note}.")

    @admin.command(name="blocked-words", description="List the blocked words (privately)")
    async def blocked_words(self, interaction: discord.Interaction) -> None:
        """The blocked list, behind spoilers."""
        assert interaction.guild_id is not None
        _, config = await self.service.overview(interaction.guild_id)
        words = ", ".join(f"||{discord.utils.escape_markdown(w)}||" for w in config.blocked_words)
        await self._reply(interaction, (f"Blocked words: {words}" if words else "No blocked words.")[:2000])

    @admin.command(name="mod-log", description="Send every prompt and its outcome to a channel")
    @app_commands.describe(channel="The mod-log channel; leave empty to turn it off")
    async def mod_log(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        """Set or clear the mod-log channel."""
        assert interaction.guild_id is not None
        await self.service.set_modlog(interaction.guild_id, interaction.user.id, channel.id if channel else None)
        await self._reply(interaction, f"✅ Mod-log: {channel.mention if channel else 'off'}.")

    @admin.command(name="stats", description="Last 30 days: images per day, top channels, failures")
    async def stats(self, interaction: discord.Interaction) -> None:
        """The server summary with a per-day chart."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = await self.usage.server_stats(interaction.guild_id)
        days = [(day_label(d.day), d.images, d.failed) for d in stats.days]
        png = await asyncio.to_thread(daily_chart, "Images per day, last 30 days (UTC)", days)
        file = discord.File(io.BytesIO(png), filename="usage_30_days.png", description="Images per UTC day")
        await interaction.followup.send(usage_text.server_stats(stats), file=file, ephemeral=True)

    @admin.command(name="audit", description="Recent settings changes: who, what, when")
    async def audit(self, interaction: discord.Interaction) -> None:
        """The newest audit entries."""
        assert interaction.guild_id is not None
        entries = await self.service.audit_log(interaction.guild_id)
        await self._reply(interaction, usage_text.audit(entries)[:2000])

    @admin.command(name="api-key", description="This server's own image API key: enter it, see it, or remove it")
    @app_commands.describe(action="Enter (or replace) the key in a private form, show its status, or remove it")
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


async def setup(bot: ImageBot) -> None:
    """Extension entry point; refused requests are reported to the mod-log from here."""
    reporter = RefusalReporter(bot)
    bot.services.quotas.refusal_hook = reporter
    bot.services.quotas.budget.hook = lambda channel, notice: report_budget(bot, channel, notice)
    await bot.add_cog(Admin(bot.services.admin, bot.services.usage, reporter, bot.services.keys))
