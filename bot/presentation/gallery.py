"""Result messages as Discord shows them: a set in a media gallery (components v2), one image as an attachment.

A set's message is a `LayoutView`: a text display (the status line, later the summary), a media gallery of up to
ten of the message's own files (`attachment://<name>`, each with its alt text), then the controls as action rows.
A single image stays a plain message (content and one attachment, shown full size) with its buttons below.

Discord leaves the files that components show out of a message's `attachments`, so everything that reads a
result message back (recovery, the buttons, Blend) goes through `images_of`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import discord

Controls = list[list[discord.ui.Item[Any]]]  # rows of buttons or one select, top to bottom
IMAGES_PER_MESSAGE = 10  # a media gallery holds 1–10 items, a message 10 files


def filename_of(url: str) -> str:
    """The file name at the end of an attachment URL."""
    return unquote(posixpath.basename(urlsplit(url).path.rstrip("/")))


@dataclass(frozen=True, slots=True)
class GalleryImage:
    """One item of a gallery: a file of the same message (by name) or, with `url`, an image elsewhere."""

    filename: str
    description: str | None
    url: str | None = None

    @property
    def media(self) -> str:
        """What the item's `media.url` says."""
        return self.url or f"attachment://{self.filename}"


@dataclass(frozen=True, slots=True)
class ShownImage:
    """An image a message shows: one of its attachments, or an item of one of its media galleries."""

    filename: str
    url: str
    attachment_id: int | None
    description: str | None
    content_type: str | None
    size: int | None  # unknown for a gallery item
    in_gallery: bool


class KeptFile:
    """A file an edit keeps on its message: Discord needs its id (discord.py sends each one's `to_dict()`)."""

    def __init__(self, attachment_id: int, filename: str) -> None:
        self.id = attachment_id
        self.filename = filename

    def to_dict(self) -> dict[str, Any]:
        """The attachment entry of the edit."""
        return {"id": self.id, "filename": self.filename}


def plain_view(controls: Controls) -> discord.ui.View:
    """The controls as a legacy view (for a message with content)."""
    view = discord.ui.View(timeout=None)
    for row in controls:
        for item in row:
            view.add_item(item)
    return view


def layout(text: str, images: Sequence[GalleryImage], controls: Controls | None = None) -> discord.ui.LayoutView:
    """Text, then the images as a media gallery, then the controls."""
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(discord.ui.TextDisplay(text))
    if images:
        items = [discord.MediaGalleryItem(image.media, description=image.description) for image in images]
        view.add_item(discord.ui.MediaGallery(*items))
    for row in controls or []:
        view.add_item(discord.ui.ActionRow(*row))
    return view


@dataclass(frozen=True, slots=True)
class Body:
    """What one result message shows. `images` None: a plain message (content, attachments, a legacy view)."""

    text: str
    images: tuple[GalleryImage, ...] | None = None
    controls: Controls | None = None

    def new(self, file: discord.File | None = None) -> dict[str, Any]:
        """Keyword arguments for `send` (a new message)."""
        fields = self._fields()
        if self.images is not None:
            fields.pop("content")  # a v2 message may not carry content at all
        if file is not None:
            fields["file"] = file
        return fields

    def edit(self, attachments: Sequence[Any] | None = None) -> dict[str, Any]:
        """Keyword arguments for `edit`; `attachments` are the files the message keeps or gets (all of them).

        A gallery replaces the whole layout and resets `content`, which is also how a plain status message
        becomes a gallery (Discord lets an edit set the components-v2 flag only when content is reset).
        """
        fields = self._fields()
        if attachments is not None:
            fields["attachments"] = list(attachments)
        return fields

    def _fields(self) -> dict[str, Any]:
        if self.images is None:
            plain: dict[str, Any] = {"content": self.text}
            if self.controls is not None:
                plain["view"] = plain_view(self.controls)
            return plain
        return {"content": None, "view": layout(self.text, self.images, self.controls)}


def body_of(message: discord.Message, text: str | None = None, controls: Controls | None = None) -> Body:
    """The body that shows `message` again with new text (None: its own) and controls (None: none)."""
    if not message.flags.components_v2:
        return Body(message.content if text is None else text, None, controls)
    shown = tuple(
        GalleryImage(i.filename, i.description, url=None if i.attachment_id is not None else i.url)
        for i in images_of(message)
        if i.in_gallery
    )
    return Body(text_of(message) if text is None else text, shown, controls)


def text_of(message: discord.Message) -> str:
    """What a message reads: its content, or its text displays."""
    texts = [c.content for c in _walk(message.components) if isinstance(c, discord.TextDisplay)]
    return "\n".join(texts) if texts else message.content


def images_of(message: discord.Message) -> list[ShownImage]:
    """Every image the message shows: its attachments, then its gallery items (files of the message first)."""
    shown = [
        ShownImage(a.filename, a.url, a.id, a.description, a.content_type, a.size, in_gallery=False)
        for a in message.attachments
    ]
    for component in _walk(message.components):
        if not isinstance(component, discord.MediaGalleryComponent):
            continue
        for item in component.items:
            media = item.media
            shown.append(
                ShownImage(
                    filename_of(media.url),
                    media.url,
                    media.attachment_id,
                    item.description,
                    media.content_type,
                    None,
                    in_gallery=True,
                )
            )
    return shown


def kept_files(shown: list[ShownImage]) -> list[KeptFile]:
    """A message's files (its `images_of`), as an edit lists them to keep them."""
    return [KeptFile(i.attachment_id, i.filename) for i in shown if i.attachment_id is not None]


def _walk(components: Sequence[Any]) -> Iterator[Any]:
    for component in components:
        yield component
        yield from _walk(getattr(component, "children", None) or [])
