"""Discord's documented limits for messages, components, modals and application commands.

Each check returns Discord's nested form-error tree (empty when valid), e.g.
`{"embeds": {"0": {"title": {"_errors": [{"code": ..., "message": ...}]}}}}`.
"""

from __future__ import annotations

from typing import Any

from .discord_locales import chat_name_ok, check_localizations, duplicate_localized_names
from .discord_models import FLAG_COMPONENTS_V2, walk_components

Errors = dict[str, Any]

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_ATTACHMENTS = 10
MAX_EMBED_TOTAL = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
SELECT_TYPES = {3, 5, 6, 7, 8}
LEGACY_FIELDS = ("content", "embeds", "sticker_ids", "poll")


def error(code: str, message: str) -> Errors:
    """One leaf of Discord's error tree."""
    return {"_errors": [{"code": code, "message": message}]}


def _too_long(limit: int) -> Errors:
    return error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _bad_length(low: int, high: int) -> Errors:
    return error("BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def check_len(errors: Errors, key: str, value: Any, high: int, low: int = 0) -> None:
    """Set errors[key] when a string field is missing (low > 0), not a string, or outside low..high."""
    if value is None:
        if low:
            errors[key] = error("BASE_TYPE_REQUIRED", "This field is required")
        return
    if not isinstance(value, str):
        errors[key] = error("BASE_TYPE_STRING", "Must be a string.")
    elif not low <= len(value) <= high:
        errors[key] = _too_long(high) if low == 0 else _bad_length(low, high)


def validate_message_fields(payload: dict[str, Any], *, flags: int) -> Errors:
    """Content, embeds, legacy components and attachment entries of a create/edit payload.

    With the components-v2 flag the legacy fields must be absent or empty; the v2 tree itself is checked by
    `discord_components.validate_layout`.
    """
    errors: Errors = {}
    check_len(errors, "content", payload.get("content"), MAX_CONTENT)
    if payload.get("embeds") is not None and (embed_errors := validate_embeds(payload["embeds"])):
        errors["embeds"] = embed_errors
    components = payload.get("components")
    v2 = bool(flags & FLAG_COMPONENTS_V2)
    if components is not None and not v2 and (component_errors := validate_components(components)):
        errors["components"] = component_errors
    if v2 and any(payload.get(key) for key in LEGACY_FIELDS):
        errors["content"] = error("MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "Invalid with v2 flag")
    entries = payload.get("attachments")
    if isinstance(entries, list):
        entry_errors: Errors = {}
        for index, entry in enumerate(entries):
            item: Errors = {}
            check_len(item, "description", entry.get("description"), 1024)
            check_len(item, "filename", entry.get("filename"), 1024)
            if item:
                entry_errors[str(index)] = item
        if entry_errors:
            errors["attachments"] = entry_errors
    return errors


def validate_attachment_count(count: int) -> Errors:
    """At most 10 attachments per message."""
    if count > MAX_ATTACHMENTS:
        return {"attachments": _too_long(MAX_ATTACHMENTS)}
    return {}


def validate_embeds(embeds: Any) -> Errors:
    """Per-embed field limits and the 6000-character total."""
    if not isinstance(embeds, list):
        return error("BASE_TYPE_ARRAY", "Must be an array.")
    if len(embeds) > MAX_EMBEDS:
        return _too_long(MAX_EMBEDS)
    errors: Errors = {}
    total = 0
    for index, embed in enumerate(embeds):
        item: Errors = {}
        for key, limit in EMBED_LIMITS.items():
            check_len(item, key, embed.get(key), limit)
            total += len(embed.get(key) or "")
        footer, author = embed.get("footer") or {}, embed.get("author") or {}
        if footer:
            footer_errors: Errors = {}
            check_len(footer_errors, "text", footer.get("text"), 2048, low=1)
            if footer_errors:
                item["footer"] = footer_errors
            total += len(footer.get("text") or "")
        if author:
            author_errors: Errors = {}
            check_len(author_errors, "name", author.get("name"), 256, low=1)
            if author_errors:
                item["author"] = author_errors
            total += len(author.get("name") or "")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            item["fields"] = _too_long(25)
        else:
            field_errors: Errors = {}
            for number, embed_field in enumerate(fields):
                one: Errors = {}
                check_len(one, "name", embed_field.get("name"), 256, low=1)
                check_len(one, "value", embed_field.get("value"), 1024, low=1)
                total += len(embed_field.get("name") or "") + len(embed_field.get("value") or "")
                if one:
                    field_errors[str(number)] = one
            if field_errors:
                item["fields"] = field_errors
        if item:
            errors[str(index)] = item
    if not errors and total > MAX_EMBED_TOTAL:
        return error("MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}")
    return errors


def validate_components(components: Any) -> Errors:
    """Legacy components (no v2 flag): ≤5 action rows of ≤5 buttons or one select, custom_id 1–100 and unique."""
    if not isinstance(components, list):
        return error("BASE_TYPE_ARRAY", "Must be an array.")
    if len(components) > 5:
        return _too_long(5)
    errors: Errors = {}
    for index, component in enumerate(components):
        if component.get("type") != 1:
            errors[str(index)] = error("UNION_TYPE_CHOICES", "Value must be one of [1].")
        elif row_errors := validate_row(component):
            errors[str(index)] = row_errors
    if errors:
        return errors
    seen: set[str] = set()
    for component in walk_components(components):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        if custom_id in seen:
            return error("COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
        seen.add(custom_id)
    return {}


def validate_row(row: dict[str, Any]) -> Errors:
    """An action row: 1–5 buttons, or one select alone."""
    children = row.get("components") or []
    if not 1 <= len(children) <= 5:
        return {"components": _bad_length(1, 5)}
    if any(c.get("type") in SELECT_TYPES for c in children) and len(children) > 1:
        return {"components": error("COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A select fills a whole row")}
    errors: Errors = {}
    for index, child in enumerate(children):
        item = _validate_interactive(child)
        if item:
            errors[str(index)] = item
    return {"components": errors} if errors else {}


def _validate_interactive(component: dict[str, Any]) -> Errors:
    item: Errors = {}
    kind = component.get("type")
    if kind == 2:
        check_len(item, "label", component.get("label"), 80)
        style = component.get("style")
        if style == 5:
            if not component.get("url") or "custom_id" in component:
                item["url"] = error("BUTTON_COMPONENT_URL_REQUIRED", "A url is required (and no custom_id)")
            return item
        if style == 6:
            return item
    elif kind in SELECT_TYPES:
        check_len(item, "placeholder", component.get("placeholder"), 150)
        _validate_select_values(item, component)
        if kind == 3:
            _validate_string_select(item, component)
    else:
        item["type"] = error("UNION_TYPE_CHOICES", "Value must be a button or a select.")
        return item
    check_len(item, "custom_id", component.get("custom_id"), 100, low=1)
    return item


def _validate_select_values(item: Errors, select: dict[str, Any]) -> None:
    """min_values 0–25 and max_values 1–25 (both default to 1), min ≤ max."""
    low, high = select.get("min_values", 1), select.get("max_values", 1)
    if not isinstance(low, int) or not 0 <= low <= 25:
        item["min_values"] = error("NUMBER_TYPE_MAX", "int value should be between 0 and 25.")
    if not isinstance(high, int) or not 1 <= high <= 25:
        item["max_values"] = error("NUMBER_TYPE_MAX", "int value should be between 1 and 25.")
    elif isinstance(low, int) and low > high:
        item["min_values"] = error("SELECT_COMPONENT_MIN_VALUES_TOO_HIGH", "min_values must not exceed max_values.")


def _validate_string_select(item: Errors, select: dict[str, Any]) -> None:
    """A string select: 1–25 options (label and value 1–100, description ≤100, values unique) and no more values
    to choose than it has options."""
    options = select.get("options")
    if not isinstance(options, list) or not 1 <= len(options) <= 25:
        item["options"] = _bad_length(1, 25)
        return
    option_errors: Errors = {}
    seen: set[Any] = set()
    for index, option in enumerate(options):
        one: Errors = {}
        check_len(one, "label", option.get("label"), 100, low=1)
        check_len(one, "value", option.get("value"), 100, low=1)
        check_len(one, "description", option.get("description"), 100)
        if one:
            option_errors[str(index)] = one
        elif option.get("value") in seen:
            option_errors[str(index)] = error(
                "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "The specified option value is already used"
            )
        seen.add(option.get("value"))
    if option_errors:
        item["options"] = option_errors
    high = select.get("max_values", 1)
    if isinstance(high, int) and high > len(options):
        item["max_values"] = error("BASE_TYPE_MAX", f"Must be less than or equal to {len(options)}.")


def validate_modal(data: Any) -> Errors:
    """Modal callback data: title ≤45, custom_id 1–100, 1–5 rows/labels with text inputs."""
    if not isinstance(data, dict):
        return {"data": error("BASE_TYPE_REQUIRED", "This field is required")}
    errors: Errors = {}
    check_len(errors, "title", data.get("title"), 45, low=1)
    check_len(errors, "custom_id", data.get("custom_id"), 100, low=1)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors["components"] = _bad_length(1, 5)
        return errors
    component_errors: Errors = {}
    for index, component in enumerate(components):
        inputs = _modal_inputs(component)
        if inputs is None:
            component_errors[str(index)] = error("UNION_TYPE_CHOICES", "Not a valid modal component.")
            continue
        for field_input in inputs:
            item: Errors = {}
            check_len(item, "custom_id", field_input.get("custom_id"), 100, low=1)
            if field_input.get("type") == 4:
                check_len(item, "value", field_input.get("value"), 4000)
                check_len(item, "placeholder", field_input.get("placeholder"), 100)
                _check_text_lengths(item, field_input)
                if component.get("type") == 1:
                    check_len(item, "label", field_input.get("label"), 45, low=1)
                if field_input.get("style") not in (1, 2):
                    item["style"] = error("BASE_TYPE_CHOICES", "Value must be one of (1, 2).")
            if item:
                component_errors[str(index)] = item
        if component.get("type") == 18:
            label: Errors = {}
            check_len(label, "label", component.get("label"), 45, low=1)
            if label:
                component_errors[str(index)] = label
    if component_errors:
        errors["components"] = component_errors
    return {"data": errors} if errors else {}


def _check_text_lengths(item: Errors, field_input: dict[str, Any]) -> None:
    """A text input's min_length is 0-4000, its max_length 1-4000, and a minimum above the maximum is refused."""
    low, high = field_input.get("min_length"), field_input.get("max_length")
    if low is not None and not (isinstance(low, int) and 0 <= low <= 4000):
        item["min_length"] = error("NUMBER_TYPE_MAX", "Must be between 0 and 4000.")
    if high is not None and not (isinstance(high, int) and 1 <= high <= 4000):
        item["max_length"] = error("NUMBER_TYPE_MAX", "Must be between 1 and 4000.")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        item["min_length"] = error("TEXT_INPUT_MIN_GREATER_THAN_MAX", "min_length must not exceed max_length.")


def _modal_inputs(component: dict[str, Any]) -> list[dict[str, Any]] | None:
    kind = component.get("type")
    if kind == 1:
        children = component.get("components") or []
        return children if len(children) == 1 and children[0].get("type") == 4 else None
    if kind == 18:
        inner = component.get("component")
        return [inner] if isinstance(inner, dict) else None
    if kind == 10:
        return []
    return None


def validate_commands(commands: Any) -> Errors:
    """Bulk-overwrite payload: names, descriptions, options and choices within Discord's limits."""
    if not isinstance(commands, list):
        return error("BASE_TYPE_ARRAY", "Must be an array.")
    errors: Errors = {}
    seen: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        kind = command.get("type", 1)
        item: Errors = {}
        name = command.get("name")
        if kind == 1:
            _check_name(item, name)
            check_len(item, "description", command.get("description"), 100, low=1)
            check_localizations(item, command, names="chat", descriptions=True)
            if option_errors := _validate_options(command.get("options") or [], parent=None):
                item["options"] = option_errors
        elif kind in (2, 3):
            check_len(item, "name", name, 32, low=1)
            check_localizations(item, command, names="menu", descriptions=False)
            if command.get("description") or command.get("options"):
                item["description"] = error("APPLICATION_COMMAND_INVALID", "Context menus take no description")
        else:
            item["type"] = error("BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3).")
        if (kind, name) in seen:
            item["name"] = error("APPLICATION_COMMANDS_DUPLICATE_NAME", f"Command names must be unique: {name}")
        seen.add((kind, str(name)))
        if _payload_size(command) > 8000:
            item.update(error("APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (8000)"))
        if item:
            errors[str(index)] = item
    return errors


def _check_name(errors: Errors, name: Any) -> None:
    if not chat_name_ok(name):
        errors["name"] = error("APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")


def _validate_options(options: list[dict[str, Any]], *, parent: int | None) -> Errors:
    if len(options) > 25:
        return _too_long(25)
    errors: Errors = {}
    kinds = {o.get("type") for o in options}
    if kinds & {1, 2} and kinds - {1, 2}:
        return error("APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Sub-commands cannot be mixed with options")
    names: set[str] = set()
    optional_seen = False
    for index, option in enumerate(options):
        item: Errors = {}
        kind = option.get("type")
        _check_name(item, option.get("name"))
        check_len(item, "description", option.get("description"), 100, low=1)
        check_localizations(item, option, names="chat", descriptions=True)
        if option.get("name") in names:
            item["name"] = error("APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME", "Option names must be unique")
        names.add(str(option.get("name")))
        if kind in (1, 2):
            if parent == 1 or (kind == 2 and parent is not None):
                item["type"] = error("APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Invalid nesting")
            nested = option.get("options") or []
            if kind == 2 and any(o.get("type") != 1 for o in nested):
                item["options"] = error("APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Groups hold sub-commands")
            elif nested_errors := _validate_options(nested, parent=kind):
                item["options"] = nested_errors
        elif parent == 2:
            item["type"] = error("APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Groups hold sub-commands")
        elif kind not in range(3, 12):
            item["type"] = error("BASE_TYPE_CHOICES", "Value must be one of (1..11).")
        else:
            _validate_option_values(item, option)
            if option.get("required"):
                if optional_seen:
                    item["required"] = error(
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                optional_seen = True
        if item:
            errors[str(index)] = item
    for index, duplicate in duplicate_localized_names(options).items():
        errors.setdefault(index, {}).update(duplicate)
    return errors


def _validate_option_values(item: Errors, option: dict[str, Any]) -> None:
    choices = option.get("choices") or []
    if len(choices) > 25:
        item["choices"] = _too_long(25)
    elif choices and option.get("autocomplete"):
        item["autocomplete"] = error("APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE", "Autocomplete excludes choices")
    else:
        choice_errors: Errors = {}
        for index, choice in enumerate(choices):
            one: Errors = {}
            check_len(one, "name", choice.get("name"), 100, low=1)
            check_localizations(one, choice, names="choice", descriptions=False)
            if option.get("type") == 3:
                check_len(one, "value", choice.get("value"), 100, low=1)
            if one:
                choice_errors[str(index)] = one
        if choice_errors:
            item["choices"] = choice_errors
    for key in ("min_length", "max_length"):
        value = option.get(key)
        if value is not None and not 0 <= value <= 6000:
            item[key] = error("NUMBER_TYPE_MAX", "int value should be between 0 and 6000.")


def _payload_size(command: dict[str, Any]) -> int:
    """Discord's size: names, descriptions and values; of localized fields only the longest text counts."""
    size = _longest(command, "name") + _longest(command, "description")
    for option in command.get("options") or []:
        size += _payload_size(option)
        for choice in option.get("choices") or []:
            size += _longest(choice, "name") + len(str(choice.get("value")))
    return size


def _longest(item: dict[str, Any], field: str) -> int:
    localized = item.get(f"{field}_localizations")
    texts = [item.get(field) or "", *(localized.values() if isinstance(localized, dict) else [])]
    return max(len(str(text)) for text in texts)
