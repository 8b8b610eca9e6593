"""SHARD_COUNT / SHARD_IDS parsing and the identify gate."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import ValidationError

from bot.identify import LocalIdentifyGate, identify_bucket
from bot.settings import Settings, describe_validation_error, parse_shard_ids

REQUIRED = {"DISCORD_TOKEN": "tok-abcdef", "IMAGE_API_KEY": "key-123456"}


def from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in {**REQUIRED, **env}.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def config_error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    with pytest.raises(ValidationError) as info:
        from_env(monkeypatch, **env)
    return describe_validation_error(info.value)


@pytest.mark.parametrize(
    ("text", "ids"),
    [("0", [0]), ("0,1", [0, 1]), ("0-3", [0, 1, 2, 3]), ("0,2-3", [0, 2, 3]), (" 3 , 1-2 ,1", [1, 2, 3]), ("", None)],
)
def test_shard_ids_forms(text: str, ids: list[int] | None) -> None:
    assert parse_shard_ids(text) == ids


def test_shard_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    unset = from_env(monkeypatch)
    assert (unset.shard_count, unset.shard_ids) == (None, None)
    assert from_env(monkeypatch, SHARD_COUNT="4").shard_ids is None
    sharded = from_env(monkeypatch, SHARD_COUNT="4", SHARD_IDS="3,0-1")
    assert (sharded.shard_count, sharded.shard_ids) == (4, [0, 1, 3])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS: Value error, needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "SHARD_IDS: Value error, every shard id must be between 0 and"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "one"}, "SHARD_IDS: Value error, 'one' is not a shard id"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "SHARD_IDS: Value error, range '3-1' must run upwards"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,,1"}, "SHARD_IDS: Value error, '' is not a shard id"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "-1"}, "SHARD_IDS: Value error, '-1' is not a shard id"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT: Input should be greater than or equal to 1"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT: Input should be a valid integer"),
    ],
)
def test_bad_shard_settings_are_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    message = config_error(monkeypatch, **env)
    assert message.startswith(expected) and "\n" not in message and ";" not in message


async def test_the_gate_spaces_one_bucket_and_lets_other_buckets_through() -> None:
    gate = LocalIdentifyGate(interval=0.2)
    turns: dict[str, float] = {}
    start = time.monotonic()

    async def take(name: str, bucket: int) -> None:
        await gate.wait_turn(bucket)
        turns[name] = time.monotonic() - start

    await asyncio.gather(take("a0", 0), take("b1", 1), take("c0", 0), take("d0", 0))

    assert turns["a0"] < 0.1 and turns["b1"] < 0.1
    assert sorted([turns["c0"], turns["d0"]])[0] >= 0.19 and abs(turns["d0"] - turns["c0"]) >= 0.19


def test_identify_bucket_is_shard_id_modulo_max_concurrency() -> None:
    assert [identify_bucket(shard, 4) for shard in range(6)] == [0, 1, 2, 3, 0, 1]
    assert identify_bucket(None, 16) == 0 and identify_bucket(5, 1) == 0
