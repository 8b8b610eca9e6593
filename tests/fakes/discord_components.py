"""Components v2 (the IS_COMPONENTS_V2 message flag): what Discord checks, and how media items are resolved.

Sources: developers/components/reference (component types and where each may appear, 40 components in all,
media galleries of 1–10 items with alt text of at most 1024 characters, thumbnails only as a section's
accessory, file components only with `attachment://`), developers/resources/message (with the flag, `content`,
`embeds`, `sticker_ids` and `poll` fail with 400; an edit may set the flag, resetting those fields, but never
remove it; attachments used by components are not listed in the message's `attachments`, discord-api-docs
#8277/#8279), discord.py 2.7's LayoutView (4000 display characters across the text displays of a message).
"""

from __future__ import annotations

import copy
from typing import Any

from .discord_models import FakeAttachment, media_holders, walk_components
from .discord_validation import Errors, check_len, error, validate_row

MAX_COMPONENTS = 40
MAX_TEXT = 4000
MAX_GALLERY_ITEMS = 10
MAX_ALT_TEXT = 1024
TOP_LEVEL = {1, 9, 10, 12, 13, 14, 17}
IN_CONTAINER = {1, 9, 10, 12, 13, 14}
ACCESSORIES = {2, 11}
ATTACHMENT = "attachment://"


def validate_layout(components: Any) -> Errors:
    """A components-v2 tree: types where they may appear, their fields, 40 components and 4000 characters."""
    if not isinstance(components, list):
        return error("BASE_TYPE_ARRAY", "Must be an array.")
    every = walk_components(components)
    if len(every) > MAX_COMPONENTS:
        return error("BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_COMPONENTS} in length.")
    errors = _children(components, TOP_LEVEL)
    if errors:
        return errors
    total = sum(len(c.get("content") or "") for c in every if c.get("type") == 10)
    if total > MAX_TEXT:
        return error("COMPONENT_TEXT_DISPLAY_TOTAL_LENGTH_EXCEEDED", f"Text displays exceed {MAX_TEXT} characters")
    return duplicate_ids(components)


