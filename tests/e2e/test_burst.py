"""The burst bar: 100 `/imagine` from 20 members at once are all served, in line, with nobody told "busy"."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.e2e.helpers import final_original, job_done
from tests.fakes.discord import FakeDiscord

MEMBERS = 20
EACH = 5  # the default MAX_WAITING_PER_MEMBER: a member's extra requests wait instead of being refused
API_LATENCY = 0.2  # the bar says 2 s; scaled down tenfold to keep the test short


def positions_shown(fake: FakeDiscord, interaction: Any) -> list[str]:
    """Every content the bot sent for this interaction's messages (through its token) that showed a place in line."""
    return [
        r.json["content"]
        for r in fake.requests
        if interaction.token in r.path and isinstance(r.json, dict) and "in queue" in (r.json.get("content") or "")
    ]


async def test_a_burst_of_100_from_20_members_is_all_served_in_line(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot()  # defaults: MAX_CONCURRENT_JOBS=4, 2 running and 5 waiting per member
    image_api.image_delay = API_LATENCY
    members = [discord_fake.add_member(f"member{n}") for n in range(MEMBERS)]
    sent = [
        await discord_fake.slash(member, "imagine", prompt=f"request {r} of {member.username}")
        for r in range(EACH)
        for member in members
    ]

    finals = [await final_original(discord_fake, interaction, timeout=60) for interaction in sent]
    jobs = {job.id: job for job in await job_done(harness, len(sent), timeout=30)}

    assert not [i for i in sent if i.ephemeral], "someone was refused"
    assert all("busy" not in (r.json.get("content") or "") for r in discord_fake.requests if isinstance(r.json, dict))
    assert [len(message.attachments) for message in finals] == [1] * len(sent)
    assert Counter(job.status for job in jobs.values()) == {"completed": len(sent)}
    waited = {(job.user_id, job.prompt) for job in jobs.values() if (job.started_at or 0) - (job.queued_at or 0) > 1}
    assert len(waited) >= len(sent) // 2, "the burst hardly waited: the bar is not exercised"
    saw_place = {(int(i.user.id), prompt_of(i)) for i in sent if positions_shown(discord_fake, i)}
    assert waited <= saw_place, f"waited without seeing their place: {sorted(waited - saw_place)}"
    assert {int(m.id) for m in members} == {user for user, _ in saw_place}  # every member saw a position


def prompt_of(interaction: Any) -> str:
    """The prompt option of an /imagine interaction."""
    return str(next(o["value"] for o in interaction.data["options"] if o["name"] == "prompt"))
