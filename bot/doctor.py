"""`python -m bot check`: configuration, Discord login and permissions, image API key and model, as a checklist.

Exit code: 0 all good; 2 the configuration is invalid; otherwise the sum of 4 (Discord failed) and 8 (image API
failed). Secret values are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic import ValidationError
from pydantic_settings import SettingsError

from bot.imagegen.catalog import Model
from bot.imagegen.client import DownloadTooLarge, read_capped
from bot.imagegen.probe import Probe, json_body, probe
from bot.settings import (
    Settings,
    describe_validation_error,
    mask_database_url,
    mask_url,
    url_secrets,
)
from bot.startup import describe_settings_error

EXIT_CONFIG = 2
EXIT_DISCORD = 4
EXIT_IMAGE_API = 8

# Permissions the README's invite asks for, by bit.
REQUIRED_PERMISSIONS = {
    10: "View Channels",
    11: "Send Messages",
    38: "Send Messages in Threads",
    35: "Create Public Threads",
    14: "Embed Links",
    15: "Attach Files",
    16: "Read Message History",
}
ADMINISTRATOR = 1 << 3
FLAG_MESSAGE_CONTENT = 1 << 18
FLAG_MESSAGE_CONTENT_LIMITED = 1 << 19
_TIMEOUT = aiohttp.ClientTimeout(total=30)


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the checklist: ok True (green), False (red) or None (skipped/informational)."""

    area: str
    name: str
    ok: bool | None
    detail: str


class Report:
    """Collects checks and prints them as they come."""

    def __init__(self, secrets: list[str], color: bool) -> None:
        self.checks: list[Check] = []
        self._secrets = [s for s in secrets if len(s) >= 4]
        self._color = color

    def add(self, area: str, name: str, ok: bool | None, detail: str = "") -> None:
        """Record and print one check."""
        check = Check(area, name, ok, self._mask(detail))
        self.checks.append(check)
        mark, color = {True: ("✓", "32"), False: ("✗", "31"), None: ("–", "33")}[ok]
        if self._color:
            mark = f"\033[{color}m{mark}\033[0m"
        print(f"{mark} {name}" + (f": {check.detail}" if check.detail else ""), flush=True)

    def failed(self, area: str) -> bool:
        """Whether any check of `area` failed."""
        return any(c.ok is False for c in self.checks if c.area == area)

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


async def check_discord(settings: Settings, http: aiohttp.ClientSession, report: Report) -> None:
    """Log in with the token, then report the bot's name, intents and permissions in each server."""
    base = settings.discord_api_base_url
    if url_secrets(base):
        detail = "DISCORD_API_BASE_URL carries a user:password@ part; remove it (the bot logs in with DISCORD_TOKEN)"
        report.add("discord", "Discord login", False, detail)
        return
    headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
    status, me = await _get_json(http, f"{base}/users/@me", headers)
    if status != 200 or not isinstance(me, dict):
        report.add("discord", "Discord login", False, _login_failure(status, me, base))
        return
    report.add("discord", "Discord login", True, f"logged in as {me.get('username')} (id {me.get('id')})")
    status, app = await _get_json(http, f"{base}/oauth2/applications/@me", headers)
    if status == 200 and isinstance(app, dict):
        report.add("discord", "Intents", True, _intents(int(app.get("flags") or 0)))
    else:
        report.add("discord", "Intents", False, f"could not read the application ({_failure(status, app)})")
    status, gateway = await _get_json(http, f"{base}/gateway/bot", headers)
    if status == 200 and isinstance(gateway, dict):
        left = (gateway.get("session_start_limit") or {}).get("remaining", "?")
        report.add("discord", "Gateway", True, f"reachable; {left} session starts left today")
    else:
        report.add("discord", "Gateway", False, _failure(status, gateway))
    await _check_guilds(http, base, headers, report)


async def _check_guilds(http: aiohttp.ClientSession, base: str, headers: dict[str, str], report: Report) -> None:
    status, guilds = await _get_json(http, f"{base}/users/@me/guilds", headers)
    if status != 200 or not isinstance(guilds, list):
        report.add("discord", "Servers", False, f"could not list servers ({_failure(status, guilds)})")
        return
    if not guilds:
        report.add("discord", "Servers", None, "the bot is in no server yet; invite it (see the README)")
        return
    for guild in guilds:
        permissions = int(guild.get("permissions") or 0)
        missing = [] if permissions & ADMINISTRATOR else _missing(permissions)
        name = f"Permissions in {guild.get('name')} ({guild.get('id')})"
        report.add("discord", name, not missing, "missing " + ", ".join(missing) if missing else "all present")


