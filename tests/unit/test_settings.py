"""Settings parsing and the start-up error message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, database_path, database_secrets, describe_validation_error, mask_database_url

REQUIRED = {"discord_token": "tok-abcdef", "image_api_key": "key-123456"}


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **{**REQUIRED, **values})  # type: ignore[arg-type]


def test_database_url_forms() -> None:
    assert database_path("sqlite:///data/x.db") == Path("data/x.db")
    assert database_path("sqlite:////var/lib/bot/x.db") == Path("/var/lib/bot/x.db")
    assert make().database_path == Path("data/imagine.db")
    assert make().undelivered_path == Path("data/undelivered")
    postgres = make(database_url="postgresql://bot:s3cret@db.internal:5432/imagine")
    assert postgres.database_path is None and postgres.undelivered_path == Path("data/undelivered")
    assert make(database_url="postgres://bot@db/x").database_url == "postgres://bot@db/x"
    with pytest.raises(ValidationError):
        make(database_url="mysql://db/x")


@pytest.mark.parametrize(
    "url", ["postgresql://bot:s3cret@db:port/imagine", "postgresql://bot:s3cret@db:5432/", "sqlite://s3cret.db"]
)
def test_a_bad_database_url_is_one_line_without_the_password(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(database_url=url)
    message = describe_validation_error(info.value)
    assert message.startswith("DATABASE_URL: ") and "\n" not in message
    assert "s3cret" not in message and "postgresql://user:password@host:5432/database" in message


def test_a_postgresql_password_is_masked_for_display() -> None:
    url = "postgresql://bot:p%40ss@db:5432/imagine"
    assert mask_database_url(url) == "postgresql://bot:***@db:5432/imagine"
    assert database_secrets(url) == ["p%40ss", "p@ss"]
    assert mask_database_url("sqlite:///data/x.db") == "sqlite:///data/x.db"


def test_custom_discord_base_adds_its_host_to_reference_hosts() -> None:
    assert "cdn.discordapp.com" in make().allowed_reference_hosts
    assert "127.0.0.1" not in make().allowed_reference_hosts
    custom = make(discord_api_base_url="http://127.0.0.1:9999/api/v10/")
    assert custom.discord_api_base_url == "http://127.0.0.1:9999/api/v10"
    assert "http://127.0.0.1:9999" in custom.allowed_reference_hosts
    assert "127.0.0.1" not in custom.allowed_reference_hosts


def test_secrets_are_not_in_repr() -> None:
    text = repr(make()) + str(make())
    assert "tok-abcdef" not in text and "key-123456" not in text


def test_error_message_names_settings_without_values() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None, discord_token="  ", max_concurrent_jobs="lots")  # type: ignore[arg-type]
    message = describe_validation_error(info.value)
    assert "DISCORD_TOKEN" in message and "IMAGE_API_KEY: is required" in message
    assert "MAX_CONCURRENT_JOBS" in message and "lots" not in message


def test_start_up_with_bad_config_exits_2_and_hides_secrets(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "DISCORD_TOKEN": "very-secret-token",
        "IMAGE_API_KEY": "",
        "DISCORD_API_BASE_URL": "not a url",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "IMAGE_API_KEY" in result.stderr and "DISCORD_API_BASE_URL" in result.stderr
    assert "very-secret-token" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_worker_only_process_needs_postgresql(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "DISCORD_TOKEN": "t", "IMAGE_API_KEY": "k", "DATABASE_URL": "sqlite:///bot.db"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "worker"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "PostgreSQL" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "bot.db").exists(), "nothing was created"
