"""What a Discord client would send: interaction envelopes, command options checked against the
synced definitions, component clicks checked against the message, modal answers from the modal's inputs.

Anything a real user could not do raises AssertionError.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from .discord_models import FakeInteraction, FakeMessage, FakeUser, walk_components
from .discord_permissions import permissions_in
from .discord_state import DiscordState

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
SELECT_TYPES = {3, 5, 6, 7, 8}


def new_interaction(
    state: DiscordState,
    user: FakeUser,
    kind: int,
    data: dict[str, Any],
    *,
    channel_id: str,
    message: FakeMessage | None = None,
) -> FakeInteraction:
    """Register an interaction and build its INTERACTION_CREATE payload."""
    assert channel_id in state.channels, f"unknown channel {channel_id}"
    guild_id = state.guild_of(channel_id)
    assert guild_id is None or user.id in state.guild(guild_id).members, f"{user.username} is not in that guild"
    interaction = FakeInteraction(
        id=state.ids.next(),
        token=f"aW50ZXJhY3Rpb24.{secrets.token_urlsafe(48)}",
        user=user,
        type=kind,
        data=data,
        channel_id=channel_id,
        message=message,
    )
    bot = state.guild(guild_id).bot
    payload: dict[str, Any] = {
        "id": interaction.id,
        "application_id": state.application_id,
        "type": kind,
        "data": data,
        "channel_id": channel_id,
        "channel": state.channel_payload(channel_id, for_user=user),
        "token": interaction.token,
        "version": 1,
        "app_permissions": str(permissions_in(state, bot, channel_id)),
        "locale": user.locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": state.attachment_size_limit,
        "authorizing_integration_owners": {"0": guild_id or state.guild_id},
    }
    if guild_id is not None:
        payload["guild_id"] = guild_id
        guild_locale = state.guild(guild_id).locale
        payload["guild"] = {"id": guild_id, "locale": guild_locale, "features": []}
        payload["guild_locale"] = guild_locale
        payload["member"] = {**user.member_payload(), "permissions": str(permissions_in(state, user, channel_id))}
        payload["context"] = 0
    else:
        payload["user"] = user.user_payload()
        payload["context"] = 1
    if message is not None:
        payload["message"] = message.payload()
    interaction.payload = payload
    state.interactions[interaction.id] = interaction
    state.tokens[interaction.token] = interaction
    state.changed()
    return interaction


def token_expired(state: DiscordState, interaction: FakeInteraction) -> bool:
    """Whether the interaction's webhook token is past `token_ttl` or was expired by a test."""
    too_old = time.monotonic() - interaction.created > state.token_ttl
    return too_old or interaction.token in state.expired_tokens


def interaction_metadata(state: DiscordState, interaction: FakeInteraction, **extra: Any) -> dict[str, Any]:
    """The `interaction_metadata` of a message created through an interaction."""
    metadata: dict[str, Any] = {
        "id": interaction.id,
        "type": interaction.type,
        "user": interaction.user.user_payload(),
        "authorizing_integration_owners": {"0": interaction.payload.get("guild_id", state.guild_id)},
    }
    if interaction.type == 2:
        metadata["name"] = interaction.data.get("name")
        metadata["command_type"] = interaction.data.get("type", 1)
    if interaction.message is not None:
        metadata["interacted_message_id"] = interaction.message.id
    metadata.update(extra)
    return metadata


def find_command(state: DiscordState, name: str, kind: int, guild_id: str | None) -> tuple[dict[str, Any], str | None]:
    """The synced command (that guild's first, then global) and the guild id it was registered in."""
    for key in (guild_id or "global", "global"):
        for command in state.commands.get(key, []):
            if command["name"] == name and command.get("type", 1) == kind:
                return command, None if key == "global" else key
    synced = {k: [c["name"] for c in v] for k, v in state.commands.items()}
    raise AssertionError(f"no synced command {name!r} of type {kind}; synced: {synced or 'nothing'}")


