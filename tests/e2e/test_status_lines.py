"""The status line: an estimate of the time left once this bot has history for the model and size, none without
it; the place in line while waiting; and never doubled brackets in what the member reads."""

from __future__ import annotations

import re

from tests.e2e.helpers import final_original, job_done, message_requests, until_queue
from tests.fakes.discord_models import walk_components
from tests.fakes.image_api import Fault

DOUBLED = re.compile(r"\(\(|\)\)|\[\[|\]\]|\) \(")  # "((…))", "[[…]]", or two bracket groups side by side


def payload_text(payload: dict) -> str:
    """What a message edit reads: its content, or (components v2) its text displays."""
    shown = [c.get("content") or "" for c in walk_components(payload.get("components") or []) if c.get("type") == 10]
    return payload.get("content") or "\n".join(shown)


def status_lines(fake, interaction) -> list[str]:
    """Every status line ("⏳ …") the bot showed for one interaction, in order."""
    lines = []
    for request in message_requests(fake):
        if interaction.token in request.path or (interaction.original and interaction.original.id in request.path):
            lines += [line for line in payload_text(request.json).splitlines() if line.startswith("⏳")]
    return lines


async def test_no_estimate_without_history(discord_fake, image_api, running_bot) -> None:
    image_api.image_delay = 0.3
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a kite", count=2)
    await final_original(discord_fake, interaction)
    lines = status_lines(discord_fake, interaction)
    assert lines and not any("left" in line for line in lines), lines


async def test_the_estimate_comes_from_recent_jobs_of_the_same_model_and_size(
    discord_fake, image_api, running_bot
) -> None:
    alice = discord_fake.add_member("alice")
    image_api.image_delay = 1.5  # history: 1.5 s or more per image at 2K
    await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a kite"))
    await job_done(running_bot)
    [first] = await running_bot.store.recent_jobs(1)
    assert (first.model, first.size) == (running_bot.settings.image_model, "2K")

    image_api.image_delay = 0.0
    again = await discord_fake.slash(alice, "imagine", prompt="two kites", count=4)  # about 6 s expected
    await final_original(discord_fake, again)
    assert any(re.search(r"\(\d+s · a few seconds left\)$", line) for line in status_lines(discord_fake, again))

    other = await discord_fake.slash(alice, "imagine", prompt="a wide kite", aspect="16:9")  # no 16:9 history
    await final_original(discord_fake, other)
    assert not any("left" in line for line in status_lines(discord_fake, other))


async def test_no_status_line_doubles_its_brackets(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(max_concurrent_jobs=1)
    alice = discord_fake.add_member("alice")
    image_api.image_delay = 1.0  # history: 1 s or more per image, so the set below expects 4 s or more
    await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="history", count=2))
    await job_done(harness)

    image_api.script(Fault.item_failed(1))
    image_api.image_delay = 2.5  # slower than the status line's throttle window: the waiting job shows its place
    running = await discord_fake.slash(alice, "imagine", prompt="a set with a failure", count=4)
    await until_queue(harness, 1, 0)
    waiting = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="waiting in line")
    await final_original(discord_fake, running)
    await final_original(discord_fake, waiting)
    await job_done(harness, 3)

    shown = status_lines(discord_fake, running) + status_lines(discord_fake, waiting)
    assert any("1 failed" in line for line in shown), shown
    assert any("in queue" in line for line in shown), shown
    assert any("left" in line for line in shown), shown
    everything = [r.json["content"] for r in message_requests(discord_fake) if r.json["content"]]
    doubled = [text for text in everything if DOUBLED.search(text)]
    assert doubled == []
