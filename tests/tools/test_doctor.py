"""`python -m bot check` against the fakes: a green/red checklist and an exit code naming what failed."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.fakes.discord_models import ATTACH_FILES, CREATE_PUBLIC_THREADS

KEY = "fake-api-key"


def env_for(discord_fake, image_api, tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "NO_COLOR": "1",
        "DISCORD_TOKEN": discord_fake.token,
        "DISCORD_API_BASE_URL": discord_fake.base_url,
        "IMAGE_API_BASE_URL": image_api.base_url,
        "IMAGE_API_KEY": KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }
    env.update(overrides)
    return env


async def run_check(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    """Run the command while this loop keeps serving the fakes; (exit code, stdout + stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()


async def test_all_green_against_working_services(discord_fake, image_api, tmp_path) -> None:
    code, out = await run_check(env_for(discord_fake, image_api, tmp_path), tmp_path)
    assert code == 0, out
    assert "✓ Discord login: logged in as imagebot" in out
    assert "✓ Permissions in Fake Guild" in out and "✓ Intents" in out
    assert "✓ Image API key" in out and "✓ Model doubao-seedream-4-0-250828: available" in out
    assert "– Streaming: not checked" in out
    assert [r.json["size"] for r in image_api.requests] == ["1x1"], "the free probe must not make an image"


async def test_rejected_api_key_is_red_and_not_printed(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path, IMAGE_API_KEY="sk-totally-wrong-key-42")
    code, out = await run_check(env, tmp_path)
    assert code == 8, out
    assert "✗ Image API key: rejected (HTTP 401" in out and "✓ Discord login" in out
    assert "sk-totally-wrong-key-42" not in out


async def test_rejected_token_is_red(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path, DISCORD_TOKEN="not-the-token-123")
    code, out = await run_check(env, tmp_path)
    assert code == 4, out
    assert "✗ Discord login: Discord rejected the token (401)" in out and "not-the-token-123" not in out


async def test_missing_permission_is_named(discord_fake, image_api, tmp_path) -> None:
    discord_fake.bot.denied = ATTACH_FILES
    code, out = await run_check(env_for(discord_fake, image_api, tmp_path), tmp_path)
    assert code == 4, out
    assert "✗ Permissions in Fake Guild" in out and "missing Attach Files" in out


async def test_unknown_model_is_red(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path, IMAGE_MODEL="seedream-nope")
    code, out = await run_check(env, tmp_path)
    assert code == 8, out
    assert "✗ Model seedream-nope: not available (HTTP 404" in out


async def test_both_failing_sums_the_codes(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path, DISCORD_TOKEN="bad-token-1", IMAGE_API_KEY="bad-key-1")
    code, _ = await run_check(env, tmp_path)
    assert code == 12


async def test_invalid_configuration_exits_2(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path, MAX_CONCURRENT_JOBS="lots")
    code, out = await run_check(env, tmp_path)
    assert code == 2 and "✗ Configuration: MAX_CONCURRENT_JOBS" in out
    assert image_api.requests == []


async def test_test_image_reports_streaming(discord_fake, image_api, tmp_path) -> None:
    code, out = await run_check(env_for(discord_fake, image_api, tmp_path), tmp_path, "--generate-test-image")
    assert code == 0, out
    assert "✓ Test image: HTTP 200" in out and "✓ Streaming: the API streams images" in out


async def test_test_image_reports_a_relay_that_ignores_streaming(discord_fake, image_api, tmp_path) -> None:
    image_api.ignore_stream = True
    code, out = await run_check(env_for(discord_fake, image_api, tmp_path), tmp_path, "--generate-test-image")
    assert code == 0, out
    assert "– Streaming: answers plain JSON" in out


async def test_a_postgresql_password_is_masked_in_the_checklist(discord_fake, image_api, tmp_path) -> None:
    url = "postgresql://bot:pg-Secret-77@db.internal:5432/imagine"
    code, out = await run_check(env_for(discord_fake, image_api, tmp_path, DATABASE_URL=url), tmp_path)
    assert code == 0, out
    assert "database postgresql://bot:***@db.internal:5432/imagine" in out and "pg-Secret-77" not in out


async def test_credentials_in_urls_are_masked_and_do_not_crash(discord_fake, image_api, tmp_path) -> None:
    def with_login(url: str, login: str) -> str:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{login}@{rest}"

    env = env_for(
        discord_fake,
        image_api,
        tmp_path,
        IMAGE_API_BASE_URL=with_login(image_api.base_url, "relayuser:relay-pass-9876"),
        DISCORD_API_BASE_URL=with_login(discord_fake.base_url, "proxy:proxy-pass-5432"),
    )
    code, out = await run_check(env, tmp_path)
    assert "Traceback" not in out and "relay-pass-9876" not in out and "proxy-pass-5432" not in out, out
    assert code in (4, 8, 12) and "Some checks failed" in out, out
    assert "IMAGE_API_BASE_URL" in out and "DISCORD_API_BASE_URL" in out, out


async def test_network_failure_is_named_as_such_not_as_a_bad_token(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path, DISCORD_API_BASE_URL="http://127.0.0.1:9/api/v10")
    code, out = await run_check(env, tmp_path)
    login = next(line for line in out.splitlines() if "Discord login" in line)
    assert code == 4 and "network failure" in login and "DISCORD_TOKEN" not in login, out


async def test_missing_create_public_threads_is_reported(discord_fake, image_api, tmp_path) -> None:
    discord_fake.bot.denied = CREATE_PUBLIC_THREADS
    code, out = await run_check(env_for(discord_fake, image_api, tmp_path), tmp_path)
    assert code == 4 and "missing Create Public Threads" in out, out


async def test_malformed_json_setting_prints_the_summary_line(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path, REFERENCE_HOSTS="[not json")
    code, out = await run_check(env, tmp_path)
    assert code == 2 and "Traceback" not in out and "REFERENCE_HOSTS" in out, out
    assert out.strip().splitlines()[-1] == "Some checks failed (exit code 2).", out


async def test_every_offered_model_is_probed_and_described(discord_fake, image_api, tmp_path) -> None:
    models = '["doubao-seedream-4-5-251128", "doubao-seedream-5-0-260128", "ep-unknown-1"]'
    code, out = await run_check(env_for(discord_fake, image_api, tmp_path, IMAGE_MODELS=models), tmp_path)
    assert code == 8, out  # the fake account has no ep-unknown-1
    assert "models Seedream 4.5 (default), Seedream 5.0 Lite, ep-unknown-1" in out
    assert "✓ Model doubao-seedream-4-5-251128: available (Seedream 4.5, the default: 2K/4K" in out
    assert "✓ Model doubao-seedream-5-0-260128: available (Seedream 5.0 Lite: 2K/3K, 14 references" in out
    assert "✗ Model ep-unknown-1: not available (HTTP 404" in out
    assert [r.json["size"] for r in image_api.requests] == ["1x1"] * 3, "free probes only"


async def test_test_image_uses_the_default_models_smallest_size(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path, IMAGE_MODEL="doubao-seedream-4-5-251128")
    code, out = await run_check(env, tmp_path, "--generate-test-image")
    assert code == 0, out
    assert (image_api.requests[-1].json["model"], image_api.requests[-1].json["size"]) == (
        "doubao-seedream-4-5-251128",
        "2K",
    )


SECRET = "doctor-secret-key-0123456789-abcdefghijkl"


async def test_servers_own_keys_are_reported_off_without_secret_key(discord_fake, image_api, tmp_path) -> None:
    code, out = await run_check(env_for(discord_fake, image_api, tmp_path), tmp_path)
    assert code == 0 and "– Servers' own API keys: off: SECRET_KEY is not set" in out, out


async def test_servers_own_keys_are_reported_allowed_with_secret_key(discord_fake, image_api, tmp_path) -> None:
    code, out = await run_check(env_for(discord_fake, image_api, tmp_path, SECRET_KEY=SECRET), tmp_path)
    assert code == 0 and "✓ Servers' own API keys: allowed" in out and SECRET not in out, out


async def test_require_server_key_accepts_a_missing_image_api_key(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path, REQUIRE_SERVER_KEY="true", SECRET_KEY=SECRET)
    del env["IMAGE_API_KEY"]
    code, out = await run_check(env, tmp_path)
    assert code == 0, out
    assert "✓ Servers' own API keys: required" in out and "– Image API key: not set; REQUIRE_SERVER_KEY" in out
    assert image_api.requests == [] and SECRET not in out


async def test_a_missing_image_api_key_is_a_configuration_error_otherwise(discord_fake, image_api, tmp_path) -> None:
    env = env_for(discord_fake, image_api, tmp_path)
    del env["IMAGE_API_KEY"]
    code, out = await run_check(env, tmp_path)
    assert code == 2 and "IMAGE_API_KEY: is required but not set (unless REQUIRE_SERVER_KEY=true" in out, out
