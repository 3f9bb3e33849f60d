"""parse_body's member count (colons in the text vs members of the envelope, `data` and
`meta`) refuses exactly the bodies that repeat a key, wherever it repeats: at the top
level, in `data`, in `meta`, deeper down; whatever the strings hold (colons, escapes)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from engine.errors import InvalidPayload
from engine.wire import parse_body

KEYS = st.sampled_from(["data", "meta", "a", "b", "a:b", "\\u0061", "\\u003a"])
STRINGS = st.sampled_from(['"x"', '":"', '"\\u003a"', '"a\\":b"', '"::"'])
SCALARS = st.one_of(st.integers(-3, 3).map(str), st.sampled_from(["null", "true"]), STRINGS)


def obj(members: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'"{key}": {value}' for key, value in members) + "}"


values = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(KEYS, inner), max_size=3).map(obj),
    ),
    max_leaves=8,
)
flat = st.lists(st.tuples(KEYS, SCALARS), max_size=4).map(obj)


def repeats(text: str) -> bool:
    found = False

    def check(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({key for key, _ in pairs}) != len(pairs)
        return dict(pairs)

    json.loads(text, object_pairs_hook=check)
    return found


@given(st.lists(st.tuples(KEYS, flat | values), min_size=1, max_size=4).map(obj))
@example('{"data": {"a": 1}, "data": {"a": 1}}')
@example('{"data": {"a": 1, "a": 1}}')
@example('{"data": {"a": 1}, "meta": {"type": "x", "type": "x"}}')
@example('{"data": {"a": "\\u003a", "a": 1}}')
def test_a_repeated_key_is_refused_wherever_it_is(text: str) -> None:
    try:
        parse_body(text.encode())
        refused = False
    except InvalidPayload as error:
        refused = "twice" in error.message
    assert refused == repeats(text), text
