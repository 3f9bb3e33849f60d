"""The envelope and the sequence-enrollment request bodies: every error code, with
its exact JSON pointer, every bad field at once."""

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import EnrollmentState, ResourceType
from engine.errors import InvalidPayload, ValidationFailed
from engine.wire import (
    MAX_ID,
    CreateEnrollment,
    FinishOngoing,
    parse_body,
    parse_create_enrollment,
    parse_finish_ongoing,
    parse_update_enrollment,
)

Errors = list[tuple[str, str | None]]


def errors_of(parse: Callable[[dict[str, Any]], object], data: dict[str, Any]) -> Errors:
    with pytest.raises(ValidationFailed) as info:
        parse(data)
    assert info.value.status == 422
    return [(detail.code, detail.field) for detail in info.value.errors]


CREATE = {"sequence_id": 554, "resource_type": "lead", "resource_id": 12866615}

# -- the envelope ------------------------------------------------------------------------


def test_body_data_is_returned_and_meta_ignored() -> None:
    raw = b'{"data": {"state": "finished"}, "meta": {"type": "sequence_enrollment"}}'
    assert parse_body(raw) == {"state": "finished"}
    assert parse_body('{"data": {}, "meta": null}') == {}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"", None),
        (b"not json", None),
        (b'{"data": {"state": "finished"}', None),  # truncated
        (b"\xff\xfe{}", None),  # not UTF-8
        (b'{"data": NaN}', None),
        (b"null", None),
        (b"[]", None),
        (b'"data"', None),
        (b"42", None),
        (b"{}", "/data"),
        (b'{"meta": {}}', "/data"),
        (b'{"data": null}', "/data"),
        (b'{"data": []}', "/data"),
        (b'{"data": "x"}', "/data"),
        (b'{"data": {}, "meta": []}', "/meta"),
        (b'{"data": {}, "extra": 1}', "/extra"),
        (b'{"data": {}, "a/b": 1}', "/a~1b"),
    ],
)
def test_a_body_that_is_not_a_data_object_is_an_invalid_payload(
    raw: bytes, field: str | None
) -> None:
    with pytest.raises(InvalidPayload) as info:
        parse_body(raw)
    error = info.value
    assert (error.status, error.code) == (400, "invalid_payload")
    assert [(d.code, d.field) for d in error.errors] == [("invalid_payload", field)]


def test_deeply_nested_json_is_an_invalid_payload_not_a_crash() -> None:
    with pytest.raises(InvalidPayload):
        parse_body(b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}")


# -- create ------------------------------------------------------------------------------


def test_create() -> None:
    assert parse_create_enrollment({**CREATE, "actor_id": 7}) == CreateEnrollment(
        554, ResourceType.LEAD, 12866615, 7
    )
    parsed = parse_create_enrollment({**CREATE, "resource_type": "contact", "actor_id": None})
    assert parsed == CreateEnrollment(554, ResourceType.CONTACT, 12866615, None)
    assert type(parsed.resource_type) is ResourceType


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"sequence_id": None}, ("blank", "/data/sequence_id")),
        ({"sequence_id": "554x"}, ("invalid_type", "/data/sequence_id")),
        ({"sequence_id": "0554"}, ("invalid_type", "/data/sequence_id")),
        ({"sequence_id": " 554"}, ("invalid_type", "/data/sequence_id")),
        ({"sequence_id": "-554"}, ("invalid_type", "/data/sequence_id")),
        ({"sequence_id": "0"}, ("incorrect_value", "/data/sequence_id")),
        ({"sequence_id": ""}, ("blank", "/data/sequence_id")),
        ({"sequence_id": 554.5}, ("invalid_type", "/data/sequence_id")),
        ({"sequence_id": True}, ("invalid_type", "/data/sequence_id")),
        ({"sequence_id": [554]}, ("invalid_type", "/data/sequence_id")),
        ({"sequence_id": 0}, ("incorrect_value", "/data/sequence_id")),
        ({"sequence_id": -1}, ("incorrect_value", "/data/sequence_id")),
        ({"sequence_id": MAX_ID + 1}, ("incorrect_value", "/data/sequence_id")),
        ({"resource_type": None}, ("blank", "/data/resource_type")),
        ({"resource_type": ""}, ("blank", "/data/resource_type")),
        ({"resource_type": "  "}, ("blank", "/data/resource_type")),
        ({"resource_type": "deal"}, ("incorrect_value", "/data/resource_type")),
        ({"resource_type": "Lead"}, ("incorrect_value", "/data/resource_type")),
        ({"resource_type": 1}, ("invalid_type", "/data/resource_type")),
        ({"resource_id": False}, ("invalid_type", "/data/resource_id")),
        ({"resource_id": 0}, ("incorrect_value", "/data/resource_id")),
        ({"actor_id": "me"}, ("invalid_type", "/data/actor_id")),
        ({"actor_id": 1.5}, ("invalid_type", "/data/actor_id")),
        ({"actor_id": 0}, ("incorrect_value", "/data/actor_id")),
        ({"id": 1}, ("unknown", "/data/id")),
        ({"state": "active"}, ("unknown", "/data/state")),
        ({"a~b/c": 1}, ("unknown", "/data/a~0b~1c")),
    ],
)
def test_create_errors(change: dict[str, Any], error: tuple[str, str]) -> None:
    assert errors_of(parse_create_enrollment, {**CREATE, **change}) == [error]


