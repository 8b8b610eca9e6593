"""Texts for /usage, /leaderboard and /imagine-admin (mentions render but never ping: AllowedMentions.none())."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import guild_language
from bot.guild_admin import SETTINGS, display
from bot.i18n import _, ngettext, number
from bot.imagegen.catalog import Catalog
from bot.limits import Limits, Standing
from bot.presentation.text import code, plural
from bot.presentation.tier_text import budget_line, member_tier
from bot.pricing import money
from bot.store.guilds import AuditEntry, GuildConfig
from bot.usage import BoardPage, ServerStats, UsageReport

METRIC_NOUN = {"images": "image", "requests": "request"}


def usage_report(mention: str, report: UsageReport, guild_id: int) -> str:
    """A member's usage per UTC period, their tier and what is left (today, this month), the server's budget.

    Money is shown only when `report.show_costs` (the viewer has Manage Server, or the server shows costs)."""
    lines = [f"📊 **Usage of {mention}** (periods in UTC; only delivered images count)"]
    for span, totals in report.periods:
        cost = f" · ≈ {money(totals.cost)}" if report.show_costs else ""
        lines.append(
            f"**{span.label[0].upper() + span.label[1:]}**: {plural(totals.images, 'image')} · "
            f"{plural(totals.requests, 'request')} ({totals.failed} failed, {totals.blocked} blocked) · "
            f"{totals.tokens:,} tokens{cost}"
        )
    standing = report.standing
    lines.append(member_tier(standing.member, guild_id))
    lines.append(quota_line(standing))
    budget = budget_line(
        standing.limits, standing.committed, standing.price, standing.month_resets_at, show=report.show_costs
    )
    if budget is not None:
        lines.append(budget)
    if report.show_costs:
        lines.append("Cost: the images the service billed, each at its model's price.")
    if report.hidden:
        lines.append("You are hidden from leaderboards.")
    return "\n".join(lines)


def quota_line(standing: Standing) -> str:
    """What is left today and this month, and when the day resets."""
    resets = _("the day resets at 00:00 UTC ({when})").format(when=f"<t:{int(standing.resets_at)}:R>")
    return f"{quota_left(standing)} · {resets}"


def quota_left(standing: Standing) -> str:
    """`Quota: 8 of 10 images left today · 590 of 600 left this month (server: …)`."""
    if standing.exempt:
        quota = _("Quota: exempt from the per-member limits")
    else:
        member = standing.member
        today, month = standing.member_left, standing.member_month_left
        if today is None:
            day_part = _("no daily limit")
        else:
            limit = member.daily_images
            day_part = ngettext("{left} of {limit} image left today", "{left} of {limit} images left today", limit)
            day_part = day_part.format(left=number(today), limit=number(limit))
        if month is None:
            month_part = _("no monthly limit")
        else:
            month_part = _("{left} of {limit} left this month").format(
                left=number(month), limit=number(member.monthly_images)
            )
        quota = _("Quota: {today} · {month}").format(today=day_part, month=month_part)
    if standing.server_left is not None:
        server = _("(server: {left} of {limit} left today)").format(
            left=number(standing.server_left), limit=number(standing.limits.server_daily_images)
        )
        quota = f"{quota} {server}"
    return quota


def leaderboard(page: BoardPage, viewer: str) -> str:
    """One page of the leaderboard, plus the rank of `viewer` (a mention: anyone may page a public board)."""
    noun = METRIC_NOUN[page.metric]
    lines = [f"🏆 **Top creators by {page.metric}, {page.period.label}**"]
    if not page.board.entries:
        lines.append("Nobody has made anything in this period yet.")
    for entry in page.board.entries:
        value = getattr(entry, page.metric)
        other = "requests" if page.metric == "images" else "images"
        lines.append(f"**{entry.rank}.** <@{entry.user_id}> — {plural(value, noun)} · {getattr(entry, other)} {other}")
    lines.append(f"Page {page.page + 1} of {page.pages} · {plural(page.board.ranked, 'member')} ranked")
    mine = page.board.caller
    if mine is not None:
        lines.append(f"{viewer}'s rank: **#{mine.rank}** with {plural(getattr(mine, page.metric), noun)}.")
    else:
        lines.append(f"{viewer} is not on this leaderboard (nothing delivered in this period, or hidden).")
    return "\n".join(lines)


def limits_overview(limits: Limits, config: GuildConfig, catalog: Catalog) -> str:
    """Every setting in force, marking the server's overrides."""
    lines = ["⚙️ **Image bot settings for this server** (✏️ = set here, otherwise the bot's default)"]
    for key, info in SETTINGS.items():
        mark = " ✏️" if key in config.overrides else ""
        lines.append(f"{info.label}: **{display(key, getattr(limits, key), catalog)}**{mark}")
    lines.append(guild_language.overview_line(config.overrides.get(guild_language.KEY)))
    if len(catalog.offered) > 1:
        lines.append(f"Models offered: {', '.join(model.name for model in catalog.offered)}")
    roles = ", ".join(f"<@&{r}>" for r in sorted(config.exempt_roles)) or "none"
    channels = ", ".join(f"<#{c}>" for c in sorted(config.channels)) or "all channels"
    lines.append(f"Exempt roles (no per-member limits): {roles}")
    lines.append(f"Roles with a tier: {len(config.tiers)} (`/imagine-admin tier list`)")
    lines.append(f"Channels: {channels}")
    lines.append(f"Blocked words: {len(config.blocked_words)}")
    modlog = f"<#{limits.modlog_channel}>" if limits.modlog_channel else "off"
    lines.append(f"Mod-log channel: {modlog}")
    return "\n".join(lines)


def audit(entries: list[AuditEntry]) -> str:
    """The newest admin changes."""
    if not entries:
        return "No settings have been changed on this server."
    lines = ["📝 **Recent changes** (UTC)"]
    for entry in entries:
        when = datetime.fromtimestamp(entry.created_at, UTC).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{when} · <@{entry.user_id}> · {entry.action}: {code(entry.detail, 100)}")
    return "\n".join(lines)


def server_stats(stats: ServerStats) -> str:
    """The 30-day admin summary (the chart is attached)."""
    totals = stats.totals
    lines = [
        f"📈 **Last {len(stats.days)} UTC days**: {plural(totals.images, 'image')} · "
        f"{plural(totals.requests, 'request')} · ≈ {money(totals.cost)} · "
        f"failure rate {stats.failure_rate:.0%}",
    ]
    channels = " · ".join(f"<#{c.key}> {plural(c.requests, 'request')}" for c in stats.channels) or "none"
    lines.append(f"Top channels: {channels}")
    finished = sum(o.requests for o in stats.outcomes) or 1
    kinds = " · ".join(f"`{o.key}` {o.requests} ({o.requests / finished:.0%})" for o in stats.outcomes) or "none"
    lines.append(f"Outcomes: {kinds}")
    return "\n".join(lines)
