"""The fast paths of reading a create body (P8) decide nothing on their own:
`parse_body`'s common envelope gives what the full envelope checks give for any
body, and the `CreateEnrollment` the inline path builds is the one the
field-by-field path builds, as immutable."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from engine import ResourceType
from engine.errors import ErrorDetail, InvalidPayload
from engine.wire import CreateEnrollment, parse_body, parse_create_enrollment
from engine.wire.envelope import _checked_envelope

KEYS = st.sampled_from(["data", "meta", "type", "a", "a:b"])
SCALARS = st.sampled_from(["1", "null", "true", '"x"', '":"', '"\\u003a"', '"a\\":b"', "[]"])


def obj(members: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'"{key}": {value}' for key, value in members) + "}"


values = st.recursive(
    SCALARS, lambda inner: st.lists(st.tuples(KEYS, inner), max_size=3).map(obj), max_leaves=6
)
bodies = st.one_of(
    st.lists(st.tuples(KEYS, values), max_size=4).map(obj),  # any object, repeats included
    values,  # not an object at all
)


def outcome(read: Any) -> dict[str, Any] | tuple[str, tuple[ErrorDetail, ...]]:
    try:
        data: dict[str, Any] = read()
    except InvalidPayload as error:
        return error.message, error.errors
    return data


@given(bodies)
@example('{"data": {"a": 1}}')
@example('{"data": {"a": 1}, "meta": {"type": "x"}}')
@example('{"data": {"a": 1, "a": 1}}')
@example('{"data": {"a": 1}, "meta": {"type": "x", "type": "x"}}')
@example('{"data": {"a": ":"}, "meta": {"type": "x"}}')
@example('{"data": {"a": 1}, "meta": null}')
@example('{"data": {"a": 1}, "a": {}}')
@example('{"meta": {}, "a": {}}')
def test_the_common_envelope_reads_as_the_full_checks_do(text: str) -> None:
    raw = text.encode()
    expected = outcome(lambda: _checked_envelope(raw, orjson.loads(raw)))
    assert outcome(lambda: parse_body(raw)) == expected
    assert outcome(lambda: parse_body(text)) == expected  # str bodies: the full checks


@pytest.mark.parametrize("actor_id", [None, 7])
def test_the_inline_command_is_the_field_by_field_one(actor_id: int | None) -> None:
    given_actor = {} if actor_id is None else {"actor_id": actor_id}
    inline = parse_create_enrollment(
        {"sequence_id": 554, "resource_type": "lead", "resource_id": 12866615, **given_actor}
    )
    # a digit string is not the inline path's: this one takes the field-by-field path
    checked = parse_create_enrollment(
        {"sequence_id": "554", "resource_type": "lead", "resource_id": 12866615, **given_actor}
    )
    expected = CreateEnrollment(554, ResourceType.LEAD, 12866615, actor_id)
    for parsed in (inline, checked):
        assert type(parsed) is CreateEnrollment
        assert parsed == expected and repr(parsed) == repr(expected)
        assert type(parsed.resource_type) is ResourceType


def test_the_command_is_immutable() -> None:
    command = parse_create_enrollment(
        {"sequence_id": 554, "resource_type": "contact", "resource_id": 1}
    )
    with pytest.raises(AttributeError):
        command.actor_id = 5  # type: ignore[misc]
    assert command.actor_id is None