@pytest.mark.parametrize("key", ["sequence_id", "resource_type", "resource_id"])
def test_create_missing(key: str) -> None:
    data = {k: v for k, v in CREATE.items() if k != key}
    assert errors_of(parse_create_enrollment, data) == [("missing", f"/data/{key}")]


def test_create_reports_every_bad_field_at_once() -> None:
    data = {"sequence_id": "x", "resource_type": "deal", "actor_id": True, "colour": "red"}
    assert errors_of(parse_create_enrollment, data) == [
        ("invalid_type", "/data/sequence_id"),
        ("incorrect_value", "/data/resource_type"),
        ("missing", "/data/resource_id"),
        ("invalid_type", "/data/actor_id"),
        ("unknown", "/data/colour"),
    ]


def test_zapier_inputs_rails_style() -> None:
    """Zendesk's Zapier integration sends ids as strings and leaves optional ones blank."""
    created = parse_create_enrollment(
        {"sequence_id": "2", "resource_type": "lead", "resource_id": "1000", "actor_id": ""})
    assert (created.sequence_id, created.resource_id, created.actor_id) == (2, 1000, None)
    assert parse_create_enrollment({**CREATE, "actor_id": "7"}).actor_id == 7
    finished = parse_finish_ongoing({"resource_type": "lead", "resource_id": "1000"})
    assert (finished.resource_id, finished.sequence_ids) == (1000, None)
    assert parse_finish_ongoing({"resource_type": "lead", "resource_id": 1000,
                                 "sequence_ids": ["2", 3.0]}).sequence_ids == (2, 3)
    assert parse_finish_ongoing({"resource_type": "lead", "resource_id": 1000,
                                 "sequence_ids": ""}).sequence_ids is None


def test_errors_name_the_resource_and_say_what_was_wrong() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_create_enrollment({**CREATE, "resource_type": "deal", "resource_id": "5 "})
    error = info.value
    assert error.resource == "sequence_enrollment"
    wrong_type, wrong_id = error.errors
    assert wrong_type.message == "resource_type must be one of: lead, contact"
    assert wrong_type.details == 'got "deal"'
    assert wrong_id.message == "resource_id must be an integer or a string of decimal digits"
    assert wrong_id.details == 'got a string: "5 "'


def test_create_from_raw_json_keeps_integers_and_booleans_apart() -> None:
    raw = orjson.dumps({"data": {**CREATE, "resource_id": True}})
    with pytest.raises(ValidationFailed) as info:
        parse_create_enrollment(parse_body(raw))
    assert [(d.code, d.field) for d in info.value.errors] == [
        ("invalid_type", "/data/resource_id")]
    huge = b'{"data": {"sequence_id": 554, "resource_type": "lead", "resource_id": 1e400}}'
    with pytest.raises(InvalidPayload):
        parse_body(huge)
    big = b'{"data": {"sequence_id": 554, "resource_type": "lead", "resource_id": 1' + (
        b"0" * 25) + b"}}"
    with pytest.raises(ValidationFailed) as info:  # an integer, as JSON Schema reads it: too big
        parse_create_enrollment(parse_body(big))
    assert [(d.code, d.field) for d in info.value.errors] == [
        ("incorrect_value", "/data/resource_id")]


