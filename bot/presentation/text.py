"""Message texts: safe echoes of user input, progress lines and summaries."""

from __future__ import annotations

import functools
from collections import Counter

import discord
from babel import lists, units

from bot.errors import ImageApiError, UserFacingError
from bot.i18n import N_, _, babel_locale, ngettext
from bot.imagegen.catalog import size_for
from bot.jobs.model import Outcome, Progress
from bot.textclean import clean_prompt, code_span

ALT_TEXT_LIMIT = 1024
PROMPT_ECHO_LIMIT = 400
RATIO_FROM_PROMPT = N_("ratio from prompt")  # stored in English in a job's size label, shown by `size_text`


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary when possible, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def echo(prompt: str, limit: int = PROMPT_ECHO_LIMIT) -> str:
    """A prompt as it may be shown in a message: shortened, markdown and mentions neutralised."""
    text = shorten(clean_prompt(prompt), limit)
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def code(value: str, limit: int = 60) -> str:
    """A member's value (file name, option, form input) in a code span it cannot break out of."""
    return code_span(value, limit)


def link_text(value: str, limit: int = 60) -> str:
    """A member's value as the text of a masked link: echoed, and brackets that could end the link replaced."""
    return (
        echo(value, limit).replace("[", "\uff3b").replace("]", "\uff3d").replace("(", "\uff08").replace(")", "\uff09")
    )


def alt_text(prompt: str) -> str:
    """Alt text for a generated image: its prompt, cut to Discord's limit."""
    return shorten(clean_prompt(prompt), ALT_TEXT_LIMIT) or _("Generated image")


def duration(seconds: float) -> str:
    """An elapsed time to the second in the current language's narrow units (CLDR): `42s`, `3m 5s`, `3分钟5秒`."""
    return _duration(max(0, round(seconds)), babel_locale())


@functools.lru_cache(maxsize=4096)
def _duration(seconds: int, locale: str) -> str:
    """`duration`, formatted once per second and language (every status line shows one; Babel takes a while)."""
    parts = [units.format_unit(seconds % 60, "duration-second", length="narrow", locale=locale)]
    if seconds >= 60:
        parts.insert(0, units.format_unit(seconds // 60, "duration-minute", length="narrow", locale=locale))
    return str(lists.format_list(parts, style="unit-narrow", locale=locale))


def plural(count: int, noun: str) -> str:
    """`1 image`, `4 images`: English only (operators' texts); members' texts use `ngettext` at the call site."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def time_left(seconds: float) -> str:
    """`a few seconds left`, `about 40s left`, `about 3 min left`: an estimate, so never to the second."""
    if seconds < 10:
        return _("a few seconds left")
    if (rounded := round(seconds / 5) * 5) < 60:
        return _("about {seconds}s left").format(seconds=rounded)
    return _("about {minutes} min left").format(minutes=round(seconds / 60))


def progress_line(progress: Progress) -> str:
    """`⏳ 2 of 4 images… (35s · about 40s left)`; `⏳ #3 in queue… (35s)` while waiting; a pause note while the bot
    restarts. One pair of brackets per line: the estimate (when there is one) rides with the elapsed time."""
    if progress.paused:
        return "⏸️ " + _("The bot is restarting. This request will get its answer here once it is back.")
    if progress.queue_position:
        waiting = _("#{position} in queue…").format(position=progress.queue_position)
        return f"⏳ {waiting} ({duration(progress.elapsed)})"
    done, requested = progress.delivered + progress.failed, progress.requested
    if requested == 1:
        state = _("Generating your image…")
    elif done == 0:
        state = ngettext("Generating {count} image…", "Generating {count} images…", requested).format(count=requested)
    elif progress.failed:
        state = ngettext(
            "{delivered} of {count} image, {failed} failed…",
            "{delivered} of {count} images, {failed} failed…",
            requested,
        ).format(delivered=progress.delivered, count=requested, failed=progress.failed)
    else:
        state = ngettext("{delivered} of {count} image…", "{delivered} of {count} images…", requested).format(
            delivered=progress.delivered, count=requested
        )
    timing = duration(progress.elapsed)
    left = progress.left
    if left is not None:
        timing += f" · {time_left(left)}"
    return f"⏳ {state} ({timing})"


def header(prompt: str, requester: str) -> str:
    """First line of every result message."""
    return f"**{echo(prompt)}** — {requester}"


def summary(prompt: str, requester: str, size_label: str, outcome: Outcome) -> str:
    """The final text: requester, prompt, size, count, duration, and what went wrong if anything."""
    lines = [header(prompt, requester)]
    if outcome.delivered:
        images = ngettext("{count} image", "{count} images", outcome.delivered).format(count=outcome.delivered)
        lines.append(f"{size_text(size_label)} · {images} · {duration(outcome.duration)}")
        missing = outcome.requested - outcome.delivered - len(outcome.failures)
        if missing > 0 and outcome.error is None:
            returned = ngettext(
                "The model returned {count} image of the {requested} asked for.",
                "The model returned {count} images of the {requested} asked for.",
                outcome.delivered,
            ).format(count=outcome.delivered, requested=outcome.requested)
            lines.append(f"ℹ️ {returned}")
    if outcome.failures:
        lines.append(f"⚠️ {failures_text(outcome)}")
    if outcome.error is not None:
        error = error_text(outcome.error)
        stopped = "⚠️ " + _("The set stopped early: {error}").format(error=error)
        lines.append(stopped if outcome.delivered else f"❌ {error}")
    return "\n".join(lines)


def failures_text(outcome: Outcome) -> str:
    """`2 images could not be made: blocked by … (×2)`: the failed images of a set and why, for the member."""
    reasons = Counter(error.message for error in outcome.failures)
    said = " ".join(reason if n == 1 else f"{reason} (×{n})" for reason, n in reasons.items())
    count = len(outcome.failures)
    return ngettext(
        "{count} image could not be made: {reasons}", "{count} images could not be made: {reasons}", count
    ).format(count=count, reasons=said)


def error_text(error: UserFacingError) -> str:
    """The error's plain words, plus a short reference to the API's request id (never the raw body)."""
    request_id = error.request_id if isinstance(error, ImageApiError) else None
    if not request_id:
        return error.message
    return _("{message} (ref {ref})").format(message=error.message, ref=request_id[-6:])


def page_header(prompt: str, first: int, last: int, total: int) -> str:
    """Content of the second and later messages of a large set."""
    if first == last:
        span = _("image {number} of {total}").format(number=first, total=total)
    else:
        span = _("images {first}–{last} of {total}").format(first=first, last=last, total=total)
    return f"**{echo(prompt, 120)}** — {span}"


def size_label(resolution: str, aspect: str | None, model: str | None = None) -> str:
    """`2K · 16:9 (2848x1600)` or `2K · ratio from prompt`, after the model's name when one is given.

    Stored with the job in English whatever the language (a job's texts may be shown later in another one):
    show it with `size_text`."""
    label = (
        f"{resolution} · {RATIO_FROM_PROMPT}"
        if aspect is None
        else f"{resolution} · {aspect} ({size_for(resolution, aspect)})"
    )
    return f"{model} · {label}" if model else label


def size_text(label: str) -> str:
    """A stored size label (`size_label`) in the current language."""
    return label.replace(RATIO_FROM_PROMPT, _(RATIO_FROM_PROMPT))
