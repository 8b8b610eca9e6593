"""Blending: reply to a message with images and mention the bot, or use Apps → "Blend with prompt…"."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import ImageBot
from bot.errors import BadInput, UserFacingError
from bot.i18n import N_, _, number, speaking
from bot.imagegen.catalog import size_for
from bot.imagegen.models import MAX_REFERENCES, MAX_TOTAL_IMAGES
from bot.inline_options import parse_inline, strip_mentions
from bot.jobs.model import JobSpec
from bot.member_settings import FROM_PROMPT
from bot.presentation.access import role_ids
from bot.presentation.buttons import buttons_for
from bot.presentation.launch import Launcher, PendingReference
from bot.presentation.speaking import public_language
from bot.presentation.text import size_label
from bot.services import Services
from bot.tree import error_reference
from cogs.blend._gather import Found, images_in
from cogs.blend._modal import BlendModal

log = logging.getLogger(__name__)

# Translators: keep `@{bot}` and the options (--n 4 --ar 16:9); translate the instruction.
HOW_TO = N_(
    "Reply to a message that has images (or attach images to your message) and mention me with what to do, "
    "for example `@{bot} turn this into a watercolor --n 4 --ar 16:9`."
)
HIDDEN = N_(
    "I can't see the images of the message you replied to: Discord hides other members' attachments from me "
    "unless the server owner enables the message content intent. Use **Apps → Blend with prompt…** on that "
    "message instead (right-click or long-press it), or attach the images to your mention."
)
HIDDEN_NOTE = N_("ℹ️ I can't see the images of the message you replied to, so only your attachments are used.")
NOT_IMAGES = N_("None of those files is an image. I can blend PNG, JPEG, WebP, GIF, BMP and TIFF images.")


def reference_room(count: int, max_references: int = MAX_REFERENCES) -> int:
    """How many references fit next to `count` requested images (the model takes at most `max_references`)."""
    return max(0, min(max_references, MAX_TOTAL_IMAGES - count))


def trim_references(
    images: list[PendingReference], count: int, max_references: int = MAX_REFERENCES
) -> tuple[list[PendingReference], str | None]:
    """Keep the first references that fit; the note says how many were left out. Both in the current language."""
    room = reference_room(count, max_references)
    if room == 0:
        raise BadInput(
            _("With reference images you can ask for at most {count} images.").format(count=MAX_TOTAL_IMAGES - 1)
        )
    if len(images) <= room:
        return images, None
    note = _("ℹ️ Only the first {room} of {total} images are used as references.").format(
        room=number(room), total=number(len(images))
    )
    return images[:room], note


class Blend(commands.Cog):
    """Reply-with-image blending and the "Blend with prompt…" message command."""

    def __init__(self, bot: ImageBot, services: Services) -> None:
        self.bot = bot
        self.services = services
        self.settings = services.settings
        self.launcher = Launcher(bot, services, buttons=buttons_for)
        self.menu = app_commands.ContextMenu(name="Blend with prompt…", callback=self.blend_menu)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        """Register the message command."""
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Unregister the message command."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    # Reply + mention ---------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A member mentioned the bot: blend the images of the replied-to message and of the mention."""
        me = self.bot.user
        if me is None or message.author.bot or message.guild is None:
            return
        # Only an explicit @mention in the text is a request: a reply pings the bot too (it is then in
        # `message.mentions`), and "love it!" under a result must not start a paid job.
        if me.id not in message.raw_mentions:
            return
        language = await self._language(message.guild)
        with speaking(language):  # everything here is answered in the channel: the server's language
            try:
                await self.blend_reply(message, me.id)
            except UserFacingError as error:
                await self._answer(message, error.message)
            except Exception:
                ref = error_reference()
                log.exception("reply blend by user %s failed (ref %s)", message.author.id, ref)
                await self._answer(message, _("Something went wrong (ref {ref}). Please try again.").format(ref=ref))

    async def _language(self, guild: discord.Guild) -> str | None:
        """The server's language for public answers (English if its settings cannot be read now)."""
        try:
            return await public_language(self.services.store.guilds, guild.id, guild.preferred_locale)
        except Exception:
            log.warning("could not read the language of server %s", guild.id, exc_info=True)
            return None

    @commands.Cog.listener()
    async def on_command_error(self, context: commands.Context[Any], error: commands.CommandError) -> None:
        """Mentions are not prefix commands: ignore the "command not found" for them."""
        if not isinstance(error, commands.CommandNotFound):
            log.warning("prefix command error: %s", type(error).__name__)

    async def blend_reply(self, message: discord.Message, bot_id: int) -> None:
        """Collect the references (replied-to message first, fetched fresh), parse the options, run."""
        options = parse_inline(strip_mentions(message.content, bot_id))
        max_bytes = self.settings.reference_max_bytes
        found, hidden = Found(), False
        parent = await self._replied_to(message)
        if parent is not None:
            found += images_in(parent, max_bytes)
            hidden = not found.images and self._hidden_from_us(parent, bot_id)
        found += images_in(message, max_bytes)
        if not found.images:
            if hidden:
                raise BadInput(_(HIDDEN))
            name = self.bot.user.name if self.bot.user else "Bot"
            raise BadInput(_(NOT_IMAGES) if found.skipped else _(HOW_TO).format(bot=name))
        if not options.prompt:
            raise BadInput(_("Tell me what to do with the images, for example `turn this into a watercolor`."))
        guild_id = message.guild.id if message.guild else None
        chosen = await self.services.member_settings.choose(  # what is not written inline: the /settings defaults
            guild_id,
            message.author.id,
            role_ids(message.author),
            resolution=options.resolution,
            aspect=options.aspect,
            count=options.count,
            references=len(found.images),
        )
        room = self.services.settings.catalog.get(chosen.model).max_references
        references, note = trim_references(found.images, chosen.count, room)
        notes = [n for n in (*chosen.notes, note, _(HIDDEN_NOTE) if hidden else None) if n]
        spec = JobSpec(
            user_id=message.author.id,
            guild_id=guild_id,
            channel_id=message.channel.id,
            prompt=options.prompt,
            count=chosen.count,
            size=size_for(chosen.resolution, chosen.aspect),
            size_label=size_label(chosen.resolution, chosen.aspect, self.services.settings.catalog.label(chosen.model)),
            kind="blend",
            model=chosen.model,
        )
        await self.launcher.from_message(message, spec, references, preface="\n".join(notes) or None)

    async def _replied_to(self, message: discord.Message) -> discord.Message | None:
        """The replied-to message, fetched fresh (attachment URLs in the cached copy may have expired)."""
        reference = message.reference
        if reference is None or reference.message_id is None:
            return None
        guild_id = message.guild.id if message.guild else None
        channel = self.bot.get_partial_messageable(reference.channel_id or message.channel.id, guild_id=guild_id)
        try:
            return await channel.fetch_message(reference.message_id)
        except discord.NotFound:
            raise BadInput(_("The message you replied to was deleted.")) from None
        except discord.Forbidden:
            raise BadInput(_("I can't read the message you replied to (I need Read Message History).")) from None

    def _hidden_from_us(self, parent: discord.Message, bot_id: int) -> bool:
        """Whether Discord blanked the message for us (no message content intent, another member's message)."""
        if self.settings.message_content_intent or parent.author.id == bot_id or parent.guild is None:
            return False
        if any(user.id == bot_id for user in parent.mentions):
            return False
        return not (parent.content or parent.attachments or parent.embeds or parent.components)

    async def _answer(self, message: discord.Message, text: str) -> None:
        try:
            await message.reply(text, mention_author=False)
        except discord.HTTPException as error:
            log.warning("could not answer a mention (%s %s)", error.status, error.code)

    # Message command ---------------------------------------------------------------------------------

    async def blend_menu(self, interaction: discord.Interaction, target: discord.Message) -> None:
        """Apps → "Blend with prompt…": ask for the prompt and count in a modal."""
        found = images_in(target, self.settings.reference_max_bytes)
        if not found.images:
            raise BadInput(_(NOT_IMAGES) if found.skipped else _("That message has no images to blend."))
        references = list(found.images)
        member_settings = self.services.member_settings
        # The form starts with the member's /settings defaults; what they submit is taken as given.
        start = await member_settings.choose(interaction.guild_id, interaction.user.id, references=len(references))

        async def submit(modal_interaction: discord.Interaction, prompt: str, count: int, aspect: str | None) -> None:
            chosen = await member_settings.choose(
                modal_interaction.guild_id,
                modal_interaction.user.id,
                role_ids(modal_interaction.user),
                aspect=aspect or FROM_PROMPT,
                count=count,
            )
            room = self.services.settings.catalog.get(chosen.model).max_references
            used, _note = trim_references(references, count, room)  # refuses in the member's language
            spec = JobSpec(
                user_id=modal_interaction.user.id,
                guild_id=modal_interaction.guild_id,
                channel_id=modal_interaction.channel_id,
                prompt=prompt,
                count=count,
                size=size_for(chosen.resolution, chosen.aspect),
                size_label=size_label(
                    chosen.resolution, chosen.aspect, self.services.settings.catalog.label(chosen.model)
                ),
                kind="blend",
                model=chosen.model,
            )

            def preface() -> str | None:  # shown above the public result: written in its language
                note = trim_references(references, count, room)[1]
                return "\n".join(n for n in (*chosen.notes, note) if n) or None

            await self.launcher.from_interaction(modal_interaction, spec, used, preface=preface)

        modal = BlendModal(len(references), submit, count=start.count, aspect=start.aspect)
        await interaction.response.send_modal(modal)


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Blend(bot, bot.services))
