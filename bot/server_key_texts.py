"""What members and admins read about servers' own API keys (never a key, only its last four characters).

Every text is built when it is said (functions, not constants), in the language of whoever reads it."""

from __future__ import annotations

from bot.i18n import _
from bot.imagegen.probe import Probe
from bot.store.keys import StoredKey
from bot.textclean import code_span

COMMAND = "`/imagine-admin api-key`"


def saved_nothing() -> str:
    """The end of every refusal of a new key."""
    return _("Nothing was saved.")


def not_set_up_member() -> str:
    """For members: the server has no key and the bot requires one."""
    return _(
        "Image generation is not set up on this server yet: it needs the server's own image API key. "
        "Please ask a server admin to add one."
    )


def not_set_up_admin() -> str:
    """For admins: the server has no key and the bot requires one; how to add it."""
    return _(
        "Image generation is not set up on this server yet: this bot runs on each server's own Seedream API key. "
        "Create a key in your Volcengine Ark or BytePlus ModelArk console (API keys), then run {command} and paste "
        "it into the form (fill in a base URL only for a relay). The bot checks the key without making an image, "
        "stores it encrypted, and never shows it again."
    ).format(command=COMMAND)


def no_dms() -> str:
    """In direct messages, when the bot has no key of its own."""
    return _("Image generation works in servers that have set it up, not in direct messages.")


def unusable_member() -> str:
    """For members: the server's key can't be used now."""
    return _(
        "This server's image API key can't be used right now, so nothing was generated. "
        "Please ask a server admin to enter it again with {command}."
    ).format(command=COMMAND)


def storing_off() -> str:
    """For admins: the bot has no SECRET_KEY to seal keys with."""
    return _(
        "This bot can't store servers' own API keys: its owner has not set `SECRET_KEY` (the key they are "
        "encrypted with). Ask the bot's owner to set it; see the README."
    )


def bad_key() -> str:
    """For admins: what was pasted is not an API key."""
    return _(
        "That does not look like an API key: paste the whole key (16 to 256 characters, no spaces). {nothing}"
    ).format(nothing=saved_nothing())


def nothing_to_remove() -> str:
    """For admins: there was no key to remove."""
    return _("This server has no API key of its own; nothing was removed.")


def bad_base_url(why: str) -> str:
    """For admins: the base URL was refused (`why`: egress's reason)."""
    return f"{why} {saved_nothing()}"


def _problem(problem: str) -> str:
    if problem == "unreadable":
        text = _(
            "it can no longer be read: the bot's `SECRET_KEY` was changed since it was saved. "
            "Enter the key again with {command}, or remove it."
        )
    elif problem == "no_secret":
        text = _(
            "it can't be read: the bot's owner has unset `SECRET_KEY`, which it was saved with. Ask them to set it "
            "again, or remove the key with {command} (action: Remove)."
        )
    else:
        text = _(
            "its base URL is not one the bot allows any more. Enter the key again with an allowed base URL "
            "(public, https) with {command}, or remove it."
        )
    return text.format(command=COMMAND)


def unusable(hint: str, problem: str) -> str:
    """For admins: why the server's stored key can't be used, and what to do."""
    return _("This server's API key ending in {hint} can't be used: {problem}").format(
        hint=code_span(hint), problem=_problem(problem)
    )


def _reason(found: Probe, where: str, model: str) -> str:
    status, code = found.status, f" {found.code}" if found.code else ""
    verdict = found.verdict
    if verdict == "blocked":
        text = _(
            "The bot may not connect to {where}: it is not a public address. Use your provider's public https URL."
        )
    elif verdict == "unreachable":
        text = _("The bot could not reach {where} ({failure}). Check the base URL.")
    elif verdict == "key_rejected":
        text = _(
            "The image service at {where} rejected this key (HTTP {status}{code}). Check that you copied all of it, "
            "for the same platform and region as the base URL."
        )
    elif verdict == "not_the_api":
        text = _(
            "{where} did not answer like the Seedream image API (HTTP {status}). A base URL usually ends in /api/v3 "
            "or /v1."
        )
    elif verdict == "model_unavailable":
        text = _(
            "The key works, but the model {model} is not available to its account (HTTP {status}{code}). Enable the "
            "model in your console, then try again."
        )
    elif verdict == "service_failed":
        text = _(
            "The image service at {where} failed while checking the key (HTTP {status}). Try again in a few minutes."
        )
    else:
        text = _("The key could not be checked.")
    return text.format(where=where, failure=found.failure, status=status, code=code, model=code_span(model))


def probe_refusal(found: Probe, host: str, model: str) -> str:
    """For admins: why a new key was not saved."""
    return f"{_reason(found, code_span(host), model)} {saved_nothing()}"


def saved(hint: str, host: str) -> str:
    """For admins: the key is stored."""
    return _(
        "✅ Saved. This server's jobs now use its own API key ending in {hint}, at {host}. "
        "It was checked without making an image, and is stored encrypted; it will not be shown again."
    ).format(hint=code_span(hint), host=code_span(host))


def removed(hint: str, *, required: bool) -> str:
    """For admins: the key is gone."""
    if required:
        text = _(
            "✅ Removed this server's API key ending in {hint}: image generation is off here until an admin adds a key."
        )
    else:
        text = _("✅ Removed this server's API key ending in {hint}: its jobs use the bot's key.")
    return text.format(hint=code_span(hint))


def no_key(*, required: bool, storing: bool) -> str:
    """For admins: the server has no key of its own."""
    if required:
        first = _("This server has no API key of its own, so image generation is off here.")
        return f"{first}\n{not_set_up_admin()}"
    text = _("This server has no API key of its own: its jobs use the bot's key.")
    if storing:
        more = _("To use your own (your account is billed instead), run {command}.").format(command=COMMAND)
    else:
        more = _("This bot does not store servers' own keys (its owner has not set `SECRET_KEY`).")
    return f"{text} {more}"


def status(stored: StoredKey, host: str, problem: str | None) -> str:
    """For admins: the server's key as far as it may be shown."""
    text = _("This server's jobs use its own API key ending in {hint}, at {host}; set by {member} {when}.").format(
        hint=code_span(stored.hint),
        host=code_span(host),
        member=f"<@{stored.set_by}>",
        when=f"<t:{int(stored.set_at)}:R>",
    )
    if problem is not None:
        text += f"\n⚠️ {unusable(stored.hint, problem)}"
    return text
