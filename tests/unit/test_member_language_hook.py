"""Every interaction's handlers run in the member's language with no handler asking for it: slash commands,
dynamic-item buttons and modal submits (a real discord.py client against the fake Discord)."""

from __future__ import annotations

import discord

from bot.i18n import _
from bot.presentation.speaking import speak_members_language
from tests.unit.test_fake_discord import FeedbackModal, RegenButton, make_fake, start_bot

__all__ = ["make_fake", "start_bot"]  # the fixtures, shared with the fake's own tests

TEXT = "Your limits in this server"


async def test_buttons_and_modals_answer_in_the_members_language(make_fake, start_bot, monkeypatch) -> None:
    async def button_says(self: RegenButton, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=_(TEXT), view=None)

    async def modal_says(self: FeedbackModal, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(_(TEXT), ephemeral=True)

    monkeypatch.setattr(RegenButton, "callback", button_says)
    monkeypatch.setattr(FeedbackModal, "on_submit", modal_says)
    fake = await make_fake()
    speak_members_language(await start_bot(fake))
    french, german = fake.add_member("amelie", locale="fr"), fake.add_member("jonas", locale="de")

    reply = await fake.slash(french, "imagine", prompt="fox")
    message = await fake.wait_for(lambda: reply.followups and reply.followups[0])
    click = await fake.click(german, message, "regen:7")
    await click.wait_response()
    assert message.content == "Deine Limits auf diesem Server", "the clicking member's language, not the author's"

    opened = await fake.slash(french, "feedback")
    await opened.wait_response()
    submitted = await fake.submit_modal(french, opened, {"text": "lovely"})
    await submitted.wait_response()
    assert submitted.content == "Vos limites sur ce serveur"