def duplicate_ids(components: list[dict[str, Any]]) -> Errors:
    """custom_ids unique per message; explicit component ids (non-zero) unique per message."""
    custom_ids: set[str] = set()
    ids: set[int] = set()
    for component in walk_components(components):
        custom_id = component.get("custom_id")
        if custom_id is not None:
            if custom_id in custom_ids:
                return error("COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
            custom_ids.add(custom_id)
        ident = component.get("id")
        if ident:
            if ident in ids:
                return error("COMPONENT_ID_DUPLICATED", "Component id cannot be duplicated")
            ids.add(ident)
    return {}


def _children(components: list[Any], allowed: set[int]) -> Errors:
    errors: Errors = {}
    for index, component in enumerate(components):
        kind = component.get("type") if isinstance(component, dict) else None
        if kind not in allowed:
            errors[str(index)] = error("UNION_TYPE_CHOICES", f"Value must be one of {sorted(allowed)}.")
        elif item := _component(component):
            errors[str(index)] = item
    return errors


def _component(component: dict[str, Any]) -> Errors:
    kind = component["type"]
    if kind == 1:
        return validate_row(component)
    if kind == 10:
        item: Errors = {}
        check_len(item, "content", component.get("content"), MAX_TEXT, low=1)
        return item
    if kind == 9:
        return _section(component)
    if kind == 12:
        return _gallery(component)
    if kind == 13:
        url = (component.get("file") or {}).get("url")
        if not isinstance(url, str) or not url.startswith(ATTACHMENT):
            return {"file": {"url": error("UNFURLED_MEDIA_ITEM_INVALID", "A file needs an attachment:// url")}}
        return {}
    if kind == 14:
        if component.get("spacing", 1) not in (1, 2):
            return {"spacing": error("BASE_TYPE_CHOICES", "Value must be one of (1, 2).")}
        return {}
    return _container(component)


def _section(component: dict[str, Any]) -> Errors:
    children = component.get("components")
    if not isinstance(children, list) or not 1 <= len(children) <= 3:
        return {"components": error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 3 in length.")}
    errors: Errors = {}
    if child_errors := _children(children, {10}):
        errors["components"] = child_errors
    accessory = component.get("accessory")
    kind = accessory.get("type") if isinstance(accessory, dict) else None
    if kind not in ACCESSORIES:
        errors["accessory"] = error("UNION_TYPE_CHOICES", f"Value must be one of {sorted(ACCESSORIES)}.")
    elif kind == 2:
        if row_errors := validate_row({"components": [accessory]}):
            errors["accessory"] = row_errors["components"]["0"]
    elif media_errors := _media(accessory):
        errors["accessory"] = media_errors
    return errors


def _gallery(component: dict[str, Any]) -> Errors:
    items = component.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_GALLERY_ITEMS:
        return {"items": error("BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_GALLERY_ITEMS} in length.")}
    errors: Errors = {}
    for index, item in enumerate(items):
        if item_errors := _media(item if isinstance(item, dict) else {}):
            errors[str(index)] = item_errors
    return {"items": errors} if errors else {}


def _media(holder: dict[str, Any]) -> Errors:
    """A gallery item or a thumbnail: `media.url` (a URL or attachment://name), alt text ≤1024."""
    errors: Errors = {}
    media = holder.get("media")
    url = media.get("url") if isinstance(media, dict) else None
    if not isinstance(url, str) or not url.startswith((ATTACHMENT, "https://", "http://")):
        errors["media"] = {"url": error("UNFURLED_MEDIA_ITEM_INVALID", "Must be a URL or attachment://<filename>")}
    check_len(errors, "description", holder.get("description"), MAX_ALT_TEXT)
    if not isinstance(holder.get("spoiler", False), bool):
        errors["spoiler"] = error("BASE_TYPE_BOOLEAN", "Must be either true or false.")
    return errors


def _container(component: dict[str, Any]) -> Errors:
    errors: Errors = {}
    children = component.get("components")
    if not isinstance(children, list) or not children:
        errors["components"] = error("BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_COMPONENTS} in length.")
    elif child_errors := _children(children, IN_CONTAINER):
        errors["components"] = child_errors
    color = component.get("accent_color")
    if color is not None and (not isinstance(color, int) or not 0 <= color <= 0xFFFFFF):
        errors["accent_color"] = error("NUMBER_TYPE_MAX", "int value should be between 0 and 16777215.")
    return errors


def missing_attachments(components: list[dict[str, Any]], filenames: set[str]) -> Errors:
    """attachment://name must name a file of the message as it will be (kept or uploaded in this request)."""
    for holder, key in media_holders(components):
        url = str((holder.get(key) or {}).get("url") or "")
        if url.startswith(ATTACHMENT) and url[len(ATTACHMENT) :] not in filenames:
            return error("UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND", f"No attachment named {url[len(ATTACHMENT) :]}")
    return {}


def resolve_media(components: list[dict[str, Any]], attachments: list[FakeAttachment]) -> list[dict[str, Any]]:
    """The components as Discord stores them: attachment:// references become the file's CDN item."""
    resolved = copy.deepcopy(components)
    by_name = {a.filename: a for a in attachments}
    for holder, key in media_holders(resolved):
        url = str((holder.get(key) or {}).get("url") or "")
        attachment = by_name.get(url[len(ATTACHMENT) :]) if url.startswith(ATTACHMENT) else None
        if attachment is None:
            holder[key] = {"url": url, "proxy_url": url, "width": None, "height": None, "flags": 0}
            continue
        holder[key] = {
            "url": attachment.url,
            "proxy_url": attachment.proxy_url,
            "width": attachment.width,
            "height": attachment.height,
            "content_type": attachment.content_type,
            "flags": 0,
            "attachment_id": attachment.id,
        }
    return resolved
