"""Request bodies (JSON or multipart) and how create/edit payloads become stored messages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .discord_components import missing_attachments, resolve_media, validate_layout
from .discord_models import (
    FLAG_COMPONENTS_V2,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    DiscordError,
    FakeAttachment,
    FakeMessage,
    UploadedFile,
    invalid_form,
    now_iso,
)
from .discord_state import DiscordState
from .discord_validation import error, validate_attachment_count, validate_message_fields

FILE_PART = re.compile(r"files\[(\d+)\]")


@dataclass
class Body:
    """A parsed request body: the JSON (or `payload_json`) and any uploaded files."""

    json: Any
    files: list[UploadedFile]


async def read_body(request: web.Request) -> Body:
    """Parse a JSON body or a multipart body with `payload_json` and `files[n]` parts."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        payload: Any = None
        files: list[UploadedFile] = []
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise DiscordError(400, 50035, "Invalid Form Body")
            data = bytes(await part.read(decode=False))
            name = part.name or ""
            if name == "payload_json":
                payload = _parse_json(data)
            else:
                content_type = part.headers.get("Content-Type")
                files.append(UploadedFile(part.filename or name, content_type, data, name))
        return Body(payload, files)
    raw = await request.read()
    return Body(_parse_json(raw) if raw else None, [])


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None


@dataclass
class _NewFile:
    upload: UploadedFile
    filename: str
    description: str | None


