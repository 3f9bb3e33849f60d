"""Duplicate keys in a JSON object, found without slowing the common body down.

orjson keeps the last of two equal keys and says nothing, so a parsed document
cannot show a duplicate; re-parsing every body with `json.loads(...,
object_pairs_hook=...)` would cost more than the whole parse it guards (P8).

The fast check counts colons. In JSON text a `:` is either the separator of one
object member or a character inside a string. So, for a body without `\\u`
escapes (one could spell a colon `\\u003a`), the raw text has exactly as many
colons as the parsed document written out again (orjson, in C: its members'
separators plus the colons inside its strings) when no member was dropped: a
dropped duplicate leaves its separator, and whatever its value held, in the raw
text only. A body where the counts differ, or that has a backslash at all (so
no `\\u` escape can hide a colon, and one byte is cheaper to look for than
two), gets the exact slow check. Cost on a create body: ~0.25 µs (docs/http.md).
"""

import json
from typing import Any

import orjson


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def colons(document: Any) -> int:
    """The colons of `document` written out as JSON: the fast check compares them
    with the raw text's (the caller inlines it: this runs on every body). -1 when
    orjson cannot write it (an integer beyond 64 bits), so the slow check runs."""
    try:
        return orjson.dumps(document).count(b":")
    except orjson.JSONEncodeError:
        return -1


def duplicate_key(raw: bytes) -> str | None:
    """The first key that occurs twice in one object of `raw`, or None (exact)."""
    try:
        json.loads(raw, object_pairs_hook=_refuse_duplicates)
    except DuplicateKey as found:
        return found.key
    return None


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return found
