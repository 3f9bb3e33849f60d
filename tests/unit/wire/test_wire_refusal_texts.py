"""Every refusal of a request, pinned to the last character as the client reads it:
the Sell error envelope's items (code, message, details, resource, field) and its
HTTP status line (http-api.md section 2). A message is part of the API: clients show
it, so changing one is an API change, and these tests say so. `refusals.json` holds
one case per branch of engine/wire/envelope.py, parse.py, fields.py and query.py;
they kill the mutants that change a message, a pointer or a detail
(docs/testing.md, "Mutation testing")."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import EngineError, InvalidPayload
from engine.wire import (
    error_document,
    parse_body,
    parse_create_enrollment,
    parse_enrollment_filter,
    parse_enrollment_query,
    parse_finish_ongoing,
    parse_page,
    parse_sequence,
    parse_sequence_query,
    parse_task_filter,
    parse_task_query,
    parse_task_update,
    parse_update_enrollment,
)

PARSERS: dict[str, Callable[[Any], object]] = {
    "body": parse_body,
    "create_enrollment": parse_create_enrollment,
    "update_enrollment": parse_update_enrollment,
    "finish_ongoing": parse_finish_ongoing,
    "create_sequence": lambda data: parse_sequence(data, False),
    "update_sequence": lambda data: parse_sequence(data, True),
    "task_update": parse_task_update,
    "enrollment_query": parse_enrollment_query,
    "enrollment_filter": parse_enrollment_filter,
    "task_query": parse_task_query,
    "task_filter": parse_task_filter,
    "sequence_query": parse_sequence_query,
    "page": parse_page,
}
CASES = json.loads(Path(__file__).with_name("refusals.json").read_text())


def envelope(parse: Callable[[Any], object], given: Any) -> dict[str, Any]:
    """What the client receives for `given`: the error document, parsed."""
    with pytest.raises(EngineError) as info:
        parse(given)
    error = info.value
    # the exception's own message is its details' messages in order (logs show it)
    assert error.message == "; ".join(detail.message for detail in error.errors)
    document: dict[str, Any] = json.loads(error_document(error, "req-1"))
    assert document["meta"]["type"] == "errors" and document["meta"]["logref"] == "req-1"
    assert all(item["meta"] == {"type": "error"} for item in document["errors"])
    return document


@pytest.mark.parametrize("case", CASES, ids=[case["case"] for case in CASES])
def test_each_refusal_reads_exactly_as_pinned(case: dict[str, Any]) -> None:
    given = (case["raw"].encode() if "raw" in case
             else case["query"] if "query" in case else case["data"])
    document = envelope(PARSERS[case["parse"]], given)
    assert document["meta"]["http_status"] == case["http_status"]
    assert [item["error"] for item in document["errors"]] == case["errors"]


def details(parse: Callable[[Any], object], given: Any) -> list[tuple[Any, ...]]:
    document = envelope(parse, given)
    return [tuple(item["error"].values()) for item in document["errors"]]


TWICE = "each key may appear once per object"


@pytest.mark.parametrize(
    "raw",
    ['{"data": {"b": 1, "b": 2}}', bytearray(b'{"data": {"b": 1, "b": 1}}'),
     memoryview(b'{"data": {"b": 2, "b": 2}}')],
    ids=["str", "bytearray", "memoryview"],
)
def test_a_repeated_key_is_found_in_every_kind_of_body(raw: Any) -> None:
    """Only `bytes` takes the colon-counting fast check; every other kind goes to the
    exact one, after being turned into bytes (wire.envelope._as_bytes)."""
    assert details(parse_body, raw) == [
        ("invalid_payload", "the key 'b' appears twice in one JSON object", TWICE, None, None)]


def test_a_body_that_is_not_json_says_so_and_where() -> None:
    """The details are orjson's own words (not ours to pin), but they must be there."""
    with pytest.raises(InvalidPayload) as info:
        parse_body(b'{"data": {} x')
    (detail,) = info.value.errors
    assert (detail.code, detail.message, detail.field) == (
        "invalid_payload", "the request body is not valid JSON", None)
    assert detail.details is not None and "line 1 column" in detail.details


def test_lengths_are_reported_as_counts_not_echoed() -> None:
    """Over-long values are refused with their length, never echoed back whole."""
    step = {"delay_from_previous_step": 1, "delay_from_previous_step_unit": "hours",
            "action_type": "task", "action_properties": {"task_content": "t" * 10_001,
                                                         "email_template_id": 1}, "extra": 1}
    at = "/data/steps/0"
    assert details(lambda data: parse_sequence(data, True), {"steps": [step]}) == [
        ("incorrect_value", "task_content must be at most 10000 characters", "got 10001",
         "sequence", f"{at}/action_properties/task_content"),
        ("unknown", "unknown field 'email_template_id'", "allowed: task_content", "sequence",
         f"{at}/action_properties/email_template_id"),
        ("unknown", "unknown field 'extra'", "allowed: action_properties, action_type, "
         "delay_from_previous_step, delay_from_previous_step_unit, position", "sequence",
         f"{at}/extra"),
    ]
    assert details(lambda data: parse_sequence(data, False),
                   {"name": "n" * 256, "steps": [{}] * 101}) == [
        ("incorrect_value", "name must be at most 255 characters", "got 256", "sequence",
         "/data/name"),
        ("incorrect_value", "a sequence has at most 100 steps", "got 101", "sequence",
         "/data/steps"),
    ]
    assert details(parse_task_update, {"content": "c" * 10_001, "resource_type": 1}) == [
        ("incorrect_value", "content must be at most 10000 characters", "got 10001", "task",
         "/data/content"),
        ("invalid_type", "resource_type must be a string", "got an integer: 1", "task",
         "/data/resource_type"),
    ]


def test_long_values_are_cut_at_sixty_characters() -> None:
    ids = ",".join(str(i) for i in range(1, 1002))
    assert details(parse_enrollment_query, {"ids": ids}) == [
        ("invalid_param", "ids must be at most 1000 distinct comma-separated ids",
         'got "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22...', None, "ids")]
    assert details(parse_create_enrollment, {"sequence_id": "01", "resource_type": "lead",
                                             "resource_id": "x" * 80}) == [
        ("invalid_type", "sequence_id must be an integer or a string of decimal digits",
         'got a string: "01"', "sequence_enrollment", "/data/sequence_id"),
        ("invalid_type", "resource_id must be an integer or a string of decimal digits",
         'got a string: "' + "x" * 56 + "...", "sequence_enrollment", "/data/resource_id"),
    ]
