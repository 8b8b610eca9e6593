"""`python -m bot usage export`: a server's jobs over a period as CSV (needs only DATABASE_URL)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from pathlib import Path

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.periods import DAY, parse_date
from bot.settings import check_database_url, database_path, describe_validation_error, is_postgresql
from bot.store import UsageStore
from bot.store.usage import EXPORT_COLUMNS


class DatabaseSettings(BaseSettings):
    """Just the database location, so owner tools run without the bot's secrets."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///data/imagine.db"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        check_database_url(value)
        return value


def add_usage_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `usage export`."""
    usage = subparsers.add_parser("usage", help="usage records")
    actions = usage.add_subparsers(dest="usage_command", required=True)
    export = actions.add_parser("export", help="write a server's jobs as CSV (no prompts)")
    export.add_argument("--guild", type=int, required=True, help="server id")
    export.add_argument("--since", required=True, help="first UTC day, YYYY-MM-DD (inclusive)")
    export.add_argument("--until", required=True, help="last UTC day, YYYY-MM-DD (inclusive)")
    export.add_argument("--out", default="-", help="CSV file to write (default: standard output)")


def run_usage_command(args: argparse.Namespace) -> int:
    """Run a `usage` subcommand; returns the exit code."""
    try:
        since = parse_date(args.since)
        until = parse_date(args.until) + DAY
    except ValueError:
        print("Dates must look like 2025-01-31.", file=sys.stderr)
        return 2
    if until <= since:
        print("--until must not be before --since.", file=sys.stderr)
        return 2
    try:
        url = DatabaseSettings().database_url
    except ValidationError as error:
        print(f"Configuration error: {describe_validation_error(error)}", file=sys.stderr)
        return 2
    if not is_postgresql(url) and not database_path(url).exists():
        print(f"No database at {database_path(url)}.", file=sys.stderr)
        return 2
    rows = asyncio.run(export_rows(url, args.guild, since, until))
    if args.out == "-":
        write_csv(sys.stdout, rows)
    else:
        with Path(args.out).open("w", newline="", encoding="utf-8") as handle:
            write_csv(handle, rows)
        print(f"Wrote {len(rows)} job(s) to {args.out}.", file=sys.stderr)
    return 0


async def export_rows(url: str, guild_id: int, since: float, until: float) -> list[tuple[object, ...]]:
    """The server's job rows created in [since, until) (it only reads: fine while the bot runs)."""
    store = await UsageStore.open(url, single_process=False)
    try:
        return [row async for row in store.usage.export(guild_id, since, until)]
    finally:
        await store.close()


def write_csv(handle: object, rows: list[tuple[object, ...]]) -> None:
    """A header line, then one line per job."""
    writer = csv.writer(handle)  # type: ignore[arg-type]
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)
