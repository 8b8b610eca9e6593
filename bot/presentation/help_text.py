"""The /help card: what the bot can do with one example each, the member's limits today, blending by replying."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.imagegen.models import MAX_REFERENCES
from bot.limits import Standing
from bot.presentation.text import plural
from bot.presentation.usage_text import quota_line
from bot.store.member_defaults import MemberDefaults

EMBED_DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class Command:
    """One line of the card: how to call it, what it does, an example."""

    usage: str
    does: str
    example: str


COMMANDS = (
    Command(
        "/imagine",
        "images from a prompt; `count` makes a consistent set, `image1`…`image6` edit or blend pictures",
        "/imagine prompt:a lighthouse in four seasons count:4 aspect:16:9",
    ),
    Command("/settings", "your defaults here: resolution, aspect ratio, images per request", "/settings"),
    Command("/tray", "the pictures you collected with Apps → Add to references", "/tray"),
    Command("/job", "brings back a past job with its images and buttons", "/job id:42"),
    Command("/usage show", "your images, requests and estimated cost; images left today", "/usage show"),
    Command(
        "/usage leaderboards",
        "hide yourself from (or show yourself on) leaderboards",
        "/usage leaderboards visible:False",
    ),
    Command("/usage forget-me", "deletes your prompts, history, tray and defaults", "/usage forget-me"),
    Command("/leaderboard", "the server's top creators", "/leaderboard period:month metric:images"),
    Command("/help", "this card", "/help"),
    Command("/imagine-admin", "limits, channels and blocked words (Manage Server)", "/imagine-admin show"),
)
MESSAGE_COMMANDS = (
    "**Apps → Blend with prompt…** on a message with pictures: a form for the prompt, then the job.",
    "**Apps → Add to references** on a message: keeps its pictures in your tray for `/imagine use_tray:True`.",
)
BUTTONS = "Under every result: 🔁 Reroll · 🎨 Variations · ⬆️ Upscale 4K · 📌 Use as reference · 🗑️ Delete."


def commands_text() -> str:
    """Every command, what it does and one example."""
    lines = ["**Commands**"]
    lines += [f"`{c.usage}` — {c.does}. Example: `{c.example}`" for c in COMMANDS]
    lines += ["", "**Message commands**", *MESSAGE_COMMANDS, "", BUTTONS]
    return "\n".join(lines)


def limits_text(standing: Standing, defaults: MemberDefaults) -> str:
    """The member's limits here today (the quota line of /usage) and their /settings defaults."""
    limits = standing.limits
    lines = [quota_line(standing)]
    four_k = "allowed" if limits.allow_4k else "not allowed"
    shape = f"Sets of up to {plural(limits.max_set_size, 'image')} · 4K {four_k}"
    if limits.cooldown_seconds and not standing.exempt:
        shape += f" · {limits.cooldown_seconds:g}s between requests"
    lines.append(shape)
    resolution = defaults.resolution or f"{limits.default_resolution} (server)"
    aspect = defaults.aspect or "ratio from the prompt"
    lines.append(f"Your defaults: {resolution} · {aspect} · {plural(defaults.count or 1, 'image')} (`/settings`)")
    return "\n".join(lines)


def blend_text(bot_name: str, sees_other_members: bool) -> str:
    """How to blend by replying to a message with pictures."""
    lines = [
        f"Reply to a message that has pictures and mention me with what to do, e.g. "
        f"`@{bot_name} turn this into a watercolor --n 4 --ar 16:9 --res 2K`.",
        f"The replied-to pictures come first, then any you attach (at most {MAX_REFERENCES}). Options: `--n 4` or "
        "`x4` images, `--ar 16:9`, `--res 1K|2K|4K`; what you leave out comes from `/settings`.",
    ]
    if not sees_other_members:
        lines.append("Another member's pictures are hidden from me here: use **Apps → Blend with prompt…** on them.")
    return "\n".join(lines)


def help_embed(
    bot_name: str, standing: Standing, defaults: MemberDefaults, *, sees_other_members: bool
) -> discord.Embed:
    """The whole card, within Discord's embed limits (6000 characters in all; the card is far below)."""
    embed = discord.Embed(title=f"What {bot_name} can do", description=commands_text()[:EMBED_DESCRIPTION_LIMIT])
    limits = limits_text(standing, defaults)[:FIELD_LIMIT]
    embed.add_field(name="Your limits in this server", value=limits, inline=False)
    embed.add_field(
        name="Blend by replying", value=blend_text(bot_name, sees_other_members)[:FIELD_LIMIT], inline=False
    )
    return embed
