"""ResultPoster: answers a job started from an interaction, through its token while valid, then in the channel."""

from __future__ import annotations

import time
from typing import Any

import discord

from bot.presentation.gallery import Body, Controls
from bot.presentation.poster import ButtonsFactory, Page, PagedPoster
from bot.presentation.replies import token_expired
from bot.settings import Settings


class ResultPoster(PagedPoster):
    """A `Delivery` for one interaction; switches to channel replies before the token expires."""

    def __init__(
        self,
        interaction: discord.Interaction,
        *,
        prompt: str,
        size_label: str,
        token_ttl: float,
        safety_margin: float,
        original_id: int | None = None,
        started: float | None = None,
        buttons: ButtonsFactory | None = None,
        preface: str | None = None,
    ) -> None:
        super().__init__(
            prompt=prompt,
            size_label=size_label,
            upload_limit=interaction.filesize_limit,
            requester=interaction.user.mention,
            buttons=buttons,
            preface=preface,
        )
        self.interaction = interaction
        started = time.monotonic() if started is None else started
        self._token_deadline = started + max(0.0, token_ttl - safety_margin)
        self._original_id = original_id

    @classmethod
    def after_defer(
        cls,
        interaction: discord.Interaction,
        callback: Any,
        settings: Settings,
        *,
        prompt: str,
        size_label: str,
        started: float | None = None,
        buttons: ButtonsFactory | None = None,
        preface: str | None = None,
    ) -> ResultPoster:
        """The poster for an interaction just deferred publicly (`callback` is what the defer returned)."""
        return cls(
            interaction,
            prompt=prompt,
            size_label=size_label,
            token_ttl=settings.interaction_token_ttl,
            safety_margin=settings.token_safety_margin,
            original_id=getattr(callback, "message_id", None),
            started=started,
            buttons=buttons,
            preface=preface,
        )

    def token_alive(self) -> bool:
        """Whether interaction-token calls may still be made."""
        return time.monotonic() < self._token_deadline

    def token_dead(self) -> None:
        """Discord said the token expired: post in the channel from now on."""
        self._token_deadline = 0.0

    def _page_writable(self, page: Page) -> bool:
        return not (page.via_token and not self.token_alive())

    def _page_lost(self, page: Page, error: discord.HTTPException) -> bool:
        if page.via_token and token_expired(error):
            self._token_deadline = 0.0
            return True
        return False

    def _status_page(self) -> Page | None:
        return self._pages[0] if self._pages and self._pages[0].via_token else None  # else a channel reply

    async def _post_page(self, first: bool, body: Body, file: discord.File) -> tuple[Any, bool]:
        if self.token_alive():
            try:
                if first:
                    return await self.interaction.edit_original_response(**body.edit(attachments=[file])), True
                return await self.interaction.followup.send(**body.new(file), wait=True), True
            except discord.HTTPException as error:
                if not token_expired(error):
                    raise
                self._token_deadline = 0.0
                file.reset()
        return await self._channel_send(**body.new(file)), False

    async def _finish_privately(self, content: str) -> bool:
        if self._pages or not self.token_alive():
            return False
        try:
            await self.interaction.delete_original_response()  # first, so the follow-up is a new, private message
            await self.interaction.followup.send(content, ephemeral=True)
            return True
        except discord.HTTPException as error:
            if not token_expired(error):
                raise
            self._token_deadline = 0.0
            return False

    async def _edit_status(self, content: str, *, final: bool = False, controls: Controls | None = None) -> bool:
        if self.token_alive():
            try:
                await self.interaction.edit_original_response(**self._status_body(content, controls).edit())
                return True
            except discord.HTTPException as error:
                if not token_expired(error):
                    raise
                self._token_deadline = 0.0
        first = self._pages[0] if self._pages else None
        if first is not None and not first.via_token and not final:
            await first.message.edit(**self._body(first, text=content).edit())
            return True
        return not final  # progress is not worth a new message once the token is gone

    async def _channel_send(self, **kwargs: Any) -> discord.Message:
        channel = self.interaction.channel
        if not isinstance(channel, discord.abc.Messageable):
            raise RuntimeError("interaction has no messageable channel")
        if self._original_id is not None and self.interaction.channel_id is not None:
            kwargs["reference"] = discord.MessageReference(
                message_id=self._original_id,
                channel_id=self.interaction.channel_id,
                guild_id=self.interaction.guild_id,
                fail_if_not_exists=False,
            )
        return await channel.send(**kwargs)
