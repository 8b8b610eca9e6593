"""The /help card: what the bot can do with one example each, the member's limits today, blending by replying."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.i18n import N_, _, ngettext, number
from bot.imagegen.models import MAX_REFERENCES
from bot.limits import Standing
from bot.presentation.usage_text import quota_line
from bot.store.member_defaults import MemberDefaults

EMBED_DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class Command:
    """One line of the card: how to call it, what it does (translated), an example (its words translated)."""

    usage: str
    does: str
    example: str


COMMANDS = (
    Command(
        "/imagine",
        N_("images from a prompt; `count` makes a consistent set, `image1`…`image6` edit or blend pictures"),
        # Translators: a command: keep `/imagine`, the option names and values; translate only the prompt's words.
        N_("/imagine prompt:a lighthouse in four seasons count:4 aspect:16:9"),
    ),
    Command(
        "/settings",
        N_(
            "your defaults here: resolution, aspect ratio, images per request, and a model menu when several "
            "models are offered"
        ),
        "/settings",
    ),
    Command("/tray", N_("the pictures you collected with Apps → Add to references"), "/tray"),
    Command("/job", N_("brings back a past job with its images and buttons"), "/job id:42"),
    Command("/usage show", N_("your images, requests and estimated cost; images left today"), "/usage show"),
    Command(
        "/usage leaderboards",
        N_("hide yourself from (or show yourself on) leaderboards"),
        "/usage leaderboards visible:False",
    ),
    Command("/usage forget-me", N_("deletes your prompts, history, tray and defaults"), "/usage forget-me"),
    Command("/leaderboard", N_("the server's top creators"), "/leaderboard period:month metric:images"),
    Command("/help", N_("this card"), "/help"),
    Command("/imagine-admin", N_("limits, channels and blocked words (Manage Server)"), "/imagine-admin show"),
)
MESSAGE_COMMANDS = (
    N_("**Apps → Blend with prompt…** on a message with pictures: a form for the prompt, then the job."),
    N_("**Apps → Add to references** on a message: keeps its pictures in your tray for `/imagine use_tray:True`."),
)
BUTTONS = N_("Under every result: 🔁 Reroll · 🎨 Variations · ⬆️ Upscale 4K · 📌 Use as reference · 🗑️ Delete.")


def _images(count: int) -> str:
    return ngettext("{count} image", "{count} images", count).format(count=number(count))


def commands_text() -> str:
    """Every command, what it does and one example."""
    lines = [_("**Commands**")]
    lines += [
        _("`{usage}` — {does}. Example: `{example}`").format(usage=c.usage, does=_(c.does), example=_(c.example))
        for c in COMMANDS
    ]
    lines += ["", _("**Message commands**"), *(_(line) for line in MESSAGE_COMMANDS), "", _(BUTTONS)]
    return "\n".join(lines)


def limits_text(standing: Standing, defaults: MemberDefaults) -> str:
    """The member's limits here today (the quota line of /usage) and their /settings defaults."""
    limits = standing.limits
    lines = [quota_line(standing)]
    if limits.allow_4k:
        shape = _("Sets of up to {images} · 4K allowed").format(images=_images(limits.max_set_size))
    else:
        shape = _("Sets of up to {images} · 4K not allowed").format(images=_images(limits.max_set_size))
    if limits.cooldown_seconds and not standing.exempt:
        between = _("{seconds}s between requests").format(seconds=number(limits.cooldown_seconds))
        shape = f"{shape} · {between}"
    lines.append(shape)
    resolution = defaults.resolution or _("{resolution} (server)").format(resolution=limits.default_resolution)
    aspect = defaults.aspect or _("ratio from the prompt")
    lines.append(
        _("Your defaults: {resolution} · {aspect} · {images} (`/settings`)").format(
            resolution=resolution, aspect=aspect, images=_images(defaults.count or 1)
        )
    )
    return "\n".join(lines)


def blend_text(bot_name: str, sees_other_members: bool) -> str:
    """How to blend by replying to a message with pictures."""
    lines = [
        # Translators: keep the options (--n 4, --ar 16:9, --res 2K) as they are; translate the instruction.
        _(
            "Reply to a message that has pictures and mention me with what to do, e.g. "
            "`@{bot} turn this into a watercolor --n 4 --ar 16:9 --res 2K`."
        ).format(bot=bot_name),
        _(
            "The replied-to pictures come first, then any you attach (at most {count}). Options: `--n 4` or "
            "`x4` images, `--ar 16:9`, `--res 1K|2K|4K`; what you leave out comes from `/settings`."
        ).format(count=MAX_REFERENCES),
    ]
    if not sees_other_members:
        lines.append(_("Another member's pictures are hidden from me here: use **Apps → Blend with prompt…** on them."))
    return "\n".join(lines)


def help_embed(
    bot_name: str, standing: Standing, defaults: MemberDefaults, *, sees_other_members: bool
) -> discord.Embed:
    """The whole card, within Discord's embed limits (6000 characters in all; the card is far below)."""
    title = _("What {bot} can do").format(bot=bot_name)
    embed = discord.Embed(title=title, description=commands_text()[:EMBED_DESCRIPTION_LIMIT])
    limits = limits_text(standing, defaults)[:FIELD_LIMIT]
    embed.add_field(name=_("Your limits in this server"), value=limits, inline=False)
    embed.add_field(
        name=_("Blend by replying"), value=blend_text(bot_name, sees_other_members)[:FIELD_LIMIT], inline=False
    )
    return embed
