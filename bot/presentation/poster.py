"""Deliveries that post a job's images into Discord as they arrive.

`PagedPoster` holds what every delivery shares (the status line, pages of ten images, the summary and
the result buttons); `ResultPoster` answers a slash command or a button through its interaction, and
`MessagePoster` (in `message_poster.py`) answers a plain message with the bot token.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.errors import ContentBlocked
from bot.jobs.model import Outcome, OutputImage, Posted, Progress
from bot.presentation import text
from bot.presentation.replies import token_expired
from bot.settings import Settings

log = logging.getLogger(__name__)

IMAGES_PER_MESSAGE = 10
MIN_EDIT_GAP = 2.0

ButtonsFactory = Callable[[Outcome], "discord.ui.View | None"]


@dataclass(slots=True)
class _Page:
    """One message holding up to ten images of the set."""

    message: Any  # InteractionMessage, WebhookMessage or Message: all have .edit(attachments=…)
    via_token: bool
    first: int
    attachments: list[discord.Attachment] = field(default_factory=list)


class PagedPoster:
    """A `Delivery` without the transport: subclasses say how to post a page and edit the status."""

    def __init__(
        self,
        *,
        prompt: str,
        size_label: str,
        upload_limit: int,
        requester: str,
        buttons: ButtonsFactory | None = None,
        preface: str | None = None,
    ) -> None:
        self.prompt = prompt
        self.size_label = size_label
        self.upload_limit = upload_limit
        self.requester = requester
        self.preface = preface
        self._buttons = buttons
        self._pages: list[_Page] = []
        self._lock = asyncio.Lock()
        self._last_edit = 0.0
        self._latest: Progress | None = None  # the newest progress, shown at the end of the throttle window
        self._trailing: asyncio.Task[None] | None = None
        self._finished = False
        self._progress_text = ""
        self._shown: tuple[object, ...] = ()  # what the status line shows, but its elapsed time
        self._requested = 1

    async def progress(self, progress: Progress, *, refresh: bool = False) -> None:
        """Show the job's progress: nothing when only its elapsed time changed (unless `refresh`: the runner's
        heartbeat), at most one edit per MIN_EDIT_GAP whatever changed (a change inside the window is shown at
        its end, the latest one only), and none when the status line would read the same."""
        if not refresh and _state(progress) == self._shown:
            return
        self._latest = Progress(
            progress.job_id,
            progress.requested,
            progress.delivered,
            progress.failed,
            progress.started,
            progress.queue_position,
            progress.paused,
        )
        wait = self._last_edit + MIN_EDIT_GAP - time.monotonic()
        if wait > 0 and not progress.paused:  # a restart notice is never held back
            if self._trailing is None or self._trailing.done():
                self._trailing = asyncio.create_task(self._show_later(wait))
            return
        await self._show_latest()

    async def _show_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        try:
            await self._show_latest()
        except Exception:
            log.warning("a delayed status edit failed", exc_info=True)

    async def _show_latest(self) -> None:
        async with self._lock:
            if self._latest is None or self._finished:
                return
            line = text.progress_line(self._latest)
            if line == self._progress_text:
                return
            self._progress_text, self._shown = line, _state(self._latest)
            await self._edit_status(self._status_content())
            self._last_edit = time.monotonic()

    async def deliver(self, image: OutputImage, progress: Progress) -> Posted:
        """Attach the image to the current page, or start a new page."""
        async with self._lock:
            self._requested = progress.requested
            progress_after = Progress(
                progress.job_id, progress.requested, progress.delivered + 1, progress.failed, progress.started
            )
            self._progress_text, self._shown = text.progress_line(progress_after), _state(progress_after)
            buffer = io.BytesIO(image.data)
            file = discord.File(
                buffer,
                filename=f"seedream_{progress.job_id}_{image.position + 1}.jpg",
                description=text.alt_text(self.prompt),
            )
            try:
                message = await self._add_to_page(self._open_page(), file, image.position)
            finally:
                buffer.close()  # frees the upload's copy now, not when aiohttp's request objects are collected
            attachment = message.attachments[-1] if message.attachments else None
            self._last_edit = time.monotonic()
            return Posted(message.id, message.channel.id, attachment.url if attachment else None)

    async def finish(self, outcome: Outcome) -> None:
        """Replace the status line with the summary (or the error), with the result buttons."""
        async with self._lock:
            self._finished = True  # a delayed progress edit must not cover the summary
            self._progress_text = ""
            final = self._with_preface(text.summary(self.prompt, self.requester, self.size_label, outcome))
            if blocked_before_any_image(outcome) and await self._finish_privately(final):
                return  # the safety filter's verdict is the member's business: no public card, no Reroll
            view = None
            if self._buttons is not None:
                view = self._buttons(outcome)
                final += f"\n-# Job #{outcome.job_id} · `/job {outcome.job_id}` brings it back"
            if not await self._edit_status(final, final=True, view=view):
                await self._channel_send(content=final, **({"view": view} if view is not None else {}))

    async def retire(self) -> None:
        """Make no more updates; a worker's poster owns the status line from now on."""
        self._finished = True
        if self._trailing is not None:
            self._trailing.cancel()
        async with self._lock:  # an edit under way lands before the caller goes on
            pass

    # Transport: what subclasses provide ---------------------------------------------------------------

    async def _finish_privately(self, content: str) -> bool:
        """Remove the public status and tell only the member; False when this transport cannot."""
        return False

    def _page_writable(self, page: _Page) -> bool:
        """Whether a page may still be edited to add an image."""
        return True

    def _page_lost(self, page: _Page, error: discord.HTTPException) -> bool:
        """Whether a failed page edit means "start a new page" rather than a real failure."""
        return False

    async def _post_page(self, first: bool, content: str, file: discord.File) -> tuple[Any, bool]:
        """Post a new page; returns the message and whether it was sent through an interaction token."""
        raise NotImplementedError

    async def _edit_status(self, content: str, *, final: bool = False, view: discord.ui.View | None = None) -> bool:
        """Edit the message that carries the status; False when only a new message could show it."""
        raise NotImplementedError

    async def _channel_send(self, **kwargs: Any) -> discord.Message:
        """Post a plain channel message (a reply where possible)."""
        raise NotImplementedError

    # Pages -----------------------------------------------------------------------------------------

    def _open_page(self) -> _Page | None:
        if not self._pages:
            return None
        page = self._pages[-1]
        if len(page.attachments) >= IMAGES_PER_MESSAGE or not self._page_writable(page):
            return None
        return page

    async def _add_to_page(self, page: _Page | None, file: discord.File, position: int) -> Any:
        if page is not None:
            try:
                message = await page.message.edit(
                    content=self._page_content(page, extra=1), attachments=[*page.attachments, file]
                )
                page.attachments = list(message.attachments)
                return message
            except discord.HTTPException as error:
                if not self._page_lost(page, error):
                    raise
                file.reset()
        return await self._new_page(file, position)

    async def _new_page(self, file: discord.File, position: int) -> Any:
        first = not self._pages
        page = _Page(message=None, via_token=False, first=position)
        message, page.via_token = await self._post_page(first, self._page_content(page, extra=1), file)
        page.message = message
        page.attachments = list(message.attachments)
        self._pages.append(page)
        return message

    def _page_content(self, page: _Page, extra: int = 0) -> str:
        if page.first == 0:
            return self._status_content()
        last = page.first + len(page.attachments) + extra
        return text.page_header(self.prompt, page.first + 1, last, self._requested)

    def _status_content(self) -> str:
        head = self._with_preface(text.header(self.prompt, self.requester))
        return f"{head}\n{self._progress_text}" if self._progress_text else head

    def _with_preface(self, content: str) -> str:
        return f"{self.preface}\n{content}" if self.preface else content