def _login_failure(status: int, body: Any, base: str) -> str:
    """Why the login failed, naming what to fix: the token only when Discord rejected it."""
    if status == 401:
        return "Discord rejected the token (401); copy it again into DISCORD_TOKEN (Developer Portal → Bot)"
    if status == 0:
        return (
            f"network failure: cannot reach {mask_url(base)} ({body}); check the connection, DNS, proxy or "
            "firewall (and DISCORD_API_BASE_URL if you set it); the token was not tried"
        )
    return f"Discord answered HTTP {status}; try again later (the token was not judged)"


def _missing(permissions: int) -> list[str]:
    return [label for bit, label in REQUIRED_PERMISSIONS.items() if not permissions & (1 << bit)]


def _intents(flags: int) -> str:
    if flags & FLAG_MESSAGE_CONTENT:
        content = "Message Content intent approved"
    elif flags & FLAG_MESSAGE_CONTENT_LIMITED:
        content = "Message Content intent enabled (reviewed by Discord once the app reaches 10,000 users)"
    else:
        content = "Message Content intent off"
    return f"no privileged intent needed for /imagine; {content}"


async def check_image_api(settings: Settings, http: aiohttp.ClientSession, report: Report, *, generate: bool) -> None:
    """Probe the API: a request with a deliberately invalid size checks key and model without making an image;
    every model of IMAGE_MODELS is probed so."""
    report_server_keys(settings, report)
    if url_secrets(settings.image_api_base_url):
        detail = "IMAGE_API_BASE_URL carries a user:password@ part; remove it (the key goes in IMAGE_API_KEY)"
        report.add("api", "Image API reachable", False, detail)
        return
    key = settings.operator_key
    if key is None:
        detail = "not set; REQUIRE_SERVER_KEY=true: each server enters its own (direct messages cannot generate)"
        report.add("api", "Image API key", None, detail)
        return
    base, catalog = settings.image_api_base_url, settings.catalog
    for number, model in enumerate(catalog.offered):
        found = await probe(http, base, key, model.id)
        verdict, status, code = found.verdict, found.status, found.code or ""
        if verdict in ("unreachable", "blocked"):
            detail = f"network failure: cannot reach {mask_url(base)} ({found.failure}); check IMAGE_API_BASE_URL"
            report.add("api", "Image API reachable", False, detail + " and the connection; the key was not tried")
            return
        if verdict == "key_rejected":
            report.add("api", "Image API key", False, f"rejected (HTTP {status} {code}); check IMAGE_API_KEY")
            return
        if verdict == "not_the_api":
            detail = f"{mask_url(base)} did not answer like the image API (HTTP {status}); check IMAGE_API_BASE_URL"
            report.add("api", "Image API reachable", False, detail + " (it usually ends in /api/v3 or /v1)")
            return
        if number == 0:
            report.add("api", "Image API key", True, f"accepted by {mask_url(base)}")
        _report_model(report, model, found, default=model.id == catalog.default.id)
    headers = {"Authorization": f"Bearer {key}"}
    if generate:
        await _probe_stream(settings, http, f"{base}/images/generations", headers, report)
    else:
        report.add("api", "Streaming", None, "not checked; add --generate-test-image to spend one image on it")


def _report_model(report: Report, model: Model, found: Probe, *, default: bool) -> None:
    name, answer = f"Model {model.id}", f"HTTP {found.status} {found.code or ''}"
    if found.verdict == "model_unavailable":
        report.add("api", name, False, f"not available ({answer})")
    elif found.verdict == "service_failed":
        report.add("api", name, False, f"the service failed ({answer})")
    elif not model.known:
        report.add("api", name, True, "available; not a model this bot knows, so it gets Seedream 4.0's rules")
    else:
        sizes = "/".join(model.resolutions)
        role = ", the default" if default else ""
        detail = (
            f"available ({model.name}{role}: {sizes}, {model.max_references} references, {model.price:g} per image)"
        )
        report.add("api", name, True, detail)


