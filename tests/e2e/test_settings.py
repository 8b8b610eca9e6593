"""/settings end to end: the private panel (buttons and selects), defaults used by /imagine and blends, limits."""

from __future__ import annotations

import pytest

from bot.store.member_defaults import MemberDefaults
from tests.e2e.helpers import final_original, final_reply, job_done
from tests.e2e.usage_helpers import done_text, forget_me
from tests.images import png

EPHEMERAL_MESSAGE = 4
UPDATE_MESSAGE = 7
BUTTON, STRING_SELECT, ROW = 2, 3, 1
GREEN, GREY = 3, 2


def components(message) -> dict[str, dict]:
    """The message's interactive components by custom_id (rows checked on the way)."""
    found = {}
    for row in message.components:
        assert row["type"] == ROW
        for component in row["components"]:
            found[component["custom_id"]] = component
    return found


def chosen(select: dict) -> list[str]:
    return [option["value"] for option in select["options"] if option.get("default")]


async def open_panel(fake, member):
    interaction = await fake.slash(member, "settings")
    await interaction.wait_response()
    assert interaction.response_type == EPHEMERAL_MESSAGE and interaction.ephemeral
    return interaction.original


async def change(fake, member, panel, custom_id, values=None):
    click = await fake.click(member, panel, custom_id, values=values)
    await click.wait_response()
    assert click.response_type == UPDATE_MESSAGE  # the panel itself is updated, no new message
    return click


async def test_the_panel_shows_buttons_and_selects_for_each_default(discord_fake, image_api, running_bot) -> None:
    panel = await open_panel(discord_fake, discord_fake.add_member())

    found = components(panel)
    resolution = [found[f"settings:resolution:{v}"] for v in ("server", "1K", "2K", "4K")]
    assert [b["type"] for b in resolution] == [BUTTON] * 4
    assert [b["label"] for b in resolution] == ["Server default (2K)", "1K", "2K", "4K"]
    assert [b["style"] for b in resolution] == [GREEN, GREY, GREY, GREY]
    aspect, count = found["settings:aspect"], found["settings:count"]
    assert aspect["type"] == count["type"] == STRING_SELECT
    assert [o["value"] for o in aspect["options"]] == [
        "auto",
        "1:1",
        "4:3",
        "3:4",
        "16:9",
        "9:16",
        "3:2",
        "2:3",
        "21:9",
    ]
    assert chosen(aspect) == ["auto"] and chosen(count) == ["1"]
    assert [o["label"] for o in count["options"]][:2] == ["1 image", "2 images"] and len(count["options"]) == 15
    assert found["settings:reset"]["type"] == BUTTON
    assert "Resolution: **2K** (server)" in panel.content and "Images per request: **1**" in panel.content


