"""The fake Discord refuses string selects (component type 3) the way Discord does."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord_validation import validate_components


def row(**select: Any) -> list[dict[str, Any]]:
    options = [{"label": f"Option {n}", "value": str(n)} for n in range(3)]
    component = {"type": 3, "custom_id": "pick", "options": options} | select
    return [{"type": 1, "components": [component]}]


def errors_of(components: list[dict[str, Any]]) -> dict[str, Any]:
    found = validate_components(components)
    return found.get("0", {}).get("components", {}).get("0", {}) if found else {}


def codes(errors: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for key, value in errors.items():
        if key == "_errors":
            found |= {e["code"] for e in value}
        elif isinstance(value, dict):
            found |= codes(value)
    return found


def test_a_valid_select_passes() -> None:
    assert validate_components(row(min_values=0, max_values=3, placeholder="p" * 150)) == {}


def test_options_must_number_1_to_25() -> None:
    assert "options" in errors_of(row(options=[]))
    many = [{"label": str(n), "value": str(n)} for n in range(26)]
    assert "options" in errors_of(row(options=many))


def test_option_label_and_value_are_1_to_100_and_description_at_most_100() -> None:
    for option in (
        {"label": "x" * 101, "value": "v"},
        {"label": "", "value": "v"},
        {"label": "l", "value": "v" * 101},
        {"label": "l"},
        {"label": "l", "value": "v", "description": "d" * 101},
    ):
        assert "options" in errors_of(row(options=[option])), option
    assert errors_of(row(options=[{"label": "l" * 100, "value": "v" * 100, "description": "d" * 100}])) == {}


def test_option_values_must_be_unique() -> None:
    twice = [{"label": "a", "value": "same"}, {"label": "b", "value": "same"}]
    assert codes(errors_of(row(options=twice))) == {"SELECT_COMPONENT_OPTION_VALUE_DUPLICATED"}


def test_min_and_max_values_stay_in_range_and_in_order() -> None:
    assert "min_values" in errors_of(row(min_values=26))
    assert "min_values" in errors_of(row(min_values=-1))
    assert "max_values" in errors_of(row(max_values=0))
    assert "max_values" in errors_of(row(max_values=26))
    assert "min_values" in errors_of(row(min_values=3, max_values=2))
    assert "max_values" in errors_of(row(max_values=4))  # more than the 3 options
