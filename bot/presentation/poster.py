"""Deliveries that post a job's images into Discord as they arrive.

`PagedPoster` holds what every delivery shares (the status line, pages of ten images, the summary and
the result buttons); `ResultPoster` (in `result_poster.py`) answers a slash command or a button through its
interaction, and `MessagePoster` (in `message_poster.py`) answers a plain message with the bot token.
A set's pages are media galleries (the status page with the summary above its images and the controls
below); a single image is a plain attachment shown full size (see `gallery.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.errors import ContentBlocked
from bot.i18n import _, speaking
from bot.imagegen.errors import blocked_reworded
from bot.jobs.model import Outcome, OutputImage, Posted, Progress
from bot.presentation import text
from bot.presentation.gallery import IMAGES_PER_MESSAGE, Body, Controls, GalleryImage, KeptFile, images_of, kept_files

log = logging.getLogger(__name__)

MIN_EDIT_GAP = 2.0

ButtonsFactory = Callable[[Outcome], "Controls | None"]


@dataclass(slots=True)
class Page:
    """One message holding up to ten images of the set (a gallery), or the one image of a single job."""

    message: Any  # InteractionMessage, WebhookMessage or Message: all have .edit(attachments=…)
    via_token: bool
    first: int
    gallery: bool
    images: list[GalleryImage] = field(default_factory=list)
    kept: list[KeptFile] = field(default_factory=list)  # its files, as an edit lists them to keep them

    def took(self, message: Any, image: GalleryImage) -> str | None:
        """Discord accepted `image` on this page; the URL it gave the image's file."""
        self.images.append(image)
        shown = images_of(message)
        self.kept = kept_files(shown)
        return next((each.url for each in shown if each.filename == image.filename), None)


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
        self._pages: list[Page] = []
        self._lock = asyncio.Lock()
        self._last_edit = 0.0
        self._latest: Progress | None = None  # the newest progress, shown at the end of the throttle window
        self._trailing: asyncio.Task[None] | None = None
        self._finished = False
        self._progress_text = ""
        self._head: tuple[tuple[str, str, str | None], str] | None = None  # the status line's first line, made once
        self._shown: tuple[object, ...] = ()  # what the status line shows, but its elapsed time
        self._requested = 1
        self._gallery = False  # a set: its pages are media galleries
        self.language: str | None = None  # public texts' language (the job's); None: the caller's language
        self.member_language: str | None = None  # the requester's, for what only they see; None: `language`

    def _speaking(self) -> AbstractContextManager[object]:
        return speaking(self.language) if self.language is not None else contextlib.nullcontext()

    async def progress(self, progress: Progress, *, refresh: bool = False) -> None:
        """Show the job's progress: nothing when only its elapsed time changed (unless `refresh`: the runner's
        heartbeat), at most one edit per MIN_EDIT_GAP whatever changed (a change inside the window is shown at
        its end, the latest one only), and none when the status line would read the same."""
        if not refresh and _state(progress) == self._shown:
            return
        self._latest = dataclasses.replace(progress)  # a snapshot: the runner goes on counting in its own
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
            with self._speaking():
                line = text.progress_line(self._latest)
            if line == self._progress_text:
                return
            self._progress_text, self._shown = line, _state(self._latest)
            await self._edit_status(self._status_content())
            self._last_edit = time.monotonic()

    async def deliver(self, image: OutputImage, progress: Progress) -> Posted:
        """Add the image to the current page, or start a new page."""
        async with self._lock:
            self._requested = progress.requested
            self._gallery = progress.requested > 1
            progress_after = dataclasses.replace(
                progress, delivered=progress.delivered + 1, queue_position=0, paused=False
            )
            with self._speaking():
                self._progress_text = text.progress_line(progress_after)
                name, alt = image.filename(progress.job_id), text.alt_text(self.prompt)
            self._shown = _state(progress_after)
            buffer = io.BytesIO(image.data)
            file = discord.File(buffer, filename=name, description=alt)
            try:
                message, url = await self._add_to_page(self._open_page(), file, GalleryImage(name, alt), image.position)
            finally:
                buffer.close()  # frees the upload's copy now, not when aiohttp's request objects are collected
            self._last_edit = time.monotonic()
            return Posted(message.id, message.channel.id, url)

    async def finish(self, outcome: Outcome) -> None:
        """Replace the status line with the summary (or the error), with the result buttons."""
        async with self._lock:
            self._finished = True  # a delayed progress edit must not cover the summary
            self._progress_text = ""
            if blocked_before_any_image(outcome) and await self._finish_privately(self._private_summary(outcome)):
                return  # the safety filter's verdict is the member's business: no public card, no Reroll
            with self._speaking():
                final = self._with_preface(text.summary(self.prompt, self.requester, self.size_label, outcome))
                controls = None
                if self._buttons is not None:
                    controls = self._buttons(outcome)  # their labels in the job's language too
                    final += "\n-# " + _("Job #{id} · `/job {id}` brings it back").format(id=outcome.job_id)
                if not await self._edit_status(final, final=True, controls=controls):  # a new message, new buttons
                    fresh = self._buttons(outcome) if self._buttons is not None else None
                    await self._channel_send(**Body(final, None, fresh).new())

    def _private_summary(self, outcome: Outcome) -> str:
        """The summary of a job the safety filter blocked, for its requester only: in their language."""
        if self.member_language is None or self.member_language == self.language:
            with self._speaking():
                return self._with_preface(text.summary(self.prompt, self.requester, self.size_label, outcome))
        assert isinstance(outcome.error, ContentBlocked)
        with speaking(self.member_language):  # the public preface is left out: it is in the channel's language
            reworded = dataclasses.replace(outcome, error=blocked_reworded(outcome.error))
            return text.summary(self.prompt, self.requester, self.size_label, reworded)

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

    def _page_writable(self, page: Page) -> bool:
        """Whether a page may still be edited to add an image."""
        return True

    def _page_lost(self, page: Page, error: discord.HTTPException) -> bool:
        """Whether a failed page edit means "start a new page" rather than a real failure."""
        return False

    def _status_page(self) -> Page | None:
        """The page that is the status message, if the status message holds images."""
        return self._pages[0] if self._pages else None

    async def _post_page(self, first: bool, body: Body, file: discord.File) -> tuple[Any, bool]:
        """Post a new page (`first`: on the status message); the message and whether an interaction token sent it."""
        raise NotImplementedError

    async def _edit_status(self, content: str, *, final: bool = False, controls: Controls | None = None) -> bool:
        """Edit the message that carries the status; False when only a new message could show it."""
        raise NotImplementedError

    async def _channel_send(self, **kwargs: Any) -> discord.Message:
        """Post a plain channel message (a reply where possible)."""
        raise NotImplementedError

    # Pages -----------------------------------------------------------------------------------------

    def _open_page(self) -> Page | None:
        if not self._pages:
            return None
        page = self._pages[-1]
        if len(page.images) >= IMAGES_PER_MESSAGE or not self._page_writable(page):
            return None
        return page

    async def _add_to_page(
        self, page: Page | None, file: discord.File, image: GalleryImage, position: int
    ) -> tuple[Any, str | None]:
        """The message now showing `image`, and the URL of its file there."""
        if page is not None:
            try:
                body = self._body(page, adding=image)
                message = await page.message.edit(**body.edit(attachments=[*page.kept, file]))
                return message, page.took(message, image)
            except discord.HTTPException as error:
                if not self._page_lost(page, error):
                    raise
                file.reset()
        page = Page(message=None, via_token=False, first=position, gallery=self._gallery)
        message, page.via_token = await self._post_page(not self._pages, self._body(page, adding=image), file)
        page.message = message
        url = page.took(message, image)
        self._pages.append(page)
        return message, url

    def _body(
        self,
        page: Page,
        *,
        adding: GalleryImage | None = None,
        text: str | None = None,
        controls: Controls | None = None,
    ) -> Body:
        """What `page`'s message shows (with `adding` once its upload is accepted): its text, gallery, controls."""
        images = [*page.images, adding] if adding is not None else page.images
        if text is None:
            text = self._page_text(page, len(images))
        return Body(text, tuple(images) if page.gallery else None, controls)

    def _status_body(self, content: str, controls: Controls | None = None) -> Body:
        """What the status message shows: `content` (and its images, when it is a page)."""
        page = self._status_page()
        return Body(content, None, controls) if page is None else self._body(page, text=content, controls=controls)

    def _page_text(self, page: Page, count: int) -> str:
        if not self._pages or self._pages[0] is page:  # the first page carries the status line and the summary
            return self._status_content()
        with self._speaking():
            return text.page_header(self.prompt, page.first + 1, page.first + count, self._requested)

    def _status_content(self) -> str:
        key = (self.prompt, self.requester, self.preface)
        if self._head is None or self._head[0] != key:  # the prompt is echoed once, not at every edit
            self._head = key, self._with_preface(text.header(self.prompt, self.requester))
        head = self._head[1]
        return f"{head}\n{self._progress_text}" if self._progress_text else head

    def _with_preface(self, content: str) -> str:
        return f"{self.preface}\n{content}" if self.preface else content


def _state(progress: Progress) -> tuple[object, ...]:
    """What a status line says, but its elapsed time (and the time left, which follows from it)."""
    return (
        progress.paused,
        progress.queue_position,
        progress.requested,
        progress.delivered,
        progress.failed,
        progress.expected,
    )


def blocked_before_any_image(outcome: Outcome) -> bool:
    """Whether the safety filter refused the request before a single image was made."""
    return outcome.delivered == 0 and isinstance(outcome.error, ContentBlocked)
