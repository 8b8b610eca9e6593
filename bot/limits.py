"""The limits in force for a server (the configuration's defaults with the server's overrides), the per-member
limits (role tiers) they give a member, and where a member stands against them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.settings import Settings
from bot.store.guilds import GuildConfig
from bot.tiers import RESOLUTION_ORDER, SERVER_DEFAULT, MemberLimits, member_limits


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force for one server (0 = no limit)."""

    member_daily_images: int
    server_daily_images: int
    concurrent_jobs: int
    cooldown_seconds: float
    max_set_size: int
    allow_4k: bool
    default_resolution: str
    watermark: bool
    default_model: str
    member_monthly_images: int = 0
    monthly_budget: float = 0.0  # money per UTC month (0 = no budget)
    show_costs: bool = False  # members without Manage Server see money too
    modlog_channel: int | None = None


LIMIT_FIELDS = {
    "member_daily_images": "quota_member_daily_images",
    "server_daily_images": "quota_guild_daily_images",
    "concurrent_jobs": "quota_member_concurrent_jobs",
    "cooldown_seconds": "quota_cooldown_seconds",
    "max_set_size": "quota_max_set_size",
    "allow_4k": "quota_allow_4k",
    "default_resolution": "default_resolution",
    "watermark": "watermark",
    "default_model": "image_model",
    "member_monthly_images": "quota_member_monthly_images",
    "monthly_budget": "monthly_budget",
    "show_costs": "show_costs",
}


def effective_limits(settings: Settings, config: GuildConfig) -> Limits:
    """Global defaults with the server's overrides applied.

    Outside a server (guild 0: direct messages) there is no server to share a daily cap or a budget with: each
    member has only their own limits, so one member's DMs never use up another's.
    """
    values = {key: config.overrides.get(key, getattr(settings, attr)) for key, attr in LIMIT_FIELDS.items()}
    if not config.guild_id:
        values["server_daily_images"] = 0
        values["monthly_budget"] = 0.0
    if not settings.catalog.offers(values["default_model"]):  # IMAGE_MODELS no longer offers the server's choice
        values["default_model"] = settings.image_model
    return Limits(**values, modlog_channel=config.overrides.get("modlog_channel"))


def server_defaults(limits: Limits) -> MemberLimits:
    """The per-member limits of a member whose roles have no tier."""
    return MemberLimits(
        tier=SERVER_DEFAULT,
        roles=(),
        daily_images=limits.member_daily_images,
        monthly_images=limits.member_monthly_images,
        models=(),
        max_resolution=RESOLUTION_ORDER[-1] if limits.allow_4k else "3K",
        max_set_size=limits.max_set_size,
    )


def limits_of_member(limits: Limits, config: GuildConfig, role_ids: Iterable[int]) -> MemberLimits:
    """The member's tier: the most generous of their roles' tiers (a tier on @everyone counts for everyone)."""
    roles = {*role_ids, config.guild_id} if config.guild_id else set(role_ids)
    return member_limits(server_defaults(limits), config.tiers, roles)


def is_exempt(config: GuildConfig, role_ids: Iterable[int]) -> bool:
    """Whether one of the member's roles skips the per-member limits (daily, monthly, concurrent, cooldown)."""
    return bool(config.exempt_roles.intersection(role_ids))


def sees_costs(limits: Limits, manager: bool) -> bool:
    """Whether money is shown to this member: members with Manage Server always, others when the server says so."""
    return manager or limits.show_costs


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a member stands against today's and this month's limits, and the server against its budget."""

    limits: Limits
    member: MemberLimits
    exempt: bool
    member_used: int  # today, delivered plus in flight
    member_month_used: int
    server_used: int
    committed: float  # the server's spending this month, jobs in flight included
    price: float  # of one image of the default model
    resets_at: float
    month_resets_at: float

    @property
    def member_left(self) -> int | None:
        """Images the member may still make today (None: no limit)."""
        return _left(0 if self.exempt else self.member.daily_images, self.member_used)

    @property
    def member_month_left(self) -> int | None:
        """Images the member may still make this month (None: no limit)."""
        return _left(0 if self.exempt else self.member.monthly_images, self.member_month_used)

    @property
    def server_left(self) -> int | None:
        """Images the server may still make today (None: no limit)."""
        return _left(self.limits.server_daily_images, self.server_used)

    @property
    def budget_left(self) -> float | None:
        """Money left in this month's budget (None: no budget)."""
        budget = self.limits.monthly_budget
        return None if not budget else max(0.0, budget - self.committed)


def _left(limit: int, used: int) -> int | None:
    return None if not limit else max(0, limit - used)