# -- update --------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["active", "finished", "blocked"])
def test_update_takes_any_state_the_use_case_then_judges(state: str) -> None:
    assert parse_update_enrollment({"state": state}) is EnrollmentState(state)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, [("missing", "/data/state")]),
        ({"state": None}, [("blank", "/data/state")]),
        ({"state": ""}, [("blank", "/data/state")]),
        ({"state": 1}, [("invalid_type", "/data/state")]),
        ({"state": "paused"}, [("incorrect_value", "/data/state")]),
        ({"state": "finished", "finished_reason": "manual"},
         [("unknown", "/data/finished_reason")]),
        ({"resource_id": 1, "current_step_position": 0},
         [("missing", "/data/state"), ("unknown", "/data/resource_id"),
          ("unknown", "/data/current_step_position")]),
    ],
)
def test_update_errors(data: dict[str, Any], errors: Errors) -> None:
    assert errors_of(parse_update_enrollment, data) == errors


# -- finish ongoing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequence_ids", "parsed"),
    [(None, None), ([], None), ([2222], (2222,)), ([3, 1, 3], (3, 1))],
)
def test_finish_ongoing(sequence_ids: list[int] | None, parsed: tuple[int, ...] | None) -> None:
    data = {"resource_type": "lead", "resource_id": 5, "sequence_ids": sequence_ids}
    assert parse_finish_ongoing(data) == FinishOngoing(ResourceType.LEAD, 5, parsed)
    assert parse_finish_ongoing({"resource_type": "contact", "resource_id": 5}) == (
        FinishOngoing(ResourceType.CONTACT, 5, None))


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, [("missing", "/data/resource_type"), ("missing", "/data/resource_id")]),
        ({"resource_type": "lead", "resource_id": 5, "sequence_ids": 2222},
         [("invalid_type", "/data/sequence_ids")]),
        ({"resource_type": "lead", "resource_id": 5, "sequence_ids": "2222"},
         [("invalid_type", "/data/sequence_ids")]),
        ({"resource_type": "lead", "resource_id": 5, "sequence_ids": [1, "2x", 0, True]},
         [("invalid_type", "/data/sequence_ids/1"), ("incorrect_value", "/data/sequence_ids/2"),
          ("invalid_type", "/data/sequence_ids/3")]),
        ({"resource_type": "user", "resource_id": -5, "sequence_id": 1},
         [("incorrect_value", "/data/resource_type"), ("incorrect_value", "/data/resource_id"),
          ("unknown", "/data/sequence_id")]),
    ],
)
def test_finish_ongoing_errors(data: dict[str, Any], errors: Errors) -> None:
    assert errors_of(parse_finish_ongoing, data) == errors


# -- the inline fast path agrees with the field-by-field one --------------------------------

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2, max_value=MAX_ID + 2),
    st.sampled_from([1.0, 2.5, "", " ", "lead", "contact", "Lead", "5", "05", "0", [], {}]),
)
FIELDS = ["sequence_id", "resource_type", "resource_id", "actor_id", "extra"]


def expected_errors(data: dict[str, Any]) -> Errors:
    """An oracle written from the rules in docs/wire.md, independent of the parser."""
    found: Errors = []
    for key in ("sequence_id", "resource_type", "resource_id", "actor_id"):
        value, at = data.get(key, "<absent>"), f"/data/{key}"
        if key == "actor_id" and value in (None, "<absent>", ""):
            continue
        if key != "resource_type" and value == "":
            found.append(("blank", at))
            continue
        if type(value) is float and value == int(value):
            value = int(value)  # 1.0 is the integer 1, as in JSON Schema
        if key != "resource_type" and value in ("5", "0"):
            value = int(value)  # a string of digits is the integer it spells (Rails)
        if value == "<absent>":
            found.append(("missing", at))
        elif value is None:
            found.append(("blank", at))
        elif key == "resource_type":
            if not isinstance(value, str):
                found.append(("invalid_type", at))
            elif not value.strip():
                found.append(("blank", at))
            elif value not in ("lead", "contact"):
                found.append(("incorrect_value", at))
        elif type(value) is not int:
            found.append(("invalid_type", at))
        elif not 0 < value <= MAX_ID:
            found.append(("incorrect_value", at))
    found.extend(("unknown", f"/data/{key}") for key in data if key == "extra")
    return found


@given(st.dictionaries(st.sampled_from(FIELDS), VALUES))
def test_create_accepts_exactly_what_the_rules_allow(data: dict[str, Any]) -> None:
    expected = expected_errors(data)
    if expected:
        assert errors_of(parse_create_enrollment, data) == expected
    else:
        parsed = parse_create_enrollment(data)
        assert (parsed.sequence_id, parsed.resource_type, parsed.resource_id,
                parsed.actor_id) == (int(data["sequence_id"]), data["resource_type"],
                                     int(data["resource_id"]),
                                     int(data["actor_id"]) if data.get("actor_id") else None)
