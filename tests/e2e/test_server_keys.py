"""A server's own API key end to end: entered in a private form, probed, sealed, used by that server's jobs only."""

from __future__ import annotations

from pathlib import Path

from bot.usage_export import export_rows
from tests.e2e.helpers import final_original, job_done
from tests.e2e.key_helpers import (
    OPERATOR_KEY,
    SECRET,
    SERVER_KEY,
    answer,
    enter_key,
    key_action,
    raw_database_bytes,
)
from tests.e2e.test_secrets import everything_sent


async def imagine(fake, member, prompt: str, **where) -> str:
    """Run /imagine and return the final message's text once it has its image."""
    message = await final_original(fake, await fake.slash(member, "imagine", prompt=prompt, **where))
    assert len(message.attachments) == 1, message.content
    return str(message.content)


async def test_a_servers_key_is_used_for_its_jobs_only(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    other = discord_fake.add_guild("other server")
    harness = await start_bot(secret_key=SECRET, dev_guild_id=None)  # global commands: both servers and DMs
    admin = discord_fake.add_member("boss", manage_guild=True)

    saved = await enter_key(discord_fake, admin, SERVER_KEY)
    assert "Saved" in saved and "`80aa`" in saved and SERVER_KEY not in saved
    probe = image_api.requests[-1]
    assert (probe.key, probe.json["size"], probe.generated) == (SERVER_KEY, "1x1", 0), "probed without an image"

    await imagine(discord_fake, discord_fake.add_member("here"), "a fox on this server")
    await imagine(discord_fake, discord_fake.add_member("there", guild_id=other), "a fox on the other server")
    loner = discord_fake.add_member("loner")
    await imagine(discord_fake, loner, "a fox in a DM", channel_id=discord_fake.dm_channel(loner))
    await job_done(harness, 3)

    used = {r.json["prompt"]: r.key for r in image_api.requests[1:]}
    assert used == {
        "a fox on this server": SERVER_KEY,
        "a fox on the other server": OPERATOR_KEY,
        "a fox in a DM": OPERATOR_KEY,
    }
    assert [r.status for r in image_api.requests] == [400, 200, 200, 200]  # the probe is refused, by design
    assert SERVER_KEY not in everything_sent(discord_fake)


async def test_a_rejected_key_is_explained_privately_and_not_saved(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(secret_key=SECRET)
    admin = discord_fake.add_member("boss", manage_guild=True)

    text = await enter_key(discord_fake, admin, "sk-not-a-key-the-service-knows-42")
    assert text.startswith("❌") and "rejected this key (HTTP 401" in text and "Nothing was saved" in text
    assert "sk-not-a-key-the-service-knows-42" not in everything_sent(discord_fake)
    assert await harness.store.keys.get(int(discord_fake.guild_id)) is None
    await imagine(discord_fake, discord_fake.add_member(), "still the bot's key")
    assert image_api.requests[-1].key == OPERATOR_KEY


async def test_a_key_for_a_model_the_account_lacks_is_not_saved(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    image_api.models = ("seedream-4-0-250828",)  # a BytePlus account: the bot's Ark model id is unknown to it
    harness = await start_bot(secret_key=SECRET)
    text = await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY)
    assert "The key works, but the model" in text and "HTTP 404" in text and "Nothing was saved" in text
    assert await harness.store.keys.get(int(discord_fake.guild_id)) is None


async def test_status_shows_the_last_four_characters_and_the_host_only(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    await start_bot(secret_key=SECRET)
    admin = discord_fake.add_member("boss", manage_guild=True)
    before = await key_action(discord_fake, admin, "status")
    assert "no API key of its own" in before and "the bot's key" in before

    await enter_key(discord_fake, admin, SERVER_KEY, image_api.relay_base_url)
    status = await key_action(discord_fake, admin, "status")
    host = image_api.origin.removeprefix("http://")
    assert "ending in `80aa`" in status and f"`{host}`" in status and f"<@{admin.id}>" in status
    assert SERVER_KEY[:-4] not in status and "⚠️" not in status


async def test_a_relay_base_url_is_used_for_that_servers_jobs(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    await start_bot(secret_key=SECRET)
    await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY, image_api.relay_base_url)
    await imagine(discord_fake, discord_fake.add_member(), "through the relay")
    assert [(r.path, r.key) for r in image_api.requests] == [
        ("/v1/images/generations", SERVER_KEY),  # the probe
        ("/v1/images/generations", SERVER_KEY),
    ]


async def test_a_removed_key_sends_the_servers_jobs_back_to_the_bots_key(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    harness = await start_bot(secret_key=SECRET)
    admin = discord_fake.add_member("boss", manage_guild=True)
    await enter_key(discord_fake, admin, SERVER_KEY)

    removed = await key_action(discord_fake, admin, "remove")
    assert "Removed" in removed and "`80aa`" in removed and "the bot's key" in removed
    assert await harness.store.keys.get(int(discord_fake.guild_id)) is None
    assert "nothing was removed" in await key_action(discord_fake, admin, "remove")
    await imagine(discord_fake, discord_fake.add_member(), "after the removal")
    assert image_api.requests[-1].key == OPERATOR_KEY

    audit = await answer(discord_fake, await discord_fake.slash(admin, "imagine-admin audit"))
    assert "set api key" in audit and "remove api key" in audit and SERVER_KEY not in audit


async def test_without_secret_key_no_key_is_stored_and_the_admin_is_told_why(
    discord_fake, image_api, start_bot
) -> None:
    await start_bot()  # SECRET_KEY unset
    opened = await discord_fake.slash(discord_fake.add_member(manage_guild=True), "imagine-admin api-key")
    text = await answer(discord_fake, opened)
    assert opened.response_type == 4 and opened.modal is None, "no form opens"
    assert "SECRET_KEY" in text and "can't store" in text


async def test_members_without_manage_server_cannot_use_the_command(discord_fake, image_api, start_bot) -> None:
    await start_bot(secret_key=SECRET)
    member = discord_fake.add_member()
    for action in ("set", "status", "remove"):
        text = await key_action(discord_fake, member, action)
        assert "You don't have permission" in text


async def test_a_base_url_to_an_internal_address_is_refused(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    harness = await start_bot(secret_key=SECRET)
    admin = discord_fake.add_member(manage_guild=True)
    for url, reason in [
        ("http://relay.example/v1", "must start with https://"),
        ("https://127.0.0.1:8443/v1", "not a private or local address"),
        ("https://169.254.169.254/latest", "not a private or local address"),
        ("https://[::ffff:10.0.0.1]/v1", "not a private or local address"),
        ("https://localhost/v1", "not a local or internal one"),
        ("https://user:pw@relay.example/v1", "user:password@"),
        ("https://relay.example/v1?x=1", "query"),
    ]:
        text = await enter_key(discord_fake, admin, SERVER_KEY, url)
        assert reason in text and "Nothing was saved" in text, (url, text)
    assert image_api.requests == [], "nothing was sent anywhere"
    assert await harness.store.keys.get(int(discord_fake.guild_id)) is None


async def test_the_database_file_never_holds_the_key_in_clear(discord_fake, image_api, start_bot, tmp_path) -> None:
    image_api.accept_key(SERVER_KEY)
    harness = await start_bot(secret_key=SECRET)
    await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY)
    await imagine(discord_fake, discord_fake.add_member(), "a job on the server's key")
    await job_done(harness)
    assert image_api.requests[-1].key == SERVER_KEY

    rows = await export_rows(f"sqlite:///{tmp_path / 'bot.db'}", int(discord_fake.guild_id), 0, 2e9)
    assert rows and SERVER_KEY not in repr(rows), "the CSV export holds jobs, never a key"
    raw = raw_database_bytes(Path(tmp_path / "bot.db"))
    assert b"guild_api_keys" in raw and b"80aa" in raw, "the row is there (its hint in clear)"
    assert SERVER_KEY.encode() not in raw and SERVER_KEY[:-4].encode() not in raw
    assert SECRET.encode() not in raw


async def test_a_key_revoked_after_saving_is_the_servers_to_fix(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    await start_bot(secret_key=SECRET)
    await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY)
    image_api.revoke_key(SERVER_KEY)  # revoked in the provider's console
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a fox")
    message = await final_original(discord_fake, interaction)
    assert "This server's image API key was rejected" in message.content
    assert "`/imagine-admin api-key`" in message.content and "IMAGE_API_KEY" not in message.content
    assert [r.status for r in image_api.requests] == [400, 401], "a rejected key is not retried"


async def test_metered_jobs_also_use_the_servers_key(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    harness = await start_bot(secret_key=SECRET, metrics_port=9999)  # the port only switches metrics on here
    assert harness.services is not None and harness.services.metrics.enabled
    await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY)
    await imagine(discord_fake, discord_fake.add_member(), "a metered fox")
    assert image_api.requests[-1].key == SERVER_KEY
    assert SERVER_KEY.encode() not in harness.services.metrics.exposition()
