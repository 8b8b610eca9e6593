"""Status edits cost what they show: an image is its own progress, the elapsed time only while nothing else moves."""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import final_original, job_done
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_models import walk_components


def edits_of(fake: FakeDiscord, interaction: Any) -> list[tuple[str, int]]:
    """(text, files attached) of every message edit the bot made through this interaction's token (a gallery's
    text is in its text displays)."""
    return [
        (_text(r.json), len(r.files))
        for r in fake.requests
        if r.method == "PATCH" and interaction.token in r.path and isinstance(r.json, dict)
    ]


def _text(payload: dict[str, Any]) -> str:
    displays = [c.get("content") or "" for c in walk_components(payload.get("components") or []) if c.get("type") == 10]
    return "\n".join(displays) if displays else str(payload.get("content") or "")


async def test_images_arriving_cost_no_elapsed_time_edits_between_them(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(progress_interval=30)
    image_api.image_delay = 2.5  # longer than the throttle window (MIN_EDIT_GAP): each image is its own window
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="three herons", count=3)
    await final_original(discord_fake, interaction)
    await job_done(harness)

    edits = edits_of(discord_fake, interaction)
    with_images = [content for content, files in edits if files]
    text_only = [content for content, files in edits if not files]
    assert [c.splitlines()[-1].split(" (")[0] for c in with_images] == [f"⏳ {n} of 3 images…" for n in (1, 2, 3)]
    # The status line once at the start, then the summary: nothing only to say that time went by.
    assert len(text_only) == 2, text_only
    assert "Generating 3 images" in text_only[0] and "⏳" not in text_only[1]


async def test_elapsed_time_still_shows_while_nothing_else_moves(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(progress_interval=1)
    image_api.image_delay = 6.0  # several throttle windows (MIN_EDIT_GAP, 2 s)
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a slow heron")
    await final_original(discord_fake, interaction)
    await job_done(harness)

    waiting = [content for content, files in edits_of(discord_fake, interaction) if not files and "⏳" in content]
    assert len(waiting) >= 3, waiting  # the start, then once per throttle window until the image came
    assert len(set(waiting)) == len(waiting)  # each one showed a new elapsed time


async def test_the_bots_own_messages_coming_back_are_not_parsed(discord_fake, image_api, running_bot) -> None:
    """Every post and edit of the bot comes back over the gateway; discord.py would build a Message for each."""
    bot = running_bot.bot
    seen: list[tuple[str, int]] = []

    async def on_raw_message_edit(payload: Any) -> None:
        seen.append(("edit", int(payload.data.get("author", {}).get("id", 0))))

    async def on_message(message: Any) -> None:
        seen.append(("create", message.author.id))

    bot.add_listener(on_raw_message_edit)
    bot.add_listener(on_message)
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="two herons", count=2)
    await final_original(discord_fake, interaction)
    await job_done(running_bot)
    alice = discord_fake.add_member("alice")
    await discord_fake.send_message(alice, "nice herons")  # a member's message still arrives
    await discord_fake.wait_for(lambda: ("create", int(alice.id)) in seen)

    assert [who for _, who in seen if who == bot.user.id] == []
    assert bot._connection._messages is None  # no message cache to keep


async def test_old_references_are_pruned_once_a_minute_not_after_every_job(
    discord_fake, image_api, running_bot, monkeypatch
) -> None:
    """Each pruning is a write transaction; at hundreds of jobs in flight one per finished job added up."""
    prunes: list[float] = []
    real = running_bot.store.references.prune

    async def counting(older_than: float) -> int:
        prunes.append(older_than)
        return await real(older_than)

    monkeypatch.setattr(running_bot.store.references, "prune", counting)
    user = discord_fake.add_member()
    for n in range(3):
        await final_original(discord_fake, await discord_fake.slash(user, "imagine", prompt=f"heron {n}"))
        await job_done(running_bot, n + 1)
    assert len(prunes) == 1