def command_data(
    state: DiscordState,
    path: str,
    options: dict[str, Any],
    *,
    guild_id: str | None,
    focused: str | None = None,
) -> dict[str, Any]:
    """`data` of a CHAT_INPUT interaction for `/path` ("admin stats" = command + subcommand) in `guild_id`."""
    name, *subcommands = path.split()
    command, registered_in = find_command(state, name, 1, guild_id)
    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1}
    if registered_in:
        data["guild_id"] = registered_in
    container, definitions = data, command.get("options") or []
    for sub in subcommands:
        definition = next((o for o in definitions if o["name"] == sub and o["type"] in (1, 2)), None)
        if definition is None:
            raise AssertionError(f"/{path}: {sub!r} is not a subcommand of {container['name']!r}")
        entry: dict[str, Any] = {"name": sub, "type": definition["type"]}
        container["options"] = [entry]
        container, definitions = entry, definition.get("options") or []
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in definitions):
        names = [o["name"] for o in definitions]
        raise AssertionError(f"/{path} needs a subcommand, one of {names}")
    resolved: dict[str, dict[str, Any]] = {}
    values = []
    for option_name, value in options.items():
        if value is None:
            continue
        definition = next((o for o in definitions if o["name"] == option_name), None)
        if definition is None:
            names = [o["name"] for o in definitions]
            raise AssertionError(f"/{path} has no option {option_name!r}; synced options: {names}")
        if option_name == focused:
            values.append({"name": option_name, "type": definition["type"], "value": value, "focused": True})
            continue
        values.append(_option_value(state, path, definition, value, resolved, guild_id))
    if focused is None:
        missing = [o["name"] for o in definitions if o.get("required") and options.get(o["name"]) is None]
        if missing:
            raise AssertionError(f"/{path} is missing required options {missing}")
    container["options"] = values
    if resolved:
        data["resolved"] = resolved
    return data


def _option_value(
    state: DiscordState,
    path: str,
    definition: dict[str, Any],
    value: Any,
    resolved: dict[str, dict[str, Any]],
    guild_id: str | None,
) -> dict[str, Any]:
    kind, name = definition["type"], definition["name"]
    where = f"/{path} option {name!r}"
    if kind == STRING:
        _expect(isinstance(value, str), where, "a str", value)
        low, high = definition.get("min_length", 0), definition.get("max_length", 6000)
        _expect(low <= len(value) <= high, where, f"{low}..{high} characters", value)
    elif kind in (INTEGER, NUMBER):
        ok = isinstance(value, int) if kind == INTEGER else isinstance(value, (int, float))
        _expect(ok and not isinstance(value, bool), where, "an int" if kind == INTEGER else "a number", value)
        low, high = definition.get("min_value"), definition.get("max_value")
        _expect((low is None or value >= low) and (high is None or value <= high), where, f"{low}..{high}", value)
    elif kind == BOOLEAN:
        _expect(isinstance(value, bool), where, "a bool", value)
    elif kind == ATTACHMENT:
        attachment = state.attachment_from(value)
        resolved.setdefault("attachments", {})[attachment.id] = attachment.payload()
        value = attachment.id
    elif kind in (USER, MENTIONABLE) and isinstance(value, FakeUser):
        resolved.setdefault("users", {})[value.id] = value.user_payload()
        resolved.setdefault("members", {})[value.id] = value.member_payload(with_user=False, permissions=True)
        value = value.id
    elif kind in (ROLE, MENTIONABLE):
        value = state.role_id(str(value), guild_id)
        resolved.setdefault("roles", {})[value] = state.guild(guild_id).roles[value]
    elif kind == CHANNEL:
        value = str(value)
        _expect(value in state.channels, where, "a known channel id", value)
        channel = state.channels[value]
        types = definition.get("channel_types")
        _expect(not types or channel["type"] in types, where, f"a channel of type {types}", value)
        bot = state.guild(guild_id).bot
        resolved.setdefault("channels", {})[value] = {**channel, "permissions": str(bot.permissions())}
    else:
        raise AssertionError(f"{where}: cannot send {value!r} for option type {kind}")
    choices = definition.get("choices")
    if choices:
        allowed = [c["value"] for c in choices]
        _expect(value in allowed, where, f"one of {allowed}", value)
    return {"name": name, "type": kind, "value": value}


def _expect(condition: bool, where: str, wanted: str, value: Any) -> None:
    if not condition:
        raise AssertionError(f"{where} must be {wanted}, got {value!r}")


