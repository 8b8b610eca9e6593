"""The fake Discord refuses modals a real client would be refused: text inputs' length limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.discord_validation import validate_modal


def modal(**text_input: Any) -> dict[str, Any]:
    field = {"type": 4, "custom_id": "k", "label": "API key", "style": 1, **text_input}
    return {"title": "Key", "custom_id": "m", "components": [{"type": 1, "components": [field]}]}


def test_a_text_input_within_discords_limits_is_accepted() -> None:
    assert validate_modal(modal(min_length=16, max_length=256)) == {}
    assert validate_modal(modal(min_length=0, max_length=4000, placeholder="x" * 100)) == {}


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"max_length": 4001}, "max_length"),
        ({"max_length": 0}, "max_length"),
        ({"min_length": -1}, "min_length"),
        ({"min_length": 4001}, "min_length"),
        ({"min_length": 20, "max_length": 10}, "min_length"),
        ({"placeholder": "x" * 101}, "placeholder"),
        ({"label": "x" * 46}, "label"),
        ({"value": "x" * 4001}, "value"),
    ],
)
def test_a_text_input_outside_discords_limits_is_refused(fields: dict[str, Any], key: str) -> None:
    errors = validate_modal(modal(**fields))
    assert key in errors["data"]["components"]["0"], errors
