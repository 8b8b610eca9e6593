"""Texts for role tiers and budgets: a tier's limits in one line, the server's tier list, the budget line, the
mod-log's budget notice (mentions render but never ping: AllowedMentions.none())."""

from __future__ import annotations

from bot.budget import BudgetNotice
from bot.i18n import _, ngettext, number, percent
from bot.limits import Limits, server_defaults
from bot.pricing import money
from bot.quota_checks import images_within, month_reset
from bot.store.guilds import GuildConfig, RoleTier
from bot.textclean import code_span
from bot.tiers import CUSTOM, PRESETS, SERVER_DEFAULT, MemberLimits, member_limits

_KNOWN_NAMES = frozenset({CUSTOM, SERVER_DEFAULT, *(preset.name for preset in PRESETS.values())})


def role(role_id: int, guild_id: int) -> str:
    """A role mention (@everyone's id is the server's)."""
    return "@everyone" if role_id == guild_id else f"<@&{role_id}>"


def tier_name(name: str) -> str:
    """A tier's name in the current language (presets, Custom, the server default; combined: `Free + Standard`)."""
    return " + ".join(_(part) if part in _KNOWN_NAMES else part for part in name.split(" + "))


def limits_line(member: MemberLimits) -> str:
    """`30 a day · 600 a month · up to 4K · sets of up to 15 · every model`."""
    day, month = member.daily_images, member.monthly_images
    daily = _("{count} a day").format(count=number(day)) if day else _("no daily limit")
    monthly = _("{count} a month").format(count=number(month)) if month else _("no monthly limit")
    models = ", ".join(code_span(m) for m in member.models) if member.models else _("every model")
    return _("{daily} · {monthly} · up to {resolution} · sets of up to {size} · {models}").format(
        daily=daily,
        monthly=monthly,
        resolution=member.max_resolution,
        size=number(member.max_set_size),
        models=models,
    )


def member_tier(member: MemberLimits, guild_id: int) -> str:
    """`Tier: **Standard** (from @Members) — 30 a day · …`."""
    name, line = tier_name(member.tier), limits_line(member)
    if member.tiered:
        roles = ", ".join(role(r, guild_id) for r in member.roles)
        return _("Tier: **{tier}** (from {roles}) — {limits}").format(tier=name, roles=roles, limits=line)
    return _("Tier: **{tier}** — {limits}").format(tier=name, limits=line)


def tier_of_role(limits: Limits, tier: RoleTier, role_id: int) -> MemberLimits:
    """A role's tier as it applies, its unset limits taken from the server's defaults."""
    return member_limits(server_defaults(limits), {role_id: tier}, [role_id])


def tier_list(limits: Limits, config: GuildConfig) -> str:
    """Every role's tier, the server's default, the exempt roles and the presets."""
    guild = config.guild_id
    lines = [_("🎚️ **Role tiers** (a member gets the most generous value of each limit among their roles' tiers)")]
    for role_id, tier in sorted(config.tiers.items()):
        line = limits_line(tier_of_role(limits, tier, role_id))
        lines.append(f"{role(role_id, guild)} · **{tier_name(tier.name)}** · {line}")
    if not config.tiers:
        lines.append(_("No role has a tier yet: `/imagine-admin tier set` gives one."))
    lines.append(_("Everyone else (server default) · {limits}").format(limits=limits_line(server_defaults(limits))))
    exempt = ", ".join(role(r, guild) for r in sorted(config.exempt_roles)) or _("none")
    lines.append(_("Exempt roles (no per-member limits, cooldown or waiting limit): {roles}").format(roles=exempt))
    presets = " · ".join(
        f"**{tier_name(p.name)}**: {limits_line(tier_of_role(limits, p, 0))}" for p in PRESETS.values()
    )
    lines.append(_("Presets: {presets}").format(presets=presets))
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
    when = month_reset(resets_at)
    if show:
        return _(
            "Server budget: {used} of {budget} used this month (jobs in progress included), resets on {when}"
        ).format(used=money(committed), budget=money(budget), when=when)
    images = images_within(left, price)
    return ngettext(
        "Server budget: room for about {count} more image this month, resets on {when}",
        "Server budget: room for about {count} more images this month, resets on {when}",
        images,
    ).format(count=number(images), when=when)


def budget_notice(notice: BudgetNotice) -> str:
    """The mod-log's post when the month's spending reaches 80 % or 100 % of the budget (in the server's
    language: the caller speaks it)."""
    when = f"<t:{int(notice.resets_at)}:R>"
    if notice.level >= 100:
        return _(
            "💸 This month's image budget of {budget} is used up: new requests are refused until it resets {when}. "
            "Raise it with `/imagine-admin set`."
        ).format(budget=money(notice.budget), when=when)
    return _(
        "💸 {level} of this month's image budget is used: {used} of {budget} (jobs in progress included). "
        "It resets {when}."
    ).format(level=percent(notice.level / 100), used=money(notice.committed), budget=money(notice.budget), when=when)
