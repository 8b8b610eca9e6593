"""The refusals of admission: each limit's check and its message (the limit, the member's numbers, the reset).

Members see images, not money, unless `show_money` (they have Manage Server, or the server shows costs).
Messages are written when raised, in the current language (the member's, or the job's on a recheck).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from bot.errors import BadInput, UserFacingError
from bot.i18n import _, date_pattern, either, money, ngettext, number
from bot.limits import Limits
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
        _(
            "Cooldown: this server asks for {seconds}s between requests. "
            "Your last request was {ago}s ago; try again {when}."
        ).format(seconds=_num(limits.cooldown_seconds), ago=_num(now - last), when=f"<t:{int(ready + 0.999)}:R>"),
        code="quota_cooldown",
    )


def check_waiting(waiting: int, limit: int) -> None:
    if waiting >= limit:
        raise QuotaExceeded(
            ngettext(
                "You already have {count} request waiting in line (at most {limit}). Try again when it has started.",
                "You already have {count} requests waiting in line (at most {limit}). "
                "Try again when one of them has started.",
                waiting,
            ).format(count=number(waiting), limit=number(limit)),
            code="quota_waiting",
        )


def _num(value: float) -> str:
    return number(value, digits=0 if value >= 10 or value == int(value) else 1)


def check_channel(config: GuildConfig, channel_id: int | None) -> None:
    if config.channels and channel_id not in config.channels:
        where = either([f"<#{c}>" for c in sorted(config.channels)])
        raise QuotaExceeded(
            _("Image generation is not enabled in this channel. Try {channels}.").format(channels=where),
            code="quota_channel",
        )


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
            _("Your prompt contains a word this server has blocked, so nothing was generated. Please rephrase it.")
        )


def check_model(member: MemberLimits, model: str) -> None:
    if not model_allowed(member, model):
        allowed = either([code_span(m) for m in member.models])
        raise QuotaExceeded(
            _("Your tier (**{tier}**) cannot use {model}. It may use {allowed}.").format(
                tier=member.tier, model=code_span(model), allowed=allowed
            ),
            code="quota_model",
        )


def check_shape(member: MemberLimits, count: int, resolution: str) -> None:
    """The highest resolution and the largest set of the member's tier (else the server's)."""
    if not resolution_allowed(member, resolution):
        allowed = either(resolutions_up_to(member.max_resolution))
        if member.tiered:
            told = _("{resolution} is not allowed for your tier (**{tier}**). Choose {allowed}.")
        else:
            told = _("{resolution} is not allowed on this server. Choose {allowed}.")
        raise QuotaExceeded(told.format(resolution=resolution, tier=member.tier, allowed=allowed), code="quota_4k")
    if count > member.max_set_size:
        most = member.max_set_size
        if member.tiered:
            told = ngettext(
                "Set size limit: your tier (**{tier}**) allows at most {most} image per request; "
                "you asked for {count}.",
                "Set size limit: your tier (**{tier}**) allows at most {most} images per request; "
                "you asked for {count}.",
                most,
            )
        else:
            told = ngettext(
                "Set size limit: this server allows at most {most} image per request; you asked for {count}.",
                "Set size limit: this server allows at most {most} images per request; you asked for {count}.",
                most,
            )
        raise QuotaExceeded(
            told.format(tier=member.tier, most=number(most), count=number(count)), code="quota_set_size"
        )


def check_member_daily(member: MemberLimits, used: int, count: int, reset: float) -> None:
    limit = member.daily_images
    if limit and used + count > limit:
        if member.tiered:
            told = ngettext(
                "Daily limit per member (your tier: **{tier}**): you have used {used} of your {limit} image today "
                "({left} left) and asked for {count}. It resets at 00:00 UTC ({when}).",
                "Daily limit per member (your tier: **{tier}**): you have used {used} of your {limit} images today "
                "({left} left) and asked for {count}. It resets at 00:00 UTC ({when}).",
                limit,
            )
        else:
            told = ngettext(
                "Daily limit per member: you have used {used} of your {limit} image today ({left} left) and asked "
                "for {count}. It resets at 00:00 UTC ({when}).",
                "Daily limit per member: you have used {used} of your {limit} images today ({left} left) and asked "
                "for {count}. It resets at 00:00 UTC ({when}).",
                limit,
            )
        raise QuotaExceeded(
            told.format(tier=member.tier, when=f"<t:{int(reset)}:R>", **_numbers(used, limit, count)),
            code="quota_member_daily",
        )


def check_member_monthly(member: MemberLimits, used: int, count: int, reset: float) -> None:
    limit = member.monthly_images
    if limit and used + count > limit:
        if member.tiered:
            told = ngettext(
                "Monthly limit per member (your tier: **{tier}**): you have used {used} of your {limit} image this "
                "month ({left} left) and asked for {count}. It resets on {when}.",
                "Monthly limit per member (your tier: **{tier}**): you have used {used} of your {limit} images this "
                "month ({left} left) and asked for {count}. It resets on {when}.",
                limit,
            )
        else:
            told = ngettext(
                "Monthly limit per member: you have used {used} of your {limit} image this month ({left} left) and "
                "asked for {count}. It resets on {when}.",
                "Monthly limit per member: you have used {used} of your {limit} images this month ({left} left) and "
                "asked for {count}. It resets on {when}.",
                limit,
            )
        raise QuotaExceeded(
            told.format(tier=member.tier, when=month_reset(reset), **_numbers(used, limit, count)),
            code="quota_member_monthly",
        )


def check_server_daily(limits: Limits, used: int, count: int, reset: float) -> None:
    limit = limits.server_daily_images
    if limit and used + count > limit:
        told = ngettext(
            "Daily limit for this server: {used} of its {limit} image are used today ({left} left) and you asked "
            "for {count}. It resets at 00:00 UTC ({when}).",
            "Daily limit for this server: {used} of its {limit} images are used today ({left} left) and you asked "
            "for {count}. It resets at 00:00 UTC ({when}).",
            limit,
        )
        raise QuotaExceeded(
            told.format(when=f"<t:{int(reset)}:R>", **_numbers(used, limit, count)), code="quota_server_daily"
        )


def _numbers(used: int, limit: int, count: int) -> dict[str, str]:
    return {"used": number(used), "limit": number(limit), "left": number(max(0, limit - used)), "count": number(count)}


def check_budget(limits: Limits, committed: float, count: int, price: float, reset: float, *, show: bool) -> None:
    """`committed`: this month's spending plus the cost reserved by unfinished jobs; the request: `count` images
    at `price` each."""
    cost = count * price
    budget = limits.monthly_budget
    if not budget or committed + cost <= budget + BUDGET_EPSILON:
        return
    when = month_reset(reset)
    room = images_within(budget - committed, price)
    if show:
        told = _(
            "Monthly budget: this server has used {used} of its {budget} for this month (jobs in progress included) "
            "and this request would cost {cost}. It resets on {when}."
        ).format(used=money(committed), budget=money(budget), cost=money(cost), when=when)
    elif room:
        told = ngettext(
            "Monthly budget: this server's image budget for this month has room for {room} more image; you asked "
            "for {count}. It resets on {when}.",
            "Monthly budget: this server's image budget for this month has room for {room} more images; you asked "
            "for {count}. It resets on {when}.",
            room,
        ).format(room=number(room), count=number(count), when=when)
    else:
        told = _("Monthly budget: this server's image budget for this month is used up. It resets on {when}.").format(
            when=when
        )
    raise QuotaExceeded(told, code="quota_budget")


def images_within(money_left: float, price: float) -> int:
    """How many images `money_left` pays for at `price` each."""
    if price <= 0:
        return 0
    return max(0, math.floor(money_left / price + BUDGET_EPSILON))


def month_reset(reset: float) -> str:
    """`July 1 at 00:00 UTC (<t:…:R>)` / `7月1日 …` in the current language."""
    day = date_pattern(datetime.fromtimestamp(reset, UTC), "MMMMd")
    return _("{date} at 00:00 UTC ({when})").format(date=day, when=f"<t:{int(reset)}:R>")
