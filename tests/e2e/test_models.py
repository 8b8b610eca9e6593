"""Every Seedream model end to end: the model option, a server's default model, each model's own rules (refused
before any API call), PNG and web search on 5.0 Lite, and cost from what the API billed, at the job's model's price."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import decode, final_original, job_done
from tests.fakes.image_api import Fault
from tests.images import png
from tests.logcapture import capture_logs

V40, V45, V50 = "doubao-seedream-4-0-250828", "doubao-seedream-4-5-251128", "doubao-seedream-5-0-260128"
ALL = [V40, V45, V50]
MESSAGE = 4


async def refused(discord_fake, user, **options) -> str:
    interaction = await discord_fake.slash(user, "imagine", **options)
    await interaction.wait_response()
    assert interaction.response_type == MESSAGE and interaction.ephemeral, "refusals must be private"
    return interaction.original.content


async def admin_sets(discord_fake, setting: str, value: str) -> str:
    admin = discord_fake.add_member("boss", manage_guild=True)
    interaction = await discord_fake.slash(admin, "imagine-admin set", setting=setting, value=value)
    await interaction.wait_response()
    return interaction.original.content


def options_of(discord_fake, command: str) -> dict[str, dict]:
    [synced] = [c for c in discord_fake.commands[discord_fake.guild_id] if c["name"] == command]
    return {option["name"]: option for option in synced.get("options", [])}


@pytest.mark.parametrize(
    ("model", "options", "size"),
    [
        (V40, {"resolution": "1K", "aspect": "16:9"}, "1280x720"),
        (V45, {"resolution": "4K"}, "4K"),
        (V50, {"resolution": "3K", "aspect": "21:9"}, "4704x2016"),
    ],
    ids=["4.0", "4.5", "5.0-lite"],
)
async def test_each_model_makes_what_it_can(discord_fake, image_api, start_bot, model, options, size) -> None:
    harness = await start_bot(image_models=ALL)
    interaction = await discord_fake.slash(
        discord_fake.add_member(), "imagine", prompt="a lighthouse", model=model, **options
    )
    message = await final_original(discord_fake, interaction)

    assert len(message.attachments) == 1
    body = image_api.requests[0].json
    assert (body["model"], body["size"]) == (model, size)
    assert ("output_format" in body) == (model == V50) and "tools" not in body
    [job] = await job_done(harness)
    assert job.status == "completed" and job.params["model"] == model
    names = {V40: "Seedream 4.0", V45: "Seedream 4.5", V50: "Seedream 5.0 Lite"}
    assert names[model] in message.content  # several models: the card says which


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"model": V45, "resolution": "1K"}, "Seedream 4.5 makes 2K or 4K images, not 1K"),
        ({"model": V50, "resolution": "4K"}, "Seedream 5.0 Lite makes 2K or 3K images, not 4K"),
        ({"model": V40, "resolution": "3K"}, "Seedream 4.0 makes 1K, 2K, or 4K images, not 3K"),
        ({"model": V40, "format": "png"}, "PNG needs Seedream 5.0 Lite"),
        ({"model": V45, "format": "png"}, "Seedream 4.5 makes JPEG images only"),
        ({"model": V45, "web_search": True}, "Seedream 4.5 cannot search the web; it needs Seedream 5.0 Lite"),
    ],
    ids=["4.5-1K", "5.0-4K", "4.0-3K", "4.0-png", "4.5-png", "4.5-search"],
)
async def test_a_choice_the_model_cannot_do_is_refused_before_any_call(
    discord_fake, image_api, start_bot, options, words
) -> None:
    harness = await start_bot(image_models=ALL)
    text = await refused(discord_fake, discord_fake.add_member(), prompt="a lighthouse", **options)
    assert words in text
    assert image_api.requests == [], "never sent"
    assert await harness.store.recent_jobs() == [], "refused before any reservation"


@pytest.mark.parametrize(("limit", "works"), [(None, False), (14, True)], ids=["default-10", "allowed-14"])
async def test_4_0_takes_ten_references_unless_the_owner_allows_fourteen(
    discord_fake, image_api, start_bot, limit, works
) -> None:
    harness = await start_bot(**({"seedream_4_0_max_references": limit} if limit else {}))
    image_api.references_4_0 = 14  # this account's 4.0 would take 14: only the bot's setting decides
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    files = [discord_fake.add_attachment(png(40 + n, 40), f"t{n}.png") for n in range(5)]
    collected = await discord_fake.context_menu(
        alice, "Add to references", await discord_fake.send_message(bob, "", attachments=files)
    )
    await collected.wait_response()
    attached = {f"image{n + 1}": discord_fake.add_attachment(png(60 + n, 40), f"a{n}.png") for n in range(6)}
    made = await discord_fake.slash(alice, "imagine", prompt="a collage", use_tray=True, **attached)
    await made.wait_response()
    if not works:
        assert made.ephemeral and "Seedream 4.0 takes at most 10 reference images; you gave 11" in made.original.content
        assert image_api.requests == [] and await harness.store.recent_jobs() == []
        return
    await final_original(discord_fake, made)
    assert len(image_api.requests[0].references) == 11


async def test_with_one_model_the_model_only_options_are_not_offered(discord_fake, image_api, running_bot) -> None:
    options = options_of(discord_fake, "imagine")
    assert "model" not in options and "format" not in options and "web_search" not in options
    assert [c["value"] for c in options["resolution"]["choices"]] == ["1K", "2K", "4K"]


async def test_several_models_are_offered_by_their_friendly_names(discord_fake, image_api, start_bot) -> None:
    await start_bot(image_models=[V45, V50])
    options = options_of(discord_fake, "imagine")
    assert [(c["name"], c["value"]) for c in options["model"]["choices"]] == [
        ("Seedream 4.5", V45),
        ("Seedream 5.0 Lite", V50),
    ]
    assert [c["value"] for c in options["resolution"]["choices"]] == ["2K", "3K", "4K"]
    assert "Seedream 5.0 Lite" in options["format"]["description"]
    assert "Seedream 5.0 Lite" in options["web_search"]["description"]


async def test_a_server_chooses_its_default_model(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(image_models=ALL)
    assert "Default model: choose" in await admin_sets(discord_fake, "default_model", "Seedream 9")
    assert await harness.store.guilds.audit_log(int(discord_fake.guild_id)) == []
    await admin_sets(discord_fake, "default_resolution", "1K")
    line = await admin_sets(discord_fake, "default_model", "seedream 4.5")
    assert "Default model is now **Seedream 4.5**" in line and "its jobs use 2K" in line

    first = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a harbour")
    await final_original(discord_fake, first)
    second = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a quay", model=V40)
    await final_original(discord_fake, second)
    # The server's 1K default is mapped to 4.5's nearest size; a member's own choice of model still wins.
    assert [(r.json["model"], r.json["size"]) for r in image_api.requests] == [(V45, "2K"), (V40, "1K")]
    overview = await discord_fake.slash(discord_fake.add_member("boss2", manage_guild=True), "imagine-admin show")
    await overview.wait_response()
    assert "Default model: **Seedream 4.5** ✏️" in overview.original.content


async def test_buttons_keep_the_jobs_model(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(image_models=ALL)
    alice = discord_fake.add_member("alice")
    made = await discord_fake.slash(alice, "imagine", prompt="a kite", model=V50, aspect="4:3")
    result = await final_original(discord_fake, made)
    [job] = await job_done(harness)

    reroll = await discord_fake.click(alice, result, f"img:reroll:{job.id}")
    await final_original(discord_fake, reroll)
    upscale = await discord_fake.click(alice, result, f"img:up:{job.id}:1")
    await final_original(discord_fake, upscale)
    await job_done(harness, 3)
    assert [r.json["model"] for r in image_api.requests] == [V50, V50, V50]
    assert image_api.requests[1].json["size"] == "2304x1728"
    assert image_api.requests[2].json["size"] == "3456x2592", "5.0 Lite upscales to 3K, its largest"


async def test_5_0_lite_posts_png_and_searches_the_web(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(image_models=[V50])
    with capture_logs() as logs:
        made = await discord_fake.slash(
            discord_fake.add_member(), "imagine", prompt="today's skyline", format="png", web_search=True
        )
        message = await final_original(discord_fake, made)
        [job] = await job_done(harness)
    body = image_api.requests[0].json
    assert (body["output_format"], body["tools"]) == ("png", [{"type": "web_search"}])
    [attachment] = message.attachments
    assert attachment.filename.endswith(".png") and decode(attachment.data).format == "PNG"
    assert job.params["output_format"] == "png" and job.params["web_search"] is True
    assert logs.lines(f"job {job.id}", "searched the web 1 time")


async def test_cost_is_what_the_api_billed_at_the_jobs_model_price(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(image_models=[V40, V45], show_costs=True)
    user = discord_fake.add_member()
    made = await discord_fake.slash(user, "imagine", prompt="three owls", count=3, model=V45)
    await final_original(discord_fake, made)
    image_api.script(Fault.expired_urls())  # made and billed by the API, but never delivered
    lost = await discord_fake.slash(user, "imagine", prompt="two owls", count=2)
    await final_original(discord_fake, lost)
    [second, first] = await job_done(harness, 2)

    assert (first.images_delivered, first.images_billed, first.cost) == (3, 3, pytest.approx(0.12))
    assert (second.images_delivered, second.images_billed, second.cost) == (0, 2, pytest.approx(0.06))
    usage = await discord_fake.slash(user, "usage show")
    await usage.wait_response()
    today = next(line for line in usage.original.content.splitlines() if line.startswith("**Today"))
    assert "3 images" in today and "$0.18" in today, "quotas count delivered images; cost what was billed"
    standing = await harness.services.quotas.standing(int(discord_fake.guild_id), int(user.id), [])
    assert standing.member_used == 3


async def test_the_cost_question_uses_the_models_price(discord_fake, image_api, start_bot) -> None:
    await start_bot(image_models=[V40, V45], cost_confirm_above=0.10, show_costs=True)
    user = discord_fake.add_member()
    cheap = await discord_fake.slash(user, "imagine", prompt="three owls", count=3, model=V40)  # $0.09
    await final_original(discord_fake, cheap)
    text = await refused(discord_fake, user, prompt="three owls", count=3, model=V45)
    assert "$0.12" in text and len(image_api.requests) == 1


async def test_an_unknown_model_id_is_warned_about_once(discord_fake, image_api, start_bot) -> None:
    with capture_logs() as logs:
        await start_bot(image_models=[V40, "ep-20260101-abcdef"])
    [warning] = logs.lines("ep-20260101-abcdef")
    assert "WARNING" in warning and "Seedream 4.0's rules" in warning


async def interrupt(discord_fake, image_api, harness, user, **options):
    """Start a 3-image job, stop the bot (no grace) once the first image is posted; return the interaction."""
    image_api.image_delay = 0.3
    interaction = await discord_fake.slash(user, "imagine", prompt="three slow owls", count=3, **options)
    await discord_fake.wait_for(lambda: interaction.original and interaction.original.attachments)
    await harness.bot.shutdown(grace=0)
    image_api.image_delay = 0.0
    return interaction


async def test_a_taken_over_job_keeps_its_model_and_is_billed_whole(discord_fake, image_api, start_bot) -> None:
    first = await start_bot(image_models=ALL)
    await interrupt(discord_fake, image_api, first, discord_fake.add_member(), model=V45)
    second = await start_bot(image_models=ALL)  # the server default is still 4.0
    [job] = await job_done(second)
    assert [r.json["model"] for r in image_api.requests] == [V45, V45]
    assert (job.status, job.images_delivered, job.images_billed) == ("completed", 3, 3)
    assert job.cost == pytest.approx(3 * 0.04), "the first run's image and the two the second run was billed for"


async def test_retry_keeps_the_jobs_model(discord_fake, image_api, start_bot) -> None:
    first = await start_bot(image_models=ALL)
    alice = discord_fake.add_member("alice")
    interaction = await interrupt(discord_fake, image_api, first, alice, model=V50, resolution="3K")
    second = await start_bot(image_models=ALL, resume_interrupted_jobs=False)

    def retry() -> str | None:
        found = [c for c in (interaction.original.custom_ids() if interaction.original else []) if "retry" in c]
        return found[0] if found else None

    custom_id = await discord_fake.wait_for(retry)
    await discord_fake.click(alice, interaction.original, custom_id)
    await job_done(second, 2)
    assert [(r.json["model"], r.json["size"]) for r in image_api.requests] == [(V50, "3K"), (V50, "3K")]