def _state(progress: Progress) -> tuple[object, ...]:
    """What a status line says, but its elapsed time."""
    return (progress.paused, progress.queue_position, progress.requested, progress.delivered, progress.failed)


def blocked_before_any_image(outcome: Outcome) -> bool:
    """Whether the safety filter refused the request before a single image was made."""
    return outcome.delivered == 0 and isinstance(outcome.error, ContentBlocked)


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

    def _page_writable(self, page: _Page) -> bool:
        return not (page.via_token and not self.token_alive())

    def _page_lost(self, page: _Page, error: discord.HTTPException) -> bool:
        if page.via_token and token_expired(error):
            self._token_deadline = 0.0
            return True
        return False

    async def _post_page(self, first: bool, content: str, file: discord.File) -> tuple[Any, bool]:
        if self.token_alive():
            try:
                if first:
                    return await self.interaction.edit_original_response(content=content, attachments=[file]), True
                return await self.interaction.followup.send(content=content, file=file, wait=True), True
            except discord.HTTPException as error:
                if not token_expired(error):
                    raise
                self._token_deadline = 0.0
                file.reset()
        return await self._channel_send(content=content, file=file), False

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

    async def _edit_status(self, content: str, *, final: bool = False, view: discord.ui.View | None = None) -> bool:
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        if self.token_alive():
            try:
                await self.interaction.edit_original_response(content=content, **extra)
                return True
            except discord.HTTPException as error:
                if not token_expired(error):
                    raise
                self._token_deadline = 0.0
        first = self._pages[0] if self._pages else None
        if first is not None and not first.via_token and not final:
            await first.message.edit(content=content)
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
