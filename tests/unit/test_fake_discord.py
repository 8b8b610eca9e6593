"""Self-tests of tests/fakes/discord.py: a real discord.py bot talks to the fake over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands
from PIL import Image

from tests.fakes.discord import FakeDiscord, FakeMessage

pytestmark = pytest.mark.asyncio

MakeFake = Callable[..., Awaitable[FakeDiscord]]
StartBot = Callable[..., Awaitable["MiniBot"]]


def png(width: int = 8, height: int = 6) -> bytes:
    """A small real PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


class RegenButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"regen:(?P<job>\d+)"):
    """A restart-proof button that rewrites its message."""

    def __init__(self, job: int) -> None:
        super().__init__(discord.ui.Button(label="Again", custom_id=f"regen:{job}"))
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> RegenButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"regenerating {self.job}", view=None)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Text", custom_id="text", max_length=50)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


@app_commands.command(description="Generate an image")
async def imagine(
    interaction: discord.Interaction,
    prompt: str,
    count: app_commands.Range[int, 1, 4] = 1,
    image: discord.Attachment | None = None,
) -> None:
    await interaction.response.defer(thinking=True)
    source = await image.read() if image else b""
    view = discord.ui.View(timeout=None)
    view.add_item(RegenButton(7))
    out = discord.File(io.BytesIO(png(4, 4)), "out.png", description="a fox")
    await interaction.followup.send(f"{prompt} x{count} ({len(source)} bytes in)", file=out, view=view)