async def test_changes_update_the_panel_in_place_and_imagine_uses_them(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    panel = await open_panel(discord_fake, alice)

    await change(discord_fake, alice, panel, "settings:resolution:1K")
    await change(discord_fake, alice, panel, "settings:aspect", ["16:9"])
    await change(discord_fake, alice, panel, "settings:count", ["3"])

    found = components(panel)
    assert found["settings:resolution:1K"]["style"] == GREEN and found["settings:resolution:server"]["style"] == GREY
    assert chosen(found["settings:aspect"]) == ["16:9"] and chosen(found["settings:count"]) == ["3"]
    assert "Resolution: **1K**" in panel.content and "Aspect ratio: **16:9**" in panel.content
    assert "Images per request: **3**" in panel.content and "✅ Saved." in panel.content
    guild = int(discord_fake.guild_id)
    assert await running_bot.store.member_defaults.get(guild, int(alice.id)) == MemberDefaults("1K", "16:9", 3)

    result = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a kite"))
    body = image_api.requests[-1].json
    assert body["size"] == "1280x720" and body["sequential_image_generation_options"] == {"max_images": 3}
    assert len(result.attachments) == 3 and "1K · 16:9" in result.text


async def test_options_typed_in_imagine_win_over_the_defaults(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    await running_bot.store.member_defaults.update(int(discord_fake.guild_id), int(alice.id), aspect="16:9", count=3)
    interaction = await discord_fake.slash(alice, "imagine", prompt="a kite", count=1, aspect="auto", resolution="1K")
    await final_original(discord_fake, interaction)
    body = image_api.requests[-1].json
    assert body["size"] == "1K" and body["sequential_image_generation"] == "disabled"


async def test_reset_goes_back_to_the_servers_and_the_bots_defaults(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    panel = await open_panel(discord_fake, alice)
    await change(discord_fake, alice, panel, "settings:count", ["4"])
    await change(discord_fake, alice, panel, "settings:reset")

    assert chosen(components(panel)["settings:count"]) == ["1"] and "Back to the server's" in panel.content
    assert await running_bot.store.member_defaults.get(int(discord_fake.guild_id), int(alice.id)) == MemberDefaults()
    await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a kite"))
    assert image_api.requests[-1].json["sequential_image_generation"] == "disabled"


async def test_only_the_member_who_opened_the_panel_can_use_it(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    panel = await open_panel(discord_fake, alice)
    with pytest.raises(AssertionError, match="ephemeral"):  # Discord shows the panel to alice only
        await discord_fake.click(bob, panel, "settings:count", values=["5"])
    assert await running_bot.store.member_defaults.get(int(discord_fake.guild_id), int(bob.id)) == MemberDefaults()


async def test_defaults_the_server_forbids_are_shown_and_explained(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_allow_4k=False, quota_max_set_size=4)
    alice = discord_fake.add_member("alice")
    panel = await open_panel(discord_fake, alice)
    assert components(panel)["settings:resolution:4K"]["label"] == "4K (not allowed here)"
    await change(discord_fake, alice, panel, "settings:resolution:4K")
    await change(discord_fake, alice, panel, "settings:count", ["6"])
    assert "this server does not allow 4K: `/imagine` uses 2K" in panel.content
    assert "this server allows at most 4: `/imagine` makes 4" in panel.content

    result = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a kite"))
    body = image_api.requests[-1].json
    assert body["size"] == "2K" and body["sequential_image_generation_options"] == {"max_images": 4}
    assert "Your default resolution 4K is not allowed on this server, so this uses 2K." in result.text
    assert "Your default of 6 images is more than this server's limit (4), so this makes 4." in result.text
    [job] = await job_done(harness)
    assert job.status == "completed" and job.images_delivered == 4


async def test_a_reply_blend_takes_what_it_does_not_say_from_the_defaults(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    await running_bot.store.member_defaults.update(int(discord_fake.guild_id), int(alice.id), resolution="1K", count=2)
    picture = discord_fake.add_attachment(png(300, 200), "cat.png")
    mention = await discord_fake.send_message(
        alice, "as a watercolor --ar 1:1", mention_bot=True, attachments=[picture]
    )
    await final_reply(discord_fake, mention)
    body = image_api.requests[-1].json
    assert body["size"] == "1024x1024" and body["sequential_image_generation_options"] == {"max_images": 2}


async def test_the_blend_form_starts_with_the_defaults(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    await running_bot.store.member_defaults.update(int(discord_fake.guild_id), int(alice.id), aspect="3:2", count=2)
    picture = await discord_fake.send_message(alice, "look", attachments=[discord_fake.add_attachment(png(), "a.png")])
    menu = await discord_fake.context_menu(alice, "Blend with prompt…", picture)
    await menu.wait_response()
    fields = {c["custom_id"]: c.get("value") for row in menu.modal["components"] for c in row.get("components", [])}
    assert fields["blend:count"] == "2" and fields["blend:aspect"] == "3:2"


async def test_forget_me_deletes_the_defaults(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    guild = int(discord_fake.guild_id)
    await running_bot.store.member_defaults.update(guild, int(alice.id), count=4)
    forget = await forget_me(discord_fake, alice)
    assert "/settings defaults are deleted" in done_text(forget)
    assert await running_bot.store.member_defaults.get(guild, int(alice.id)) == MemberDefaults()


V40, V45 = "doubao-seedream-4-0-250828", "doubao-seedream-4-5-251128"


async def test_a_model_menu_appears_when_several_models_are_offered_and_imagine_uses_it(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(image_models=[V40, V45])
    alice = discord_fake.add_member("alice")
    panel = await open_panel(discord_fake, alice)
    model = components(panel)["settings:model"]
    assert model["type"] == STRING_SELECT and chosen(model) == ["server"]
    assert [o["label"] for o in model["options"]] == ["Server default (Seedream 4.0)", "Seedream 4.0", "Seedream 4.5"]
    assert "Model: **Seedream 4.0** (server)" in panel.content

    await change(discord_fake, alice, panel, "settings:model", [V45])
    assert chosen(components(panel)["settings:model"]) == [V45] and "Model: **Seedream 4.5**" in panel.content
    stored = await harness.store.member_defaults.get(int(discord_fake.guild_id), int(alice.id))
    assert stored.model == V45

    await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a kite"))
    assert image_api.requests[-1].json["model"] == V45  # the server's default resolution fits 4.5 (2K)
    await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a kite", model=V40))
    assert image_api.requests[-1].json["model"] == V40  # what the member types wins


async def test_one_model_offered_means_no_model_menu(discord_fake, image_api, running_bot) -> None:
    panel = await open_panel(discord_fake, discord_fake.add_member())
    assert "settings:model" not in components(panel) and "Model:" not in panel.content
