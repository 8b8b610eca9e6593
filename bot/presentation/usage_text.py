"""Texts for /usage, /leaderboard and /imagine-admin (mentions render but never ping: AllowedMentions.none())."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.guild_admin import SETTINGS, show
from bot.imagegen.catalog import Catalog
from bot.presentation.text import code, plural
from bot.quotas import Limits, Standing
from bot.store.guilds import AuditEntry, GuildConfig
from bot.usage import BoardPage, ServerStats, UsageReport

METRIC_NOUN = {"images": "image", "requests": "request"}


def money(value: float) -> str:
    """`$0.12`."""
    return f"${value:,.2f}"


def usage_report(mention: str, report: UsageReport) -> str:
    """A member's usage per UTC period, quota left and reset time."""
    lines = [f"📊 **Usage of {mention}** (periods in UTC; only delivered images count)"]
    for span, totals in report.periods:
        cost = money(totals.cost)
        lines.append(
            f"**{span.label[0].upper() + span.label[1:]}**: {plural(totals.images, 'image')} · "
            f"{plural(totals.requests, 'request')} ({totals.failed} failed, {totals.blocked} blocked) · "
            f"{totals.tokens:,} tokens · ≈ {cost}"
        )
    lines.append(quota_line(report.standing))
    lines.append("Cost: the images the service billed, each at its model's price.")
    if report.hidden:
        lines.append("You are hidden from leaderboards.")
    return "\n".join(lines)


def quota_line(standing: Standing) -> str:
    """Today's quota: images left for the member (and the server), and when the day resets."""
    left = standing.member_left
    if standing.exempt:
        quota = "Quota: exempt from the per-member limits"
    elif left is None:
        quota = "Quota: no daily limit per member"
    else:
        quota = f"Quota: {left} of {standing.limits.member_daily_images} images left today"
    if standing.server_left is not None:
        quota += f" (server: {standing.server_left} of {standing.limits.server_daily_images} left)"
    return f"{quota} · resets at 00:00 UTC (<t:{int(standing.resets_at)}:R>)"


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
        lines.append(f"{info.label}: **{show(getattr(limits, key), key, catalog)}**{mark}")
    if len(catalog.offered) > 1:
        lines.append(f"Models offered: {', '.join(model.name for model in catalog.offered)}")
    roles = ", ".join(f"<@&{r}>" for r in sorted(config.exempt_roles)) or "none"
    channels = ", ".join(f"<#{c}>" for c in sorted(config.channels)) or "all channels"
    lines.append(f"Exempt roles (no per-member limits): {roles}")
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
