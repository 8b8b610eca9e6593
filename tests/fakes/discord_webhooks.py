"""Interaction callbacks and the interaction webhook (followups, @original), without bot auth."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .discord_interactions import interaction_metadata, token_expired
from .discord_messages import MessageWriter
from .discord_models import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_MESSAGE,
    DEFERRED_UPDATE,
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    UPDATE_MESSAGE,
    DiscordError,
    FakeInteraction,
    FakeMessage,
    UploadedFile,
    invalid_form,
    unknown_message,
)
from .discord_rest import Call, Route, json_response, no_content, route
from .discord_state import DiscordState
from .discord_validation import error, validate_modal

WEBHOOK_FLAGS = FLAG_EPHEMERAL | FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}
TRUE = {"1", "true", "True"}

Outcome = tuple[FakeMessage | None, str | None]


class InteractionRoutes:
    """`POST /interactions/{id}/{token}/callback` and `/webhooks/{app}/{token}…`."""

    def __init__(self, state: DiscordState, writer: MessageWriter) -> None:
        self.state = state
        self.writer = writer

    def routes(self) -> list[Route]:
        """This group's routes."""
        webhook = "/webhooks/{app}/{token}"
        message = webhook + "/messages/{message_id}"
        return [
            route("POST", "/interactions/{interaction_id}/{token}/callback", self.callback, bot_auth=False),
            route("POST", webhook, self.execute, bot_auth=False),
            route("GET", message, self.get_message, bot_auth=False),
            route("PATCH", message, self.edit_message, bot_auth=False),
            route("DELETE", message, self.delete_message, bot_auth=False),
        ]

    # ---------------------------------------------------------------- callback

    async def callback(self, call: Call) -> web.Response:
        """The initial response: 4 message, 5 defer, 6 deferred update, 7 update, 8 choices, 9 modal."""
        interaction = self._acknowledgeable(call)
        body = call.payload()
        kind = body.get("type")
        data = body.get("data") or {}
        if kind not in ALLOWED_CALLBACKS.get(interaction.type, set()):
            raise invalid_form({"type": error("INTERACTION_RESPONSE_TYPE_INVALID", f"Invalid type {kind}")})
        message, event = self._respond(interaction, kind, data, call.body.files)
        interaction.mark_responded(kind)
        self.state.changed()
        if event is not None and message is not None:
            await self.state.dispatch_message(event, message)
        summary: dict[str, Any] = {"id": interaction.id, "type": interaction.type}
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            summary.update(
                response_message_id=message.id,
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
            if kind in (CHANNEL_MESSAGE, DEFERRED_MESSAGE, UPDATE_MESSAGE):
                resource["message"] = message.payload()
        return json_response({"interaction": summary, "resource": resource})

    def _acknowledgeable(self, call: Call) -> FakeInteraction:
        interaction = self.state.interactions.get(call.params["interaction_id"])
        if (
            interaction is None
            or interaction.token != call.params["token"]
            or interaction.token in self.state.expired_tokens
            or time.monotonic() - interaction.created > self.state.ack_deadline
        ):
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.response_type is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        return interaction

    def _respond(
        self, interaction: FakeInteraction, kind: int, data: dict[str, Any], files: list[UploadedFile]
    ) -> Outcome:
        if kind == CHANNEL_MESSAGE:
            message = self._create(interaction, data, files, original=True)
            return message, "MESSAGE_CREATE"
        if kind == DEFERRED_MESSAGE:
            return self._defer(interaction, data), "MESSAGE_CREATE"
        if kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            target = interaction.message
            if target is None:
                raise invalid_form({"type": error("INTERACTION_RESPONSE_TYPE_INVALID", "No message to update")})
            if kind == UPDATE_MESSAGE:
                self.writer.edit(target, data, files)
            interaction.original, interaction.ephemeral = target, target.ephemeral
            return (target, "MESSAGE_UPDATE") if kind == UPDATE_MESSAGE else (None, None)
        if kind == AUTOCOMPLETE_RESULT:
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise invalid_form({"data": {"choices": error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer")}})
            interaction.choices = choices
            return None, None
        if errors := validate_modal(data):
            raise invalid_form(errors)
        interaction.modal = data
        return None, None

    def _create(
        self, interaction: FakeInteraction, data: dict[str, Any], files: list[UploadedFile], *, original: bool
    ) -> FakeMessage:
        extra = {} if original else {"original_response_message_id": getattr(interaction.original, "id", None)}
        metadata = interaction_metadata(self.state, interaction, **{k: v for k, v in extra.items() if v is not None})
        message = self.writer.create(
            data,
            files,
            channel_id=interaction.channel_id,
            author=self.state.bot_author(),
            allowed_flags=WEBHOOK_FLAGS,
            type=_message_type(interaction) if original else 0,
            webhook_id=self.state.application_id,
            application_id=self.state.application_id,
            interaction_token=interaction.token,
            interaction_metadata=metadata,
            member=self._bot_member(interaction),
        )
        if original:
            interaction.original, interaction.ephemeral = message, message.ephemeral
        return message

    def _defer(self, interaction: FakeInteraction, data: dict[str, Any]) -> FakeMessage:
        flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
        message = FakeMessage(
            id=self.state.ids.next(),
            channel_id=interaction.channel_id,
            author=self.state.bot_author(),
            flags=flags,
            type=_message_type(interaction),
            guild_id=self.state.guild_of(interaction.channel_id),
            member=self._bot_member(interaction),
            webhook_id=self.state.application_id,
            application_id=self.state.application_id,
            interaction_token=interaction.token,
            interaction_metadata=interaction_metadata(self.state, interaction),
        )
        self.state.add_message(message)
        interaction.original, interaction.ephemeral = message, message.ephemeral
        return message

    def _bot_member(self, interaction: FakeInteraction) -> dict[str, Any] | None:
        guild_id = self.state.guild_of(interaction.channel_id)
        return None if guild_id is None else self.state.guild(guild_id).bot.member_payload(with_user=False)

    # ---------------------------------------------------------------- webhook

    def _webhook(self, call: Call) -> FakeInteraction:
        if call.params["app"] != self.state.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        interaction = self.state.tokens.get(call.params["token"])
        if interaction is None or token_expired(self.state, interaction):
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if interaction.response_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return interaction

    def _webhook_message(self, call: Call) -> tuple[FakeInteraction, FakeMessage]:
        interaction = self._webhook(call)
        message_id = call.params["message_id"]
        if message_id == "@original":
            message = interaction.original
        else:
            message = self.state.messages.get(message_id)
            if message is not None and message.interaction_token != interaction.token:
                message = None
        if message is None or message.deleted:
            raise unknown_message()
        return interaction, message

    async def execute(self, call: Call) -> web.Response:
        """A followup; the first one after a type-5 defer fills the "thinking" message."""
        interaction = self._webhook(call)
        original = interaction.original
        if original is not None and original.loading and not original.deleted:
            message = self.writer.edit(original, call.payload(), call.body.files)
            event = "MESSAGE_UPDATE"
        else:
            message = self._create(interaction, call.payload(), call.body.files, original=False)
            event = "MESSAGE_CREATE"
        interaction.followups.append(message)
        self.state.changed()
        await self.state.dispatch_message(event, message)
        if call.query.get("wait") in TRUE:
            return json_response(message.payload())
        return no_content()

    async def get_message(self, call: Call) -> web.Response:
        """`@original` or a followup."""
        _, message = self._webhook_message(call)
        return json_response(message.payload())

    async def edit_message(self, call: Call) -> web.Response:
        """Edit `@original` or a followup (replaces the given fields)."""
        _, message = self._webhook_message(call)
        self.writer.edit(message, call.payload(), call.body.files)
        await self.state.dispatch_message("MESSAGE_UPDATE", message)
        return json_response(message.payload())

    async def delete_message(self, call: Call) -> web.Response:
        """Delete `@original` or a followup."""
        _, message = self._webhook_message(call)
        message.deleted = True
        self.state.changed()
        await self.state.dispatch_message("MESSAGE_DELETE", message)
        return no_content()


def _message_type(interaction: FakeInteraction) -> int:
    if interaction.type != APPLICATION_COMMAND:
        return 0
    return 20 if interaction.data.get("type", 1) == 1 else 23
