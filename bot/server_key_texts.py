"""What members and admins read about servers' own API keys (never a key, only its last four characters)."""

from __future__ import annotations

from bot.imagegen.probe import Probe
from bot.store.keys import StoredKey
from bot.textclean import code_span

COMMAND = "`/imagine-admin api-key`"
SAVED_NOTHING = "Nothing was saved."

NOT_SET_UP_MEMBER = (
    "Image generation is not set up on this server yet: it needs the server's own image API key. "
    "Please ask a server admin to add one."
)
NOT_SET_UP_ADMIN = (
    "Image generation is not set up on this server yet: this bot runs on each server's own Seedream API key. "
    "Create a key in your Volcengine Ark or BytePlus ModelArk console (API keys), then run "
    f"{COMMAND} and paste it into the form (fill in a base URL only for a relay). The bot checks the key without "
    "making an image, stores it encrypted, and never shows it again."
)
NO_DMS = "Image generation works in servers that have set it up, not in direct messages."
UNUSABLE_MEMBER = (
    "This server's image API key can't be used right now, so nothing was generated. "
    f"Please ask a server admin to enter it again with {COMMAND}."
)
STORING_OFF = (
    "This bot can't store servers' own API keys: its owner has not set `SECRET_KEY` (the key they are encrypted "
    "with). Ask the bot's owner to set it; see the README."
)
BAD_KEY = f"That does not look like an API key: paste the whole key (16 to 256 characters, no spaces). {SAVED_NOTHING}"
NOTHING_TO_REMOVE = "This server has no API key of its own; nothing was removed."

_PROBLEMS = {
    "unreadable": "it can no longer be read: the bot's `SECRET_KEY` was changed since it was saved. "
    f"Enter the key again with {COMMAND}, or remove it.",
    "no_secret": "it can't be read: the bot's owner has unset `SECRET_KEY`, which it was saved with. Ask them "
    f"to set it again, or remove the key with {COMMAND} (action: Remove).",
    "url": "its base URL is not one the bot allows any more. Enter the key again with an allowed base URL "
    f"(public, https) with {COMMAND}, or remove it.",
}


def unusable(hint: str, problem: str) -> str:
    """For admins: why the server's stored key can't be used, and what to do."""
    return f"This server's API key ending in {code_span(hint)} can't be used: {_PROBLEMS[problem]}"


def probe_refusal(found: Probe, host: str, model: str) -> str:
    """For admins: why a new key was not saved."""
    where, status = code_span(host), found.status
    code = f" {found.code}" if found.code else ""
    reasons = {
        "blocked": f"The bot may not connect to {where}: it is not a public address. Use your provider's public "
        "https URL.",
        "unreachable": f"The bot could not reach {where} ({found.failure}). Check the base URL.",
        "key_rejected": f"The image service at {where} rejected this key (HTTP {status}{code}). Check that you "
        "copied all of it, for the same platform and region as the base URL.",
        "not_the_api": f"{where} did not answer like the Seedream image API (HTTP {status}). A base URL usually "
        "ends in /api/v3 or /v1.",
        "model_unavailable": f"The key works, but the model {code_span(model)} is not available to its account "
        f"(HTTP {status}{code}). Enable the model in your console, then try again.",
        "service_failed": f"The image service at {where} failed while checking the key (HTTP {status}). Try again "
        "in a few minutes.",
    }
    return f"{reasons.get(found.verdict, 'The key could not be checked.')} {SAVED_NOTHING}"


def saved(hint: str, host: str) -> str:
    """For admins: the key is stored."""
    return (
        f"✅ Saved. This server's jobs now use its own API key ending in {code_span(hint)}, at {code_span(host)}. "
        "It was checked without making an image, and is stored encrypted; it will not be shown again."
    )


def removed(hint: str, *, required: bool) -> str:
    """For admins: the key is gone."""
    after = "image generation is off here until an admin adds a key" if required else "its jobs use the bot's key"
    return f"✅ Removed this server's API key ending in {code_span(hint)}: {after}."


def no_key(*, required: bool, storing: bool) -> str:
    """For admins: the server has no key of its own."""
    if required:
        return "This server has no API key of its own, so image generation is off here.\n" + NOT_SET_UP_ADMIN
    text = "This server has no API key of its own: its jobs use the bot's key."
    if storing:
        return text + f" To use your own (your account is billed instead), run {COMMAND}."
    return text + " This bot does not store servers' own keys (its owner has not set `SECRET_KEY`)."


def status(stored: StoredKey, host: str, problem: str | None) -> str:
    """For admins: the server's key as far as it may be shown."""
    text = (
        f"This server's jobs use its own API key ending in {code_span(stored.hint)}, at {code_span(host)}; "
        f"set by <@{stored.set_by}> <t:{int(stored.set_at)}:R>."
    )
    if problem is not None:
        text += f"\n⚠️ {unusable(stored.hint, problem)}"
    return text