class MessageWriter:
    """Creates and edits messages from REST payloads, enforcing Discord's limits."""

    def __init__(self, state: DiscordState) -> None:
        self.state = state

    def create(
        self,
        payload: dict[str, Any],
        files: list[UploadedFile],
        *,
        channel_id: str,
        author: dict[str, Any],
        allowed_flags: int,
        **fields: Any,
    ) -> FakeMessage:
        """Validate and store a new message (not dispatched)."""
        payload = _as_dict(payload)
        self.check_sizes(files)
        flags = int(payload.get("flags") or 0) & allowed_flags
        plan = self._plan(payload, files, existing=[])
        errors = self._errors(payload, flags, plan, converting=False)
        if errors:
            raise invalid_form(errors)
        content, embeds = payload.get("content") or "", payload.get("embeds") or []
        components = payload.get("components") or []
        _check_not_empty(content, embeds, plan, components, payload)
        message = FakeMessage(
            id=self.state.ids.next(),
            channel_id=channel_id,
            author=author,
            content=content,
            embeds=embeds,
            flags=flags,
            allowed_mentions=payload.get("allowed_mentions"),
            tts=bool(payload.get("tts")),
            guild_id=self.state.guild_of(channel_id),
            **fields,
        )
        message.attachments = self._materialize(plan, ephemeral=message.ephemeral)
        message.components = _stored(components, message)
        return self.state.add_message(message)

    def edit(self, message: FakeMessage, payload: dict[str, Any], files: list[UploadedFile]) -> FakeMessage:
        """Apply the given fields to a message; `attachments` lists the kept ones plus new files."""
        payload = _as_dict(payload)
        self.check_sizes(files)
        flags = message.flags & ~FLAG_LOADING
        if payload.get("flags") is not None:  # SUPPRESS_EMBEDS set or unset; COMPONENTS_V2 only set, never removed
            requested = int(payload["flags"])
            flags = (flags & ~FLAG_SUPPRESS_EMBEDS) | (requested & (FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2))
        content = (payload.get("content") or "") if "content" in payload else message.content
        embeds = (payload.get("embeds") or []) if "embeds" in payload else message.embeds
        plan = self._plan(payload, files, existing=message.attachments)
        converting = bool(flags & FLAG_COMPONENTS_V2 and not message.flags & FLAG_COMPONENTS_V2)
        errors = self._errors(payload, flags, plan, converting=converting and bool(content or embeds))
        if errors:
            raise invalid_form(errors)
        components = (payload.get("components") or []) if "components" in payload else message.components
        _check_not_empty(content, embeds, plan, components, payload)
        message.content, message.embeds = content, embeds
        message.attachments = self._materialize(plan, ephemeral=message.ephemeral)
        message.flags = flags
        if "components" in payload:
            message.components = _stored(components, message)
        if "allowed_mentions" in payload:
            message.allowed_mentions = payload["allowed_mentions"]
        message.edits += 1
        message.edited_timestamp = now_iso()
        self.state.changed()
        return message

    def _errors(
        self, payload: dict[str, Any], flags: int, plan: list[FakeAttachment | _NewFile], *, converting: bool
    ) -> dict[str, Any]:
        errors = validate_message_fields(payload, flags=flags)
        if converting:  # an edit that sets the v2 flag must reset what the message showed as content and embeds
            errors["content"] = error(
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "Reset content and embeds to set the v2 flag"
            )
        components = payload.get("components")
        if flags & FLAG_COMPONENTS_V2 and components is not None:
            names = {item.filename for item in plan}
            if layout_errors := validate_layout(components) or missing_attachments(components, names):
                errors["components"] = layout_errors
        errors |= validate_attachment_count(len(plan))
        return errors

    def check_sizes(self, files: list[UploadedFile]) -> None:
        """413 / 40005 when any file is above the attachment size limit."""
        if any(f.size > self.state.attachment_size_limit for f in files):
            raise DiscordError(413, 40005, "Request entity too large")

    def _plan(
        self, payload: dict[str, Any], files: list[UploadedFile], *, existing: list[FakeAttachment]
    ) -> list[FakeAttachment | _NewFile]:
        by_index: dict[int, UploadedFile] = {}
        for position, upload in enumerate(files):
            match = FILE_PART.fullmatch(upload.name)
            by_index[int(match.group(1)) if match else position] = upload
        entries = payload.get("attachments")
        if entries is None:
            return [*existing, *(_NewFile(f, f.filename, None) for f in files)]
        kept = {a.id: a for a in existing}
        plan: list[FakeAttachment | _NewFile] = []
        used: set[int] = set()
        errors: dict[str, Any] = {}
        for index, entry in enumerate(entries):
            ident = str(entry.get("id"))
            if ident in kept:
                plan.append(kept[ident])
            elif ident.isdigit() and int(ident) in by_index and int(ident) not in used:
                upload = by_index[int(ident)]
                used.add(int(ident))
                plan.append(_NewFile(upload, entry.get("filename") or upload.filename, entry.get("description")))
            else:
                errors[str(index)] = {"id": error("ATTACHMENT_NOT_FOUND", f"Unknown attachment id {ident}")}
        if errors:
            raise invalid_form({"attachments": errors})
        plan.extend(_NewFile(f, f.filename, None) for i, f in by_index.items() if i not in used)
        return plan

    def _materialize(self, plan: list[FakeAttachment | _NewFile], *, ephemeral: bool) -> list[FakeAttachment]:
        attachments = []
        for item in plan:
            if isinstance(item, FakeAttachment):
                attachments.append(item)
                continue
            attachments.append(
                self.state.store_file(
                    item.upload.data,
                    item.filename,
                    item.upload.content_type,
                    description=item.description,
                    ephemeral=ephemeral,
                )
            )
        return attachments


def _stored(components: list[Any], message: FakeMessage) -> list[Any]:
    """What Discord keeps: a v2 message's media items point at its files' CDN items."""
    if message.flags & FLAG_COMPONENTS_V2:
        return resolve_media(components, message.attachments)
    return components


def _as_dict(payload: Any) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise invalid_form(error("DICT_TYPE_CONVERT", "Only dictionaries may be used."))
    return payload


def _check_not_empty(
    content: str, embeds: list[Any], plan: list[Any], components: list[Any], payload: dict[str, Any]
) -> None:
    if content.strip() or embeds or plan or components or payload.get("sticker_ids") or payload.get("poll"):
        return
    raise DiscordError(400, 50006, "Cannot send an empty message")
