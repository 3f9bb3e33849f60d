"""The edges of what the wire accepts: each test sits on a limit (a length, a range
end, a language tag's shape) so that moving the limit by one changes an answer.
Written against the mutants mutation testing left alive in engine/wire
(docs/testing.md, "Mutation testing")."""

from typing import Any

import orjson
import pytest

from engine import Page, ResourceType
from engine.domain.account import User
from engine.domain.sequence import UnsubscribeSettings
from engine.errors import InvalidPayload, ValidationFailed
from engine.wire import (
    MAX_ID,
    InvalidParams,
    parse_body,
    parse_create_enrollment,
    parse_enrollment_query,
    parse_instant,
    parse_page,
    parse_sequence,
    parse_task_query,
    parse_task_update,
    user_document,
)


def details(error: ValidationFailed | InvalidParams) -> list[tuple[str, str | None, str | None]]:
    return [(d.code, d.field, d.details) for d in error.errors]


# -- language tags: 2-3 ASCII letters, then subtags of 1-8 ASCII letters or digits --

@pytest.mark.parametrize("locale", ["en", "eng", "en-US", "en-a", "en-12345678",
                                    "zh-Hant-TW", "de-1996"])
def test_language_tags_accepted(locale: str) -> None:
    given = {"unsubscribe_settings": {"enabled": True, "locale": locale}}
    assert parse_sequence(given, partial=True).unsubscribe_settings == UnsubscribeSettings(
        enabled=True, locale=locale)


@pytest.mark.parametrize("locale", [
    "e", "engl", "e1", "12", "éé", "éé-US", "e1-US", "en-", "en--US", "en-123456789",
    "en-é", "en-US-é", "en-a_b", "en-US-", "ab-cdefghijk",
])
def test_language_tags_refused(locale: str) -> None:
    given = {"unsubscribe_settings": {"enabled": True, "locale": locale}}
    with pytest.raises(ValidationFailed) as info:
        parse_sequence(given, partial=True)
    assert details(info.value) == [("incorrect_value", "/data/unsubscribe_settings/locale",
                                    f"got {orjson.dumps(locale).decode()}")]


# -- instants: 16 to 40 characters, `T`, `t` or a space between date and time ----

@pytest.mark.parametrize("text", [
    "2024-01-01t00:00Z", "2024-01-01 00:00Z", "2024-01-01T00:00Z",
    "2024-01-01T00:00:00.123456789012345678Z",  # 39 characters
    "2024-01-01T00:00:00.12345678901234+00:00",  # 40
])
def test_instants_accepted(text: str) -> None:
    assert parse_instant(text).isoformat() in (
        "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00.123456+00:00")


@pytest.mark.parametrize(("text", "reason"), [
    ("2024-01-01T00:00", 'no UTC offset in "2024-01-01T00:00": add Z or +HH:MM'),  # 16
    ("2024-01-01T0000", 'not an ISO 8601 date and time: "2024-01-01T0000"'),  # 15
    ("2024-01-01X00:00Z", 'not an ISO 8601 date and time: "2024-01-01X00:00Z"'),
    ("2024-01-01T00:00:00.123456789012345+00:00",  # 41
     'not an ISO 8601 date and time: "2024-01-01T00:00:00.123456789012345+00:00"'),
])
def test_instants_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_instant(text)
    assert str(info.value) == reason


# -- integers spelled as strings: at most 20 characters in a body, 19 in a query ---

def test_a_twenty_digit_id_is_read_and_then_out_of_range() -> None:
    twenty, twenty_one = "1" + "0" * 19, "1" + "0" * 20
    with pytest.raises(ValidationFailed) as info:
        parse_create_enrollment({"sequence_id": twenty, "resource_type": "lead",
                                 "resource_id": twenty_one})
    assert details(info.value) == [
        ("incorrect_value", "/data/sequence_id", f'got "{twenty}"'),
        ("invalid_type", "/data/resource_id", f'got a string: "{twenty_one}"'),
    ]


def test_query_integers_have_at_most_nineteen_digits() -> None:
    assert parse_page({"page": "0" * 18 + "7"}) == Page(7, 25)
    with pytest.raises(InvalidParams) as info:
        parse_page({"page": "0" * 19 + "7"})
    assert details(info.value) == [("invalid_param", "page", f'got "{"0" * 19}7"')]


