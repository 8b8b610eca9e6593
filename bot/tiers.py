"""Role tiers: the per-member limits a member's roles give them, the ready-made presets, and how tiers combine.

A member holding roles with tiers gets, for each limit separately, the most generous value among those tiers:
no limit beats any number and a larger number beats a smaller one (daily images, monthly images, largest set),
the highest resolution wins, and the allowed models are the union of the tiers' lists (an empty list, every
model, beats any list). A tier's limit that is not set stands for the server's default for it. A member whose
roles have no tier has the server's defaults. A tier on @everyone (its role id is the server's id) applies to
every member.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bot.i18n import N_
from bot.imagegen.catalog import RESOLUTIONS
from bot.store.guilds import RoleTier

_T = TypeVar("_T")
RESOLUTION_ORDER = RESOLUTIONS  # smallest first
# Tier names are stored and compared in English; tier_text.tier_name translates them for display.
SERVER_DEFAULT = N_("server default")
CUSTOM = N_("Custom")

PRESETS: dict[str, RoleTier] = {
    "free": RoleTier(N_("Free"), daily_images=5, monthly_images=50, models=(), max_resolution="2K", max_set_size=4),
    "standard": RoleTier(
        N_("Standard"), daily_images=30, monthly_images=600, models=(), max_resolution="4K", max_set_size=15
    ),
    "unlimited": RoleTier(
        N_("Unlimited"), daily_images=0, monthly_images=0, models=(), max_resolution="4K", max_set_size=15
    ),
}


@dataclass(frozen=True, slots=True)
class MemberLimits:
    """The per-member limits in force for one member (images: 0 = no limit; models: () = every model)."""

    tier: str  # the tier's name (names joined when several roles' tiers combine), or SERVER_DEFAULT
    roles: tuple[int, ...]  # the roles whose tiers apply (empty: the server's defaults)
    daily_images: int
    monthly_images: int
    models: tuple[str, ...]
    max_resolution: str
    max_set_size: int

    @property
    def tiered(self) -> bool:
        """Whether a role's tier (not the server's defaults) sets these limits."""
        return bool(self.roles)


def member_limits(default: MemberLimits, tiers: Mapping[int, RoleTier], role_ids: Iterable[int]) -> MemberLimits:
    """The most generous of the tiers of `role_ids`, each tier's unset limits taken from `default`."""
    held = sorted({role for role in role_ids if role in tiers})
    if not held:
        return default
    combined = functools.reduce(_most_generous, (_apply(default, tiers[role], role) for role in held))
    names = list(dict.fromkeys(tiers[role].name for role in held))
    return dataclasses.replace(combined, tier=" + ".join(names))


def model_allowed(limits: MemberLimits, model: str) -> bool:
    """Whether the member may use `model` (the one place a job's model is checked against a tier)."""
    return not limits.models or model in limits.models


def resolution_allowed(limits: MemberLimits, resolution: str) -> bool:
    """Whether `resolution` is at most the member's highest resolution."""
    return _rank(resolution) <= _rank(limits.max_resolution)


def capped_resolution(limits: MemberLimits, resolution: str) -> str:
    """`resolution`, lowered to the member's highest one when it is above it."""
    return resolution if resolution_allowed(limits, resolution) else limits.max_resolution


def resolutions_up_to(resolution: str) -> list[str]:
    """The resolutions a member whose highest is `resolution` may choose."""
    return list(RESOLUTION_ORDER[: _rank(resolution) + 1])


def _rank(resolution: str) -> int:
    return RESOLUTION_ORDER.index(resolution) if resolution in RESOLUTION_ORDER else len(RESOLUTION_ORDER)


def _pick(value: _T | None, fallback: _T) -> _T:
    return fallback if value is None else value


def _apply(default: MemberLimits, tier: RoleTier, role: int) -> MemberLimits:
    return MemberLimits(
        tier=tier.name,
        roles=(role,),
        daily_images=_pick(tier.daily_images, default.daily_images),
        monthly_images=_pick(tier.monthly_images, default.monthly_images),
        models=_pick(tier.models, default.models),
        max_resolution=_pick(tier.max_resolution, default.max_resolution),
        max_set_size=_pick(tier.max_set_size, default.max_set_size),
    )


def _most_generous(a: MemberLimits, b: MemberLimits) -> MemberLimits:
    return MemberLimits(
        tier=a.tier,
        roles=a.roles + b.roles,
        daily_images=_more_images(a.daily_images, b.daily_images),
        monthly_images=_more_images(a.monthly_images, b.monthly_images),
        models=() if not a.models or not b.models else tuple(dict.fromkeys(a.models + b.models)),
        max_resolution=max(a.max_resolution, b.max_resolution, key=_rank),
        max_set_size=max(a.max_set_size, b.max_set_size),
    )


def _more_images(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else max(a, b)