def report_server_keys(settings: Settings, report: Report) -> None:
    """Whether servers may store their own API keys (SECRET_KEY) and whether they must (REQUIRE_SERVER_KEY)."""
    if settings.secret_key is None:
        report.add("config", "Servers' own API keys", None, "off: SECRET_KEY is not set, so none can be stored")
    elif settings.require_server_key:
        detail = "required (REQUIRE_SERVER_KEY): servers without their own key cannot generate"
        report.add("config", "Servers' own API keys", True, detail)
    else:
        report.add("config", "Servers' own API keys", True, "allowed (/imagine-admin api-key), stored encrypted")


async def _probe_stream(
    settings: Settings, http: aiohttp.ClientSession, url: str, headers: dict[str, str], report: Report
) -> None:
    model = settings.catalog.default
    size = model.nearest("1K")  # the smallest it makes
    body: dict[str, object] = {"model": model.id, "prompt": "a small blue circle on white", "size": size}
    body.update(response_format="url", stream=True, watermark=False, sequential_image_generation="disabled")
    started = time.monotonic()
    try:
        async with http.post(url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=300)) as resp:
            streamed = resp.content_type == "text/event-stream"
            status = resp.status
            text = (await read_capped(resp, 64 * 1024 * 1024)).decode("utf-8", "replace")
    except (aiohttp.ClientError, TimeoutError, DownloadTooLarge) as exc:
        report.add("api", "Test image", False, type(exc).__name__)
        return
    took = time.monotonic() - started
    made = status == 200 and ('"url"' in text or '"b64_json"' in text)
    report.add("api", "Test image", made, f"HTTP {status} in {took:.1f}s" if made else f"HTTP {status}, no image")
    detail = "the API streams images as they are made" if streamed else "answers plain JSON (relay ignores stream)"
    report.add("api", "Streaming", True if streamed else None, detail)


async def _get_json(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> tuple[int, Any]:
    try:
        async with http.get(url, headers=headers, timeout=_TIMEOUT) as resp:
            return resp.status, await json_body(resp)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return 0, type(exc).__name__


def _failure(status: int, body: Any) -> str:
    if status == 0:
        return f"unreachable ({body})"
    return f"HTTP {status}"


async def run_checks(settings: Settings, report: Report, *, generate: bool) -> int:
    """Run every check; the exit code."""
    async with aiohttp.ClientSession() as http:
        await check_discord(settings, http, report)
        await check_image_api(settings, http, report, generate=generate)
    code = (EXIT_DISCORD if report.failed("discord") else 0) | (EXIT_IMAGE_API if report.failed("api") else 0)
    print("All checks passed." if code == 0 else f"Some checks failed (exit code {code}).", flush=True)
    return code


def run(args: argparse.Namespace) -> int:
    """Entry point of `python -m bot check`."""
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    try:
        settings = Settings()  # type: ignore[call-arg]
    except ValidationError as error:
        Report([], color).add("config", "Configuration", False, describe_validation_error(error))
        print(f"Some checks failed (exit code {EXIT_CONFIG}).", flush=True)
        return EXIT_CONFIG
    except SettingsError as error:
        Report([], color).add("config", "Configuration", False, describe_settings_error(error))
        print(f"Some checks failed (exit code {EXIT_CONFIG}).", flush=True)
        return EXIT_CONFIG
    secrets = settings.secret_values + url_secrets(settings.image_api_base_url)
    report = Report([*secrets, *url_secrets(settings.discord_api_base_url)], color)
    database = mask_database_url(settings.database_url)
    api = mask_url(settings.image_api_base_url)
    models = ", ".join(
        m.name + (" (default)" if m.id == settings.image_model else "") for m in settings.catalog.offered
    )
    detail = f"image API {api}, models {models}, database {database}"
    report.add("config", "Configuration", True, detail)
    return asyncio.run(run_checks(settings, report, generate=args.generate_test_image))


def add_check_command(commands: Any) -> None:
    """Register the `check` subcommand."""
    parser = commands.add_parser("check", help="check the configuration, the Discord login and the image API")
    parser.add_argument(
        "--generate-test-image",
        action="store_true",
        help="also generate one image (the default model's smallest size; billed) to see whether the API streams",
    )
    parser.set_defaults(run=run)
