"""Duplicate keys: the colon-counting fast check never disagrees with the exact one."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidPayload
from engine.wire import parse_body

KEYS = st.sampled_from(["a", "b", "a:b", ":", "\\u003a", 'q\\"', "data"])
SCALARS = st.one_of(st.integers(-5, 5), st.booleans(), st.none(),
                    st.sampled_from(['"x"', '":"', '"a:b:c"', '"\\u003a"', '"\\":"', "1.5"]))


def render(value: Any) -> str:
    """Raw JSON text with members as given (so keys may repeat)."""
    if isinstance(value, list) and value and value[0] == "obj":
        return "{" + ", ".join(f'"{key}": {render(item)}' for key, item in value[1:]) + "}"
    if isinstance(value, list):
        return "[" + ",".join(render(item) for item in value) + "]"
    return value if isinstance(value, str) else json.dumps(value)


values = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(st.tuples(KEYS, inner), max_size=4).map(lambda members: ["obj", *members])),
    max_leaves=12)


def has_duplicates(text: str) -> bool:
    found = False

    def check(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({key for key, _ in pairs}) != len(pairs)
        return dict(pairs)

    json.loads(text, object_pairs_hook=check)
    return found


@given(st.lists(st.tuples(KEYS, values), max_size=4))
def test_a_key_twice_in_any_object_is_refused(members: list[tuple[str, Any]]) -> None:
    text = render(["obj", ("data", ["obj", *members]), ("meta", ["obj"])])
    try:
        parse_body(text.encode())
        refused = False
    except InvalidPayload as error:
        refused = "twice" in error.message
    assert refused == has_duplicates(text), text


def test_a_key_twice_beside_a_value_too_deep_to_dump_again_is_refused() -> None:
    """orjson reads 300 nested lists but will not write them back (its limit is lower),
    so the colon count of the dumped document cannot be had: the exact check runs.
    Kills envelope._refuse_duplicates's `fast = True` when the dump fails."""
    deep = b"[" * 300 + b"]" * 300
    with pytest.raises(InvalidPayload, match="the key 'a' appears twice"):
        parse_body(b'{"data": {"a": 1, "a": ' + deep + b"}}")