def context_menu_data(
    state: DiscordState, name: str, target: FakeMessage | FakeUser, guild_id: str | None
) -> dict[str, Any]:
    """`data` of a message (type 3) or user (type 2) context-menu command run in `guild_id`."""
    kind = 2 if isinstance(target, FakeUser) else 3
    command, registered_in = find_command(state, name, kind, guild_id)
    if isinstance(target, FakeUser):
        resolved: dict[str, Any] = {
            "users": {target.id: target.user_payload()},
            "members": {target.id: target.member_payload(with_user=False, permissions=True)},
        }
    else:
        assert not target.deleted, f"message {target.id} was deleted"
        resolved = {"messages": {target.id: target.payload()}}
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": kind,
        "target_id": target.id,
        "resolved": resolved,
    }
    if registered_in:
        data["guild_id"] = registered_in
    return data


def component_data(
    state: DiscordState, message: FakeMessage, custom_id: str, values: list[str] | None, user: FakeUser | None = None
) -> dict[str, Any]:
    """`data` of a button click or a select choice on `message` (by `user`, who must be able to see it)."""
    assert not message.deleted, f"message {message.id} was deleted"
    if message.ephemeral and user is not None:  # only the member an ephemeral message was shown to sees it
        shown_to = ((message.interaction_metadata or {}).get("user") or {}).get("id")
        assert shown_to == user.id, f"message {message.id} is ephemeral: only user {shown_to} can see it"
    component = next((c for c in walk_components(message.components) if c.get("custom_id") == custom_id), None)
    if component is None:
        raise AssertionError(f"message {message.id} has no component {custom_id!r}; it has {message.custom_ids()}")
    assert not component.get("disabled"), f"component {custom_id!r} is disabled"
    kind = component["type"]
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind}
    if kind == 2:
        assert values is None, f"{custom_id!r} is a button; it takes no values"
        return data
    assert kind in SELECT_TYPES, f"{custom_id!r} is a component of type {kind}, not clickable"
    assert values is not None, f"{custom_id!r} is a select; pass values=[...]"
    low, high = component.get("min_values", 1), component.get("max_values", 1)
    assert low <= len(values) <= high, f"{custom_id!r} takes {low}..{high} values, got {values}"
    if kind == 3:
        options = [o["value"] for o in component.get("options", [])]
        unknown = [v for v in values if v not in options]
        assert not unknown, f"{custom_id!r} has no options {unknown}; options are {options}"
    data["values"] = [str(v) for v in values]
    if kind in (5, 7):
        guild_id = state.guild_of(message.channel_id)
        members = state.guild(guild_id).members if guild_id else {}
        users = [members[v] for v in data["values"] if v in members]
        data["resolved"] = {
            "users": {u.id: u.user_payload() for u in users},
            "members": {u.id: u.member_payload(with_user=False, permissions=True) for u in users},
        }
    return data


def modal_submit_data(modal: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`data` of a modal submit answering `modal` with `values` keyed by custom_id."""
    known: set[str] = set()
    components = []
    for component in modal.get("components", []):
        if component.get("type") == 1:
            inputs = [_answer(field, values) for field in component.get("components", [])]
            known.update(f["custom_id"] for f in component.get("components", []))
            components.append({"type": 1, "components": inputs})
        elif component.get("type") == 18:
            inner = component["component"]
            known.add(inner["custom_id"])
            components.append({"type": 18, "component": _answer(inner, values)})
    unknown = set(values) - known
    assert not unknown, f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)}; it has {sorted(known)}"
    return {"custom_id": modal["custom_id"], "components": components}


def _answer(field: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    custom_id = field["custom_id"]
    value = values.get(custom_id)
    if field.get("type") == 4:
        text = "" if value is None else str(value)
        if field.get("required", True):
            assert text, f"modal input {custom_id!r} is required"
        low, high = field.get("min_length", 0), field.get("max_length", 4000)
        assert not text or low <= len(text) <= high, f"modal input {custom_id!r} takes {low}..{high} characters"
        return {"type": 4, "custom_id": custom_id, "value": text}
    chosen = [] if value is None else [value] if isinstance(value, str) else list(value)
    return {"type": field.get("type"), "custom_id": custom_id, "values": chosen}
