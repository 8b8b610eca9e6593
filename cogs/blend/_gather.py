"""Finding the images of a message: attachments, the images of its media galleries, and image embeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

import discord

from bot.errors import BadAttachment
from bot.i18n import _
from bot.presentation.gallery import filename_of, images_of
from bot.presentation.launch import PendingReference
from bot.references import too_large
from cogs.imagine import IMAGE_TYPES

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")


@dataclass(slots=True)
class Found:
    """Images found in one or more messages, and how many other files were skipped."""

    images: list[PendingReference] = field(default_factory=list)
    skipped: int = 0

    def __iadd__(self, other: Found) -> Found:
        self.images.extend(other.images)
        self.skipped += other.skipped
        return self


def is_image(attachment: discord.Attachment) -> bool:
    """Whether an attachment is an image format the bot can use."""
    return _image_type(attachment.content_type, attachment.filename)


def _image_type(content_type: str | None, filename: str) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind:
        return kind in IMAGE_TYPES
    return PurePosixPath(filename.lower()).suffix in IMAGE_EXTENSIONS


def images_in(message: discord.Message, max_bytes: int) -> Found:
    """The usable images of a message, in order: attachments first, then gallery images, then image embeds."""
    found = Found()
    for attachment in message.attachments:
        if not is_image(attachment):
            found.skipped += 1
            continue
        if attachment.size > max_bytes:
            raise BadAttachment(too_large(attachment.filename, max_bytes))
        found.images.append(PendingReference(attachment.filename, url=attachment.url))
    for shown in (image for image in images_of(message) if image.in_gallery):  # a set the bot posted, say
        if not _image_type(shown.content_type, shown.filename):
            found.skipped += 1
            continue
        found.images.append(PendingReference(shown.filename, url=shown.url))
    for embed in message.embeds:
        url = _embed_image(embed)
        if url:
            found.images.append(PendingReference(filename_of(url) or _("embedded image"), url=url))
    return found


def _embed_image(embed: discord.Embed) -> str | None:
    """The Discord-proxied URL of an embed's image (link previews of pictures, or image embeds)."""
    for media in (embed.image, embed.thumbnail if embed.type == "image" else None):
        if media is not None and media.proxy_url:  # never the plain external URL: only Discord's proxy
            return media.proxy_url
    return None
