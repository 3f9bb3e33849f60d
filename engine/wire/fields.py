"""Checkers for the fields of a request body: each appends an ErrorDetail (code and
JSON pointer) to `errors` instead of raising, so a parser reports every bad field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

from engine.domain.enums import ActionType, DelayUnit, EnrollmentState, ResourceType
from engine.errors import ErrorDetail

T = TypeVar("T")

MAX_ID = 2**63 - 1  # what every storage backend can hold
MAX_INSTANT = 40  # characters of an ISO 8601 instant; longer is not one we read
MAX_NAME = 255  # a sequence's name
MAX_TEXT = 10_000  # a task's content
MAX_LOCALE = 35  # a language tag

MISSING: Any = object()
JSON_TYPES = {
    bool: "a boolean", int: "an integer", float: "a number", str: "a string",
    list: "an array", dict: "an object", type(None): "null",
}
RESOURCE_TYPES = {m.value: m for m in ResourceType}
STATES = {m.value: m for m in EnrollmentState}
UNITS = {m.value: m for m in DelayUnit}
ACTION_TYPES = {m.value: m for m in ActionType}


def pointer(prefix: str, key: str) -> str:
    return f"{prefix}/{key.replace('~', '~0').replace('/', '~1')}"


def type_name(value: object) -> str:
    return JSON_TYPES.get(type(value), "a value")


def shown(value: object, limit: int = 60) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def absent(name: str, at: str, value: object) -> ErrorDetail:
    if value is MISSING:
        return ErrorDetail("missing", f"{name} is required", at)
    return ErrorDetail("blank", f"{name} must not be blank", at, "got null")


def invalid_type(name: str, at: str, value: object, expected: str) -> ErrorDetail:
    return ErrorDetail("invalid_type", f"{name} must be {expected}", at,
                       f"got {type_name(value)}: {shown(value)}")


AN_INTEGER = "an integer or a string of decimal digits"


def integer_of(value: Any) -> int | None:
    """An integer as a client may spell it, or None: a JSON integer; a number with no
    fraction (`3.0` is an integer in JSON Schema); or, as Sell's Rails back end reads
    parameters, a string of decimal digits without sign, spaces or leading zeros
    (`"1000"`). Never a boolean."""
    kind = type(value)
    if kind is int:
        result: int = value
        return result
    if kind is float and value.is_integer():
        return int(value)
    if kind is str and value.isascii() and value.isdigit() and (
            len(value) == 1 or value[0] != "0") and len(value) <= 20:
        return int(value)
    return None


def _name(at: str) -> str:
    """How a message names the field at a pointer: `/data/steps/0/x` is `steps/0/x`
    (every pointer a body parser makes starts with `/data/`)."""
    return at.removeprefix("/data/")


def id_value(value: Any, at: str, errors: list[ErrorDetail]) -> int:
    number = integer_of(value)
    if number is None:
        errors.append(invalid_type(_name(at), at, value, AN_INTEGER))
        return 0
    if not 1 <= number <= MAX_ID:
        errors.append(ErrorDetail("incorrect_value", f"{_name(at)} must be an integer from 1 "
                                  f"to {MAX_ID}", at, f"got {shown(value)}"))
        return 0
    return number


def blank_string(key: str, at: str) -> ErrorDetail:
    return ErrorDetail("blank", f"{key} must not be blank", at, 'got ""')


def required_id(data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail]) -> int:
    value = data.get(key)
    if type(value) is int and 0 < value <= MAX_ID:  # the common case, first
        return value
    at = f"{prefix}/{key}"
    if value is None:
        errors.append(absent(key, at, data.get(key, MISSING)))
        return 0
    if value == "":
        errors.append(blank_string(key, at))
        return 0
    return id_value(value, at, errors)


def optional_id(
    data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail]
) -> int | None:
    """Absent, null or `""` (an optional field left blank, as Rails reads it): None."""
    value = data.get(key)
    if value is None or value == "":
        return None
    return id_value(value, f"{prefix}/{key}", errors) or None


def required_int(data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail]) -> int:
    """An integer (see integer_of; range checks are the caller's); 0 when absent or bad."""
    value = data.get(key, MISSING)
    if type(value) is int:
        return value
    at = f"{prefix}/{key}"
    number = integer_of(value)
    if number is not None:
        return number
    if value is MISSING or value is None:
        errors.append(absent(key, at, value))
    elif value == "":
        errors.append(blank_string(key, at))
    else:
        errors.append(invalid_type(key, at, value, AN_INTEGER))
    return 0


def required_choice(
    data: Mapping[str, Any], key: str, choices: dict[str, T], prefix: str,
    errors: list[ErrorDetail],
) -> T | None:
    """One of `choices` (by its wire value); when bad, an error and None."""
    value = data.get(key, MISSING)
    found = choices.get(value) if type(value) is str else None
    if found is not None:
        return found
    at = f"{prefix}/{key}"
    if value is MISSING or value is None:
        errors.append(absent(key, at, value))
    elif type(value) is not str:
        errors.append(invalid_type(key, at, value, "a string"))
    elif not value.strip():
        errors.append(ErrorDetail("blank", f"{key} must not be blank", at))
    else:
        errors.append(ErrorDetail("incorrect_value", f"{key} must be one of: "
                                  + ", ".join(choices), at, f"got {shown(value)}"))
    return None


def nonblank(
    data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail], *, required: bool,
    max_length: int,
) -> str | None:
    """A non-blank string (kept as given) of at most `max_length` characters. An
    optional field sent as `""` is not given (Rails-style); a required one is blank."""
    value = data.get(key, MISSING)
    at = f"{prefix}/{key}"
    if value is MISSING or value is None or (value == "" and not required):
        if required:
            errors.append(absent(key, at, value))
        return None
    if type(value) is not str:
        errors.append(invalid_type(key, at, value, "a string"))
        return None
    if not value.strip():
        errors.append(ErrorDetail("blank", f"{key} must not be blank", at))
        return None
    if len(value) > max_length:
        errors.append(ErrorDetail("incorrect_value", f"{key} must be at most {max_length} "
                                  "characters", at, f"got {len(value)}"))
        return None
    return value