def test_query_ranges_include_both_ends() -> None:
    where, _ = parse_task_query({"resource_id": "1", "ids": f"1,{MAX_ID}"})
    assert (where.resource_id, where.ids) == (1, (1, MAX_ID))
    where, _ = parse_enrollment_query({"resource_ids": str(MAX_ID), "sequence_id": "1"})
    assert (where.resource_ids, where.sequence_id) == ((MAX_ID,), 1)


def test_invalid_params_needs_an_error() -> None:
    with pytest.raises(ValueError, match=r"^InvalidParams needs at least one error$"):
        InvalidParams([])


# -- what parsers hand on --------------------------------------------------------

def test_a_task_update_keeps_its_resource_type() -> None:
    parsed = parse_task_update({"resource_type": "contact", "resource_id": 4})
    assert parsed.changes() == {"resource_type": ResourceType.CONTACT, "resource_id": 4}


def test_a_sequence_update_hands_on_its_unsubscribe_settings() -> None:
    parsed = parse_sequence({"unsubscribe_settings": {"enabled": False, "locale": "fr"}},
                            partial=True)
    assert parsed.changes() == {
        "unsubscribe_settings": UnsubscribeSettings(enabled=False, locale="fr")}


# -- duplicate keys: the repeated one is named, not the first --------------------

@pytest.mark.parametrize("raw", [b'{"data": {"a": 1, "b": 1, "b": 2}}',
                                 '{"data": {"a": 1, "b": 1, "b": 2}}'])
def test_the_repeated_key_is_the_one_named(raw: Any) -> None:
    with pytest.raises(InvalidPayload) as info:
        parse_body(raw)
    assert info.value.message == "the key 'b' appears twice in one JSON object"


# -- rendering -------------------------------------------------------------------

def test_a_user_document_is_data_and_meta() -> None:
    document = orjson.loads(user_document(User(id=7, account_id=1, name="Ann")))
    assert document == {
        "data": {"id": 7, "name": "Ann", "email": None, "status": "active", "role": "user",
                 "time_zone": "UTC", "created_at": None, "updated_at": None},
        "meta": {"type": "user"},
    }


# -- more range ends, found by the second mutation run ---------------------------

def test_the_largest_id_is_read_from_a_string_too() -> None:
    parsed = parse_create_enrollment({"sequence_id": str(MAX_ID), "resource_type": "lead",
                                      "resource_id": float(2**52)})
    assert (parsed.sequence_id, parsed.resource_id) == (MAX_ID, 2**52)


def test_a_name_of_exactly_the_limit_and_a_hundred_steps_are_accepted() -> None:
    step = {"delay_from_previous_step": 0, "delay_from_previous_step_unit": "hours",
            "action_type": "task", "action_properties": {"task_content": "x"}}
    parsed = parse_sequence({"name": "n" * 255, "steps": [step] * 100}, partial=False)
    assert parsed.name == "n" * 255 and parsed.steps is not None and len(parsed.steps) == 100


def test_a_blank_position_is_not_given() -> None:
    step = {"position": "", "delay_from_previous_step": 0,
            "delay_from_previous_step_unit": "hours", "action_type": "task",
            "action_properties": {"task_content": "x"}}
    parsed = parse_sequence({"steps": [step]}, partial=True)
    assert parsed.steps is not None and parsed.steps[0].position == 0


@pytest.mark.parametrize(("value", "got"), [
    ([], "got an array: []"),  # unhashable: never looked up among the choices
    ({"a": 1}, 'got an object: {"a":1}'),
    ((1,), "got a value: [1]"),  # not from JSON: a Python caller's tuple
])
def test_a_choice_that_is_not_a_string(value: object, got: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_create_enrollment({"sequence_id": 1, "resource_type": value, "resource_id": 1})
    assert details(info.value) == [("invalid_type", "/data/resource_type", got)]


def test_values_orjson_cannot_write_are_shown_by_repr() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_create_enrollment({"sequence_id": 2**64, "resource_type": "lead",
                                 "resource_id": 1})
    assert details(info.value) == [
        ("incorrect_value", "/data/sequence_id", "got 18446744073709551616")]


def test_a_value_of_sixty_characters_is_shown_whole() -> None:
    sixty, sixty_one = "s" * 58, "s" * 59  # 60 and 61 characters with their quotes
    with pytest.raises(ValidationFailed) as info:
        parse_create_enrollment({"sequence_id": sixty, "resource_type": "lead",
                                 "resource_id": sixty_one})
    assert details(info.value) == [
        ("invalid_type", "/data/sequence_id", f'got a string: "{sixty}"'),
        ("invalid_type", "/data/resource_id", f'got a string: "{"s" * 56}...'),
    ]
