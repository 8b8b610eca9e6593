"""Texts for /usage, /leaderboard and /imagine-admin (mentions render but never ping: AllowedMentions.none())."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import guild_language
from bot.guild_admin import SETTINGS, display
from bot.i18n import _, datetime_text, every, money, ngettext, number, percent
from bot.imagegen.catalog import Catalog
from bot.limits import Limits, Standing
from bot.presentation.text import code
from bot.presentation.tier_text import budget_line, member_tier
from bot.store.guilds import AuditEntry, GuildConfig
from bot.usage import BoardPage, ServerStats, UsageReport


def images(count: int) -> str:
    """`1 image`, `4 images` in the current language."""
    return ngettext("{count} image", "{count} images", count).format(count=number(count))


def requests(count: int) -> str:
    """`1 request`, `4 requests` in the current language."""
    return ngettext("{count} request", "{count} requests", count).format(count=number(count))


def amount(metric: str, count: int) -> str:
    """`count` images or requests, as the leaderboard's metric says."""
    return images(count) if metric == "images" else requests(count)


def usage_report(mention: str, report: UsageReport, guild_id: int) -> str:
    """A member's usage per UTC period, their tier and what is left (today, this month), the server's budget.

    Money is shown only when `report.show_costs` (the viewer has Manage Server, or the server shows costs)."""
    lines = [_("📊 **Usage of {member}** (periods in UTC; only delivered images count)").format(member=mention)]
    for span, totals in report.periods:
        outcome = _("{requests} ({failed} failed, {blocked} blocked)").format(
            requests=requests(totals.requests), failed=number(totals.failed), blocked=number(totals.blocked)
        )
        tokens = ngettext("{count} token", "{count} tokens", totals.tokens).format(count=number(totals.tokens))
        line = f"**{span.heading}**: {images(totals.images)} · {outcome} · {tokens}"
        if report.show_costs:
            line += " · " + _("≈ {cost}").format(cost=money(totals.cost))
        lines.append(line)
    standing = report.standing
    lines.append(member_tier(standing.member, guild_id))
    lines.append(quota_line(standing))
    budget = budget_line(
        standing.limits, standing.committed, standing.price, standing.month_resets_at, show=report.show_costs
    )
    if budget is not None:
        lines.append(budget)
    if report.show_costs:
        lines.append(_("Cost: the images the service billed, each at its model's price."))
    if report.hidden:
        lines.append(_("You are hidden from leaderboards."))
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
    metric, other = page.metric, "requests" if page.metric == "images" else "images"
    if metric == "images":
        title = _("🏆 **Top creators by images, {period}**").format(period=page.period.label)
    else:
        title = _("🏆 **Top creators by requests, {period}**").format(period=page.period.label)
    lines = [title]
    if not page.board.entries:
        lines.append(_("Nobody has made anything in this period yet."))
    for entry in page.board.entries:
        shown = f"{amount(metric, getattr(entry, metric))} · {amount(other, getattr(entry, other))}"
        lines.append(f"**{number(entry.rank)}.** <@{entry.user_id}> — {shown}")
    ranked = page.board.ranked
    lines.append(
        ngettext(
            "Page {page} of {pages} · {count} member ranked", "Page {page} of {pages} · {count} members ranked", ranked
        ).format(page=number(page.page + 1), pages=number(page.pages), count=number(ranked))
    )
    mine = page.board.caller
    if mine is not None:
        lines.append(
            _("{member}'s rank: **#{rank}** with {amount}.").format(
                member=viewer, rank=number(mine.rank), amount=amount(metric, getattr(mine, metric))
            )
        )
    else:
        lines.append(
            _("{member} is not on this leaderboard (nothing delivered in this period, or hidden).").format(
                member=viewer
            )
        )
    return "\n".join(lines)


def limits_overview(limits: Limits, config: GuildConfig, catalog: Catalog) -> str:
    """Every setting in force, marking the server's overrides."""
    lines = [_("⚙️ **Image bot settings for this server** (✏️ = set here, otherwise the bot's default)")]
    for key, info in SETTINGS.items():
        mark = " ✏️" if key in config.overrides else ""
        lines.append(f"{_(info.label)}: **{display(key, getattr(limits, key), catalog)}**{mark}")
    lines.append(guild_language.overview_line(config.overrides.get(guild_language.KEY)))
    if len(catalog.offered) > 1:
        lines.append(_("Models offered: {models}").format(models=every([model.name for model in catalog.offered])))
    roles = every([f"<@&{r}>" for r in sorted(config.exempt_roles)]) or _("none")
    channels = every([f"<#{c}>" for c in sorted(config.channels)]) or _("all channels")
    lines.append(_("Exempt roles (no per-member limits): {roles}").format(roles=roles))
    lines.append(_("Roles with a tier: {count} (`/imagine-admin tier list`)").format(count=number(len(config.tiers))))
    lines.append(_("Channels: {channels}").format(channels=channels))
    lines.append(_("Blocked words: {count}").format(count=number(len(config.blocked_words))))
    modlog = f"<#{limits.modlog_channel}>" if limits.modlog_channel else _("off")
    lines.append(_("Mod-log channel: {channel}").format(channel=modlog))
    return "\n".join(lines)


def audit(entries: list[AuditEntry]) -> str:
    """The newest admin changes."""
    if not entries:
        return _("No settings have been changed on this server.")
    lines = [_("📝 **Recent changes** (UTC)")]
    for entry in entries:
        when = datetime_text(datetime.fromtimestamp(entry.created_at, UTC), style="short")
        lines.append(f"{when} · <@{entry.user_id}> · {entry.action}: {code(entry.detail, 100)}")
    return "\n".join(lines)


def server_stats(stats: ServerStats) -> str:
    """The 30-day admin summary (the chart is attached)."""
    totals = stats.totals
    days = len(stats.days)
    head = ngettext("📈 **Last {count} UTC day**", "📈 **Last {count} UTC days**", days).format(count=number(days))
    rate = _("failure rate {rate}").format(rate=percent(stats.failure_rate))
    lines = [f"{head}: {images(totals.images)} · {requests(totals.requests)} · ≈ {money(totals.cost)} · {rate}"]
    channels = " · ".join(f"<#{c.key}> {requests(c.requests)}" for c in stats.channels) or _("none")
    lines.append(_("Top channels: {channels}").format(channels=channels))
    finished = sum(o.requests for o in stats.outcomes) or 1
    kinds = " · ".join(
        f"`{o.key}` {number(o.requests)} ({percent(o.requests / finished)})" for o in stats.outcomes
    ) or _("none")
    lines.append(_("Outcomes: {outcomes}").format(outcomes=kinds))
    return "\n".join(lines)