def optional_bool(
    data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail]
) -> bool | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if type(value) is bool:
        found: bool = value
        return found
    errors.append(invalid_type(key, f"{prefix}/{key}", value, "a boolean"))
    return None


def reject_unknown(
    data: Mapping[str, Any], known: frozenset[str], prefix: str, errors: list[ErrorDetail]
) -> None:
    for key in data:
        if key not in known:
            errors.append(ErrorDetail("unknown", f"unknown field {key!r}", pointer(prefix, key),
                                      "allowed: " + ", ".join(sorted(known))))


def instant_field(
    data: Mapping[str, Any], key: str, errors: list[ErrorDetail]
) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    at = f"/data/{key}"
    if type(value) is not str:
        errors.append(invalid_type(key, at, value, "a string"))
        return None
    try:
        return parse_instant(value)
    except ValueError as error:
        errors.append(ErrorDetail("incorrect_value", f"{key} must be an ISO 8601 instant with "
                                  "Z or an offset", at, str(error)))
        return None


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with `Z` or an offset, as aware UTC; ValueError otherwise
    (a date or time without an offset is rejected: it names no instant)."""
    if type(text) is not str or not 16 <= len(text) <= MAX_INSTANT or text[10] not in "Tt ":
        raise ValueError(f"not an ISO 8601 date and time: {shown(text)}")
    try:
        instant = datetime.fromisoformat(text)
        if instant.tzinfo is None:
            raise ValueError(f"no UTC offset in {shown(text)}: add Z or +HH:MM")
        return instant.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"out of range: {shown(text)}") from None