@app_commands.command(description="Answer privately")
async def secret(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("only you", ephemeral=True)


@app_commands.command(description="Record the interaction and do nothing")
async def hold(interaction: discord.Interaction) -> None:
    interaction.client.held.append(interaction)  # type: ignore[attr-defined]


@app_commands.command(description="Open a modal")
async def feedback(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(FeedbackModal())


admin = app_commands.Group(name="admin", description="Admin tools")


@admin.command(description="Usage stats")
async def stats(interaction: discord.Interaction, days: int) -> None:
    await interaction.response.send_message(f"stats for {days} days")


async def blend(interaction: discord.Interaction, message: discord.Message) -> None:
    await interaction.response.send_message(f"blend {len(message.attachments)}: {message.content}", ephemeral=True)


class MiniBot(commands.Bot):
    """The smallest bot with the shapes the image bot uses."""

    def __init__(self, guild_id: int, intents: discord.Intents) -> None:
        super().__init__(
            command_prefix="!",
            intents=intents,
            guild_ready_timeout=0.05,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.guild = discord.Object(id=guild_id)
        self.held: list[discord.Interaction] = []
        self.received: list[discord.Message] = []
        self.ready_event = asyncio.Event()
        self.connect_task: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        self.add_dynamic_items(RegenButton)
        commands_: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = [imagine, secret, hold, feedback]
        for command in [*commands_, admin]:
            self.tree.add_command(command, guild=self.guild)
        self.tree.add_command(app_commands.ContextMenu(name="Blend", callback=blend), guild=self.guild)
        await self.tree.sync(guild=self.guild)

    async def on_ready(self) -> None:
        self.ready_event.set()

    async def on_message(self, message: discord.Message) -> None:
        if self.user is not None and message.author.id != self.user.id:
            self.received.append(message)


@pytest.fixture
async def make_fake() -> AsyncIterator[MakeFake]:
    fakes: list[FakeDiscord] = []

    async def make(**options: Any) -> FakeDiscord:
        fake = FakeDiscord(**options)
        await fake.start()
        fakes.append(fake)
        return fake

    try:
        yield make
    finally:
        for fake in fakes:
            await fake.close()


@pytest.fixture
async def start_bot(make_fake: MakeFake) -> AsyncIterator[StartBot]:
    original_base = discord.http.Route.BASE
    original_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    running: list[tuple[MiniBot, asyncio.Task[None]]] = []

    async def start(fake: FakeDiscord, *, message_content: bool = False, wait: bool = True) -> MiniBot:
        discord.http.Route.BASE = fake.base_url
        headers = {"Authorization": f"Bot {fake.token}"}
        timeout = aiohttp.ClientTimeout(total=5)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{fake.base_url}/gateway/bot", headers=headers) as response,
        ):
            gateway = (await response.json())["url"]
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
        intents = discord.Intents.default()
        intents.message_content = message_content
        bot = MiniBot(int(fake.guild_id), intents)
        await bot.login(fake.token)
        task = bot.connect_task = asyncio.create_task(bot.connect(reconnect=True))
        running.append((bot, task))
        if wait:
            await fake.wait_ready(5)
            await asyncio.wait_for(bot.ready_event.wait(), 5)
        return bot

    try:
        yield start
    finally:
        for bot, task in running:
            await asyncio.wait_for(bot.close(), 5)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
        discord.http.Route.BASE = original_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = original_gateway


async def held_interaction(fake: FakeDiscord, bot: MiniBot) -> discord.Interaction:
    """Run /hold and return discord.py's Interaction object for it."""
    user = fake.add_member("holder")
    await fake.slash(user, "hold")
    interaction: discord.Interaction = await fake.wait_for(lambda: bot.held[-1] if bot.held else None, 5)
    return interaction


async def test_bot_connects_syncs_and_becomes_ready(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake)

    assert bot.user is not None and str(bot.user.id) == fake.bot_user["id"]
    assert bot.application_id == int(fake.application_id)
    guild = bot.get_guild(int(fake.guild_id))
    assert guild is not None and guild.get_channel(int(fake.channel_id)) is not None
    paths = [f"{r.method} {r.path}" for r in fake.requests]
    assert paths[:3] == ["GET /gateway/bot", "GET /users/@me", "GET /oauth2/applications/@me"]
    assert f"PUT /applications/{fake.application_id}/guilds/{fake.guild_id}/commands" in paths
    assert all(r.authorized for r in fake.requests)
    names = {c["name"] for c in fake.commands[fake.guild_id]}
    assert names == {"imagine", "secret", "hold", "feedback", "admin", "Blend"}
    assert fake.connections[0].intents == discord.Intents.default().value
    assert fake.unhandled == []


async def test_slash_options_reach_the_command_and_followup_file_is_recorded(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake()
    await start_bot(fake)
    user = fake.add_member("al")
    source = fake.add_attachment(png(), "in.png")

    reply = await fake.slash(user, "imagine", prompt="a red fox", count=2, image=source)
    await reply.wait_response()
    message: FakeMessage = await fake.wait_for(lambda: reply.followups and reply.followups[0])

    assert reply.response_type == 5 and not reply.ephemeral
    assert not message.loading and reply.original is message
    assert message.content == f"a red fox x2 ({len(png())} bytes in)"
    [attachment] = message.attachments
    assert (attachment.filename, attachment.description) == ("out.png", "a fox")
    assert attachment.data == png(4, 4) and attachment.content_type == "image/png"
    assert message.custom_ids() == ["regen:7"]
    assert message.allowed_mentions == {"parse": []}
    assert fake.channel_messages() == [message]
    assert any(r.path.startswith("/cdn/attachments/") and r.status == 200 for r in fake.requests)


async def test_slash_rejects_options_the_command_did_not_register(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    await start_bot(fake)
    user = fake.add_member()

    with pytest.raises(AssertionError, match="no option 'style'"):
        await fake.slash(user, "imagine", prompt="x", style="oil")
    with pytest.raises(AssertionError, match="missing required options"):
        await fake.slash(user, "imagine")
    with pytest.raises(AssertionError, match=r"1\.\.4"):
        await fake.slash(user, "imagine", prompt="x", count=9)
    with pytest.raises(AssertionError, match="no synced command"):
        await fake.slash(user, "paint", prompt="x")


async def test_ephemeral_reply_is_hidden_from_the_channel(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    await start_bot(fake)

    reply = await fake.slash(fake.add_member(), "secret")
    await reply.wait_response()

    assert reply.response_type == 4 and reply.ephemeral
    assert reply.content == "only you" and reply.original is not None and reply.original.ephemeral
    assert fake.channel_messages() == []


async def test_subcommand_and_context_menu(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    await start_bot(fake)
    user = fake.add_member()

    stats_reply = await fake.slash(user, "admin stats", days=7)
    target = await fake.send_message(user, "blend me", attachments=[fake.add_attachment(png(), "a.png")])
    blend_reply = await fake.context_menu(user, "Blend", target)
    await stats_reply.wait_response()
    await blend_reply.wait_response()

    assert stats_reply.content == "stats for 7 days"
    assert blend_reply.content == "blend 1: blend me"


async def test_button_click_and_modal_submit(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    await start_bot(fake)
    user = fake.add_member()
    reply = await fake.slash(user, "imagine", prompt="fox")
    message = await fake.wait_for(lambda: reply.followups and reply.followups[0])

    click = await fake.click(user, message, "regen:7")
    await click.wait_response()
    opened = await fake.slash(user, "feedback")
    await opened.wait_response()
    submitted = await fake.submit_modal(user, opened, {"text": "lovely"})
    await submitted.wait_response()

    assert click.response_type == 7 and message.content == "regenerating 7" and message.components == []
    assert opened.response_type == 9 and opened.modal is not None and opened.modal["title"] == "Feedback"
    assert submitted.content == "thanks: lovely" and submitted.ephemeral
    with pytest.raises(AssertionError, match="no component"):
        await fake.click(user, message, "regen:7")


async def test_missed_ack_deadline_raises_not_found(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake(ack_deadline=0.3)
    bot = await start_bot(fake)
    interaction = await held_interaction(fake, bot)

    await asyncio.sleep(0.4)
    with pytest.raises(discord.NotFound) as caught:
        await interaction.response.send_message("too late")

    assert caught.value.code == 10062


async def test_second_callback_is_rejected(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake)
    interaction = await held_interaction(fake, bot)
    await interaction.response.defer()

    second_response = discord.InteractionResponse(interaction)  # bypasses discord.py's own is_done() check
    with pytest.raises(discord.HTTPException) as caught:
        await second_response.defer()

    assert caught.value.code == 40060


async def test_followup_after_token_expiry_is_invalid_webhook_token(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake)
    interaction = await held_interaction(fake, bot)
    await interaction.response.defer()
    fake.expire_token(interaction.token)

    with pytest.raises(discord.HTTPException) as caught:
        await interaction.followup.send("too late")

    assert caught.value.status == 401 and caught.value.code == 50027


async def test_oversized_upload_is_rejected(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake(attachment_size_limit=1024)
    bot = await start_bot(fake)
    interaction = await held_interaction(fake, bot)
    await interaction.response.defer()

    with pytest.raises(discord.HTTPException) as caught:
        await interaction.followup.send(file=discord.File(io.BytesIO(b"x" * 2048), "big.png"))

    assert caught.value.status == 413 and caught.value.code == 40005
    assert fake.requests[-1].files[0].size == 2048


async def test_content_over_2000_characters_is_rejected(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake)
    interaction = await held_interaction(fake, bot)
    channel = bot.get_channel(int(fake.channel_id))
    assert isinstance(channel, discord.TextChannel)

    with pytest.raises(discord.HTTPException) as caught:
        await interaction.response.send_message("x" * 2001)
    with pytest.raises(discord.HTTPException) as caught_channel:
        await channel.send(embed=discord.Embed(title="t" * 257))

    assert caught.value.code == 50035 and "content" in caught.value.text
    assert caught_channel.value.code == 50035 and "embeds.0.title" in caught_channel.value.text
    assert fake.messages == {}


async def test_member_message_reaches_on_message_with_content_blanked(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake)
    user = fake.add_member("al")

    plain = await fake.send_message(user, "hello", attachments=[fake.add_attachment(png(), "a.png")])
    mention = await fake.send_message(user, "draw a cat", mention_bot=True, reply_to=plain)
    await fake.wait_for(lambda: len(bot.received) == 2)

    first, second = bot.received
    assert (first.id, first.content, first.attachments) == (int(plain.id), "", [])
    assert second.id == int(mention.id) and second.content.endswith("draw a cat")
    assert bot.user in second.mentions and second.reference is not None
    resolved = second.reference.resolved
    assert isinstance(resolved, discord.Message) and resolved.content == ""
    fetched = await bot.get_partial_messageable(int(fake.channel_id)).fetch_message(int(plain.id))
    assert fetched.content == ""


async def test_message_content_intent_shows_content(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake, message_content=True)
    user = fake.add_member("al")

    await fake.send_message(user, "hello", attachments=[fake.add_attachment(png(), "a.png")])
    message = await fake.wait_for(lambda: bot.received and bot.received[0])

    assert message.content == "hello" and await message.attachments[0].read() == png()


async def test_unapproved_message_content_intent_closes_4014(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake(message_content_approved=False)
    bot = await start_bot(fake, message_content=True, wait=False)
    assert bot.connect_task is not None

    with pytest.raises(discord.PrivilegedIntentsRequired):
        await asyncio.wait_for(bot.connect_task, 5)
    assert fake.identifies == []


async def test_wrong_token_fails_login(make_fake: MakeFake) -> None:
    fake = await make_fake()
    client = discord.Client(intents=discord.Intents.default())
    original = discord.http.Route.BASE
    discord.http.Route.BASE = fake.base_url
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        discord.http.Route.BASE = original
        await client.close()
    assert [(r.path, r.status, r.authorized) for r in fake.requests] == [("/users/@me", 401, False)]


async def test_rate_limit_is_retried_until_success(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake)
    channel = bot.get_channel(int(fake.channel_id))
    assert isinstance(channel, discord.TextChannel)
    fake.fail_next("POST", r"^/channels/\d+/messages$", 429, times=2, retry_after=0.05)

    sent = await channel.send("hi", file=discord.File(io.BytesIO(b"abc"), "a.txt"))

    posts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert [r.status for r in posts] == [429, 429, 200]
    assert all(r.files[0].data == b"abc" for r in posts)
    assert fake.messages[str(sent.id)].attachments[0].data == b"abc"


async def test_failures_on_other_routes_surface(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake)
    user = fake.add_member()
    attachment = fake.add_attachment(png(), "in.png")
    fake.fail_next("GET", r"^/cdn/attachments/", 404)
    fake.fail_next("GET", r"/channels/\d+$", 403, code=50001)

    reply = await fake.slash(user, "imagine", prompt="x", image=attachment)
    await reply.wait_response()
    with pytest.raises(discord.Forbidden) as caught:
        await bot.fetch_channel(int(fake.channel_id))

    assert caught.value.code == 50001
    await fake.wait_for(lambda: any(r.path.startswith("/cdn/") and r.status == 404 for r in fake.requests))
    assert reply.followups == [] and reply.original is not None and reply.original.loading


async def test_dropped_gateway_reconnects(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake)

    await fake.drop_connections()
    await fake.wait_for(lambda: len(fake.identifies) == 2, 10)
    await fake.wait_ready(5)
    reply = await fake.slash(fake.add_member(), "secret")
    await reply.wait_response()

    assert reply.content == "only you" and not bot.is_closed()


async def test_gateway_protocol_over_a_raw_websocket(make_fake: MakeFake) -> None:
    fake = await make_fake()
    url = fake.gateway_url + "?v=10&encoding=json&compress=zlib-stream"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async with session.ws_connect(url) as ws:
            hello = await ws.receive_json(timeout=5)
            await ws.send_json({"op": 1, "d": None})
            ack = await ws.receive_json(timeout=5)
            await ws.send_json({"op": 6, "d": {"token": fake.token, "session_id": "old", "seq": 3}})
            invalid = await ws.receive_json(timeout=5)
            await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 513, "properties": {}}})
            ready, guild = await ws.receive_json(timeout=5), await ws.receive_json(timeout=5)
        async with session.ws_connect(url) as ws:
            await ws.receive_json(timeout=5)
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 513, "properties": {}}})
            await ws.receive(timeout=5)
            wrong_token_close = ws.close_code

    assert (hello["op"], hello["d"]["heartbeat_interval"], ack["op"]) == (10, 41250, 11)
    assert (invalid["op"], invalid["d"]) == (9, False)
    assert [(f["t"], f["s"]) for f in (ready, guild)] == [("READY", 1), ("GUILD_CREATE", 2)]
    assert ready["d"]["resume_gateway_url"] == fake.gateway_url
    assert ready["d"]["guilds"] == [{"id": fake.guild_id, "unavailable": True}]
    assert {c["id"] for c in guild["d"]["channels"]} == {fake.channel_id}
    assert wrong_token_close == 4004
    assert [i["intents"] for i in fake.identifies] == [513]
