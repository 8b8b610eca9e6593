"""Start-up failures as one line: what went wrong and what to do, and the exit code (2 configuration, 1 other)."""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import threading
from urllib.parse import urlsplit

import aiohttp
import discord
import sqlalchemy.exc
from pydantic_settings import SettingsError

from bot.settings import Settings, mask_database_url

EXIT_CONFIG = 2
EXIT_FAILED = 1
EXIT_DEADLINE = 5.0  # seconds a failed start may take to wind down before the process ends regardless


JSON_EXAMPLES = {
    "IMAGE_MODELS": 'a JSON list, for example ["doubao-seedream-4-0-250828", "doubao-seedream-4-5-251128"]',
    "MODEL_PRICES": 'a JSON object, for example {"doubao-seedream-4-5-251128": 0.04}',
}


def describe_settings_error(error: SettingsError) -> str:
    """One line for a setting pydantic-settings could not even parse (malformed JSON)."""
    found = re.search(r'field "(\w+)"', str(error))
    name = found[1].upper() if found else "a setting"
    example = JSON_EXAMPLES.get(name, 'a JSON list, for example ["cdn.discordapp.com", "media.example.com"]')
    return f"{name}: is not valid JSON; write {example}"


def explain(error: BaseException, settings: Settings) -> tuple[int, str] | None:
    """(exit code, one line) for a failure at start whose cause is known; None for anything else."""
    for cause in _chain(error):
        found = _discord(cause, settings) or _database(cause, settings)
        if found is not None:
            return found
    return None


def _discord(error: BaseException, settings: Settings) -> tuple[int, str] | None:
    host = urlsplit(settings.discord_api_base_url).netloc
    if isinstance(error, discord.LoginFailure):
        return EXIT_CONFIG, (
            "Discord rejected DISCORD_TOKEN (401): copy the bot's token again from the Developer Portal "
            "(Bot → Reset Token) into DISCORD_TOKEN."
        )
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return EXIT_CONFIG, (
            "Discord refused a privileged intent: enable Message Content in the Developer Portal (Bot → "
            "Privileged Gateway Intents) or turn the setting that needs it off."
        )
    if isinstance(error, aiohttp.ClientConnectionError | aiohttp.ServerTimeoutError):
        return EXIT_FAILED, (
            f"Cannot reach Discord at {host} (network: {_reason(error)}): check the internet connection, "
            "DNS and any proxy or firewall, and DISCORD_API_BASE_URL if you set it."
        )
    return None


def _database(error: BaseException, settings: Settings) -> tuple[int, str] | None:
    where = mask_database_url(settings.database_url)
    text = str(error).lower()
    if (isinstance(error, OSError) and error.errno == errno.ENOSPC) or "disk is full" in text:
        return EXIT_FAILED, f"The disk holding the database ({where}) is full: free some space and start again."
    if "file is not a database" in text or "database disk image is malformed" in text:
        return EXIT_FAILED, (
            f"The database ({where}) is damaged or not a SQLite file: restore it from a backup, or move it "
            "away to start with an empty one."
        )
    unwritable = ("unable to open database", "readonly database", "read-only file system", "permission denied")
    if isinstance(error, PermissionError | NotADirectoryError | FileExistsError) or any(u in text for u in unwritable):
        return EXIT_FAILED, (
            f"Cannot create or write the database ({where}): {_reason(error)}. Make its folder writable by this "
            "user, or point DATABASE_URL somewhere writable."
        )
    if isinstance(error, sqlalchemy.exc.OperationalError | sqlite3.OperationalError):
        return EXIT_FAILED, f"The database ({where}) cannot be used: {_reason(error)}. Check DATABASE_URL."
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """The error, what it wraps (SQLAlchemy's `orig`) and its causes, outermost first."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        item = pending.pop(0)
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        pending += [getattr(item, "orig", None), item.__cause__, item.__context__]
    return seen


def _reason(error: BaseException) -> str:
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.orig is not None:
        return str(error.orig).splitlines()[0]
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return (str(error).splitlines() or [type(error).__name__])[0] or type(error).__name__


def exit_soon(code: int) -> None:
    """Make sure a failed start ends: a thread left open (a database connection) cannot keep the process alive."""
    timer = threading.Timer(EXIT_DEADLINE, os._exit, args=(code,))
    timer.daemon = True
    timer.start()
