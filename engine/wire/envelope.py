"""The request envelope: `{"data": {...}}`, as JSON with each key once per object.

Pure. A body that is not JSON, not that envelope, or repeats a key in one object
is an `InvalidPayload` (400 `invalid_payload`).
"""

from typing import Any

import orjson

from engine.errors import InvalidPayload
from engine.wire.duplicates import duplicate_key
from engine.wire.fields import MISSING, pointer, type_name

_dumps, _loads = orjson.dumps, orjson.loads


def parse_body(raw: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    """The `data` object of a `{"data": {...}}` body; a sibling `meta` object is ignored."""
    try:
        document = _loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidPayload("the request body is not valid JSON", details=str(error)) from None
    # The common body (P8), accepted here only where _checked_envelope would accept it
    # too: bytes holding `{"data": {...}}`, or that and a `meta` object, and no more
    # colons than their members. Every member of the raw text has its `:`, so equal
    # counts mean no member was dropped and no key repeats: exact.
    if type(document) is dict and type(raw) is bytes:
        data = document.get("data")
        if type(data) is dict:
            size = len(document)
            if size == 1:
                if raw.count(b":") == 1 + len(data):
                    return data
            elif size == 2:
                meta = document.get("meta")
                if type(meta) is dict and raw.count(b":") == 2 + len(data) + len(meta):
                    return data
    return _checked_envelope(raw, document)


def _checked_envelope(raw: bytes | bytearray | memoryview | str, document: Any) -> dict[str, Any]:
    """Every other body: the same rules as the fast path, each refusal with its reason."""
    if type(document) is not dict:
        _refuse_duplicates(raw, document)
        raise InvalidPayload(
            'the request body must be a JSON object {"data": {...}}',
            details=f"got {type_name(document)}",
        )
    size = len(document)
    data, meta = document.get("data", MISSING), document.get("meta", MISSING)
    meta_is_object = type(meta) is dict
    if type(raw) is bytes:
        # The colon count of the fast path; when it differs, the check that finds the key.
        members = size + len(meta) if meta_is_object else size
        if type(data) is dict:
            members += len(data)
        if raw.count(b":") != members:
            _refuse_duplicates(raw, document)
    else:
        _refuse_duplicates(raw, document)
    if type(data) is not dict:
        raise InvalidPayload(
            'the request body must be a JSON object {"data": {...}}',
            field="/data",
            details="data is missing" if data is MISSING else f"data is {type_name(data)}",
        )
    if size > 1 and not (size == 2 and meta_is_object):
        extra = [key for key in document if key not in ("data", "meta")]
        if extra:
            raise InvalidPayload(
                f"unexpected top-level member {extra[0]!r}: the body is {{\"data\": {{...}}}}",
                field=pointer("", extra[0]),
            )
        if meta is not None:
            raise InvalidPayload("meta must be a JSON object", field="/meta",
                                 details=f"meta is {type_name(meta)}")
    return data


def _refuse_duplicates(raw: bytes | bytearray | memoryview | str, document: Any) -> None:
    """InvalidPayload if a key repeats in one object of `raw` (`document` parsed from it).

    The colon-counting check of wire.duplicates first; any backslash, not just
    `\\u`, sends a body to the exact check (one byte is cheaper to look for)."""
    try:
        fast = type(raw) is bytes and b"\\" not in raw and raw.count(b":") == _dumps(
            document
        ).count(b":")
    except orjson.JSONEncodeError:
        fast = False
    if not fast:
        twice = duplicate_key(_as_bytes(raw))  # the exact, slower check (wire.duplicates)
        if twice is not None:
            raise InvalidPayload(f"the key {twice!r} appears twice in one JSON object",
                                 details="each key may appear once per object")


def _as_bytes(raw: bytes | bytearray | memoryview | str) -> bytes:
    if type(raw) is bytes:
        return raw
    return raw.encode() if isinstance(raw, str) else bytes(raw)
