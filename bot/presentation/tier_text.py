"""Texts for role tiers and budgets: a tier's limits in one line, the server's tier list, the budget line, the
mod-log's budget notice (mentions render but never ping: AllowedMentions.none())."""

from __future__ import annotations

from bot.budget import BudgetNotice
from bot.limits import Limits, server_defaults
from bot.pricing import money
from bot.quota_checks import images_within, month_reset
from bot.store.guilds import GuildConfig, RoleTier
from bot.textclean import code_span
from bot.tiers import PRESETS, MemberLimits, member_limits


def role(role_id: int, guild_id: int) -> str:
    """A role mention (@everyone's id is the server's)."""
    return "@everyone" if role_id == guild_id else f"<@&{role_id}>"


def limits_line(member: MemberLimits) -> str:
    """`30 a day · 600 a month · up to 4K · sets of up to 15 · every model`."""
    daily = f"{member.daily_images} a day" if member.daily_images else "no daily limit"
    monthly = f"{member.monthly_images} a month" if member.monthly_images else "no monthly limit"
    models = ", ".join(code_span(m) for m in member.models) if member.models else "every model"
    return f"{daily} · {monthly} · up to {member.max_resolution} · sets of up to {member.max_set_size} · {models}"


def member_tier(member: MemberLimits, guild_id: int) -> str:
    """`Tier: **Standard** (from @Members) — 30 a day · …`."""
    source = f" (from {', '.join(role(r, guild_id) for r in member.roles)})" if member.tiered else ""
    return f"Tier: **{member.tier}**{source} — {limits_line(member)}"


def tier_of_role(limits: Limits, tier: RoleTier, role_id: int) -> MemberLimits:
    """A role's tier as it applies, its unset limits taken from the server's defaults."""
    return member_limits(server_defaults(limits), {role_id: tier}, [role_id])


def tier_list(limits: Limits, config: GuildConfig) -> str:
    """Every role's tier, the server's default, the exempt roles and the presets."""
    guild = config.guild_id
    lines = ["🎚️ **Role tiers** (a member gets the most generous value of each limit among their roles' tiers)"]
    for role_id, tier in sorted(config.tiers.items()):
        lines.append(f"{role(role_id, guild)} · **{tier.name}** · {limits_line(tier_of_role(limits, tier, role_id))}")
    if not config.tiers:
        lines.append("No role has a tier yet: `/imagine-admin tier set` gives one.")
    lines.append(f"Everyone else (server default) · {limits_line(server_defaults(limits))}")
    exempt = ", ".join(role(r, guild) for r in sorted(config.exempt_roles)) or "none"
    lines.append(f"Exempt roles (no per-member limits, cooldown or waiting limit): {exempt}")
    presets = " · ".join(f"**{p.name}**: {limits_line(tier_of_role(limits, p, 0))}" for p in PRESETS.values())
    lines.append(f"Presets: {presets}")
    return "\n".join(lines)


def pages(text: str, limit: int = 2000) -> list[str]:
    """The text in messages of at most `limit` characters, cut between lines (a line longer than that is cut)."""
    found: list[str] = []
    for line in text.splitlines():
        line = line[:limit]
        if found and len(found[-1]) + 1 + len(line) <= limit:
            found[-1] += "\n" + line
        else:
            found.append(line)
    return found or [""]


def budget_line(limits: Limits, committed: float, price: float, resets_at: float, *, show: bool) -> str | None:
    """The server's budget this month: money for those who see costs, else the images it still pays for."""
    budget = limits.monthly_budget
    if not budget:
        return None
    left = max(0.0, budget - committed)
    when = f"resets on {month_reset(resets_at)}"
    if show:
        return (
            f"Server budget: {money(committed)} of {money(budget)} used this month (jobs in progress included), {when}"
        )
    return f"Server budget: room for about {images_within(left, price)} more images this month, {when}"


def budget_notice(notice: BudgetNotice) -> str:
    """The mod-log's post when the month's spending reaches 80 % or 100 % of the budget."""
    when = f"<t:{int(notice.resets_at)}:R>"
    if notice.level >= 100:
        return (
            f"💸 This month's image budget of {money(notice.budget)} is used up: new requests are refused until it "
            f"resets {when}. Raise it with `/imagine-admin set`."
        )
    return (
        f"💸 {notice.level} % of this month's image budget is used: {money(notice.committed)} of "
        f"{money(notice.budget)} (jobs in progress included). It resets {when}."
    )
