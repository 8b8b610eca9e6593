"""Commands still running when the bot closes finish (or are cancelled) before it returns, so none of them uses
the store or the HTTP session after they close; a command answered after Discord dropped it is a warning in the
log, not an error with a traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import client
from bot.store.member_defaults import MemberDefaults
from tests.logcapture import capture_logs


async def test_a_command_still_running_at_close_is_done_when_close_returns(
    discord_fake, image_api, running_bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "COMMANDS_GRACE", 0.2)
    inside: list[asyncio.Task[object]] = []

    async def stuck(guild_id: int | None, user_id: int) -> MemberDefaults:
        task = asyncio.current_task()
        assert task is not None
        inside.append(task)
        await asyncio.Event().wait()  # e.g. a read that never comes back
        return MemberDefaults()

    monkeypatch.setattr(running_bot.store.member_defaults, "get", stuck)
    alice = discord_fake.add_member("alice")
    await discord_fake.slash(alice, "imagine", prompt="a red fox in fresh snow")
    for _ in range(200):
        if inside:
            break
        await asyncio.sleep(0.01)
    [command] = inside
    with capture_logs() as logs:
        await asyncio.wait_for(running_bot.bot.close(), 5)
    assert command.done()  # it was given COMMANDS_GRACE, then cancelled, before close returned
    assert logs.lines("1 command(s) still running at close were cancelled")


async def test_a_command_answered_after_discord_dropped_it_is_a_warning_without_a_traceback(
    discord_fake, image_api, running_bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    discord_fake.ack_deadline = 0.2
    read = running_bot.store.member_defaults.get

    async def slow(guild_id: int | None, user_id: int) -> MemberDefaults:
        await asyncio.sleep(0.4)  # past the (shortened) deadline: the defer comes too late
        return await read(guild_id, user_id)

    monkeypatch.setattr(running_bot.store.member_defaults, "get", slow)
    alice = discord_fake.add_member("alice")
    with capture_logs(level=logging.DEBUG) as logs:
        late = await discord_fake.slash(alice, "imagine", prompt="a red fox in fresh snow")
        for _ in range(300):
            if logs.lines("was not answered in time"):
                break
            await asyncio.sleep(0.01)
    assert logs.lines("imagine by user", "was not answered in time: Discord dropped it")
    assert "ERROR" not in logs.text and "Traceback" not in logs.text
    assert late.response_type is None
