"""MessagePoster: delivers a job started from a plain message (no interaction token) with the bot token."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.presentation.gallery import Body, Controls
from bot.presentation.poster import ButtonsFactory, PagedPoster

log = logging.getLogger(__name__)


def upload_limit_for(message: discord.Message) -> int:
    """The largest file the bot may upload where `message` was posted."""
    if message.guild is not None:
        return message.guild.filesize_limit
    return discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES


class MessagePoster(PagedPoster):
    """Replies to the member's message: the status reply becomes the first page, later pages are replies too."""

    def __init__(
        self,
        request: discord.Message | discord.PartialMessage,
        status: discord.Message | discord.PartialMessage | None,
        *,
        requester: str,
        upload_limit: int,
        prompt: str,
        size_label: str,
        buttons: ButtonsFactory | None = None,
        preface: str | None = None,
    ) -> None:
        super().__init__(
            prompt=prompt,
            size_label=size_label,
            upload_limit=upload_limit,
            requester=requester,
            buttons=buttons,
            preface=preface,
        )
        self.request = request  # a full message in the process that saw it, a partial one in a worker
        self._status: discord.Message | discord.PartialMessage | None = status

    async def _post_page(self, first: bool, body: Body, file: discord.File) -> tuple[Any, bool]:
        if first and self._status is not None:
            try:
                return await self._status.edit(**body.edit(attachments=[file])), False
            except discord.NotFound:
                log.info("the status message of a reply job was deleted; posting a new reply")
                self._status = None
                file.reset()
        message = await self._channel_send(**body.new(file))
        if first:
            self._status = message
        return message, False

    async def _edit_status(self, content: str, *, final: bool = False, controls: Controls | None = None) -> bool:
        if self._status is None:
            return not final
        try:
            self._status = await self._status.edit(**self._status_body(content, controls).edit())
            return True
        except discord.NotFound:
            self._status = None
            return not final

    async def _channel_send(self, **kwargs: Any) -> discord.Message:
        reference = self.request.to_reference(fail_if_not_exists=False)
        return await self.request.channel.send(reference=reference, **kwargs)
