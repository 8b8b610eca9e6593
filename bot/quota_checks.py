"""The refusals of admission: each limit's check and its message (the limit, the member's numbers, the reset).

Members see images, not money, unless `show_money` (they have Manage Server, or the server shows costs).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from bot.errors import BadInput, UserFacingError
from bot.limits import Limits
from bot.pricing import money
from bot.store.guilds import GuildConfig
from bot.textclean import api_text, code_span
from bot.tiers import MemberLimits, model_allowed, resolution_allowed, resolutions_up_to

BUDGET_EPSILON = 1e-9  # float sums of prices: a job that fits the budget exactly is not refused


class QuotaExceeded(UserFacingError):
    """A usage limit stops the request."""

    code = "quota"


class PromptNotAllowed(BadInput):
    """The prompt contains a word the server blocked."""

    code = "blocked_word"


def check_cooldown(limits: Limits, last: float | None, now: float) -> None:
    if limits.cooldown_seconds <= 0 or last is None or now - last >= limits.cooldown_seconds:
        return
    ready = last + limits.cooldown_seconds
    raise QuotaExceeded(
        f"Cooldown: this server asks for {_num(limits.cooldown_seconds)}s between requests. "
        f"Your last request was {_num(now - last)}s ago; try again <t:{int(ready + 0.999)}:R>.",
        code="quota_cooldown",
    )


def check_waiting(waiting: int, limit: int) -> None:
    if waiting >= limit:
        raise QuotaExceeded(
            f"You already have {waiting} requests waiting in line (at most {limit}). "
            "Try again when one of them has started.",
            code="quota_waiting",
        )


def _num(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def check_channel(config: GuildConfig, channel_id: int | None) -> None:
    if config.channels and channel_id not in config.channels:
        where = ", ".join(f"<#{c}>" for c in sorted(config.channels))
        raise QuotaExceeded(f"Image generation is not enabled in this channel. Try {where}.", code="quota_channel")


def blocked_word(words: tuple[str, ...], prompt: str) -> str | None:
    """The first blocked word or phrase in the prompt as the API receives it, as a whole word (case-insensitive).

    Both sides go through `api_text` (NFKC, invisible characters removed, whitespace collapsed), so a
    zero-width joiner, a soft hyphen, a full-width letter or a double space cannot hide a blocked word.
    """
    text = api_text(prompt).casefold()
    for word in words:
        needle = api_text(word).casefold()
        if needle and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", text):
            return word
    return None


def check_words(config: GuildConfig, prompt: str) -> None:
    if blocked_word(config.blocked_words, prompt) is not None:
        raise PromptNotAllowed(
            "Your prompt contains a word this server has blocked, so nothing was generated. Please rephrase it."
        )


def check_model(member: MemberLimits, model: str) -> None:
    if not model_allowed(member, model):
        allowed = ", ".join(code_span(m) for m in member.models)
        raise QuotaExceeded(
            f"Your tier (**{member.tier}**) cannot use {code_span(model)}. It may use {allowed}.", code="quota_model"
        )


def check_shape(member: MemberLimits, count: int, resolution: str) -> None:
    """The highest resolution and the largest set of the member's tier (else the server's)."""
    if not resolution_allowed(member, resolution):
        where = f"for your tier (**{member.tier}**)" if member.tiered else "on this server"
        choices = resolutions_up_to(member.max_resolution)
        allowed = " or ".join([", ".join(choices[:-1]), choices[-1]] if len(choices) > 1 else choices)
        raise QuotaExceeded(f"{resolution} is not allowed {where}. Choose {allowed}.", code="quota_4k")
    if count > member.max_set_size:
        who = f"your tier (**{member.tier}**)" if member.tiered else "this server"
        raise QuotaExceeded(
            f"Set size limit: {who} allows at most {member.max_set_size} images per request; you asked for {count}.",
            code="quota_set_size",
        )


def check_member_daily(member: MemberLimits, used: int, count: int, reset: float) -> None:
    limit = member.daily_images
    if limit and used + count > limit:
        raise QuotaExceeded(
            f"Daily limit per member{_tier(member)}: you have used {used} of your {limit} images today "
            f"({max(0, limit - used)} left) and asked for {count}. It resets at 00:00 UTC (<t:{int(reset)}:R>).",
            code="quota_member_daily",
        )


def check_member_monthly(member: MemberLimits, used: int, count: int, reset: float) -> None:
    limit = member.monthly_images
    if limit and used + count > limit:
        raise QuotaExceeded(
            f"Monthly limit per member{_tier(member)}: you have used {used} of your {limit} images this month "
            f"({max(0, limit - used)} left) and asked for {count}. It resets on {month_reset(reset)}.",
            code="quota_member_monthly",
        )


def check_server_daily(limits: Limits, used: int, count: int, reset: float) -> None:
    limit = limits.server_daily_images
    if limit and used + count > limit:
        raise QuotaExceeded(
            f"Daily limit for this server: {used} of its {limit} images are used today "
            f"({max(0, limit - used)} left) and you asked for {count}. It resets at 00:00 UTC (<t:{int(reset)}:R>).",
            code="quota_server_daily",
        )


def check_budget(limits: Limits, committed: float, count: int, price: float, reset: float, *, show: bool) -> None:
    """`committed`: this month's spending plus the cost reserved by unfinished jobs; the request: `count` images
    at `price` each."""
    cost = count * price
    budget = limits.monthly_budget
    if not budget or committed + cost <= budget + BUDGET_EPSILON:
        return
    if show:
        told = (
            f"this server has used {money(committed)} of its {money(budget)} for this month (jobs in progress "
            f"included) and this request would cost {money(cost)}"
        )
    else:
        room = images_within(budget - committed, price)
        told = "this server's image budget for this month is used up"
        if room:
            told = f"this server's image budget for this month has room for {room} more image(s); you asked for {count}"
    raise QuotaExceeded(f"Monthly budget: {told}. It resets on {month_reset(reset)}.", code="quota_budget")


def images_within(money_left: float, price: float) -> int:
    """How many images `money_left` pays for at `price` each."""
    if price <= 0:
        return 0
    return max(0, math.floor(money_left / price + BUDGET_EPSILON))


def month_reset(reset: float) -> str:
    """`1 July at 00:00 UTC (<t:…:R>)`."""
    when = datetime.fromtimestamp(reset, UTC)
    return f"{when.day} {when:%B} at 00:00 UTC (<t:{int(reset)}:R>)"


def _tier(member: MemberLimits) -> str:
    return f" (your tier: **{member.tier}**)" if member.tiered else ""
