"""Sell v2 requests to small frozen values (http-api.md sections 1-4).

Pure. Every parser checks the whole request and reports every bad field at
once: body fields as one `ValidationFailed` (422) whose details carry the codes
`missing`, `blank`, `invalid_type`, `incorrect_value`, `unknown` and a JSON
pointer (`/data/resource_type`); query parameters as one `InvalidParams` (400,
`invalid_param`, field = the parameter's name). A body that is not JSON or not
`{"data": {...}}` is an `InvalidPayload` (400).

Conventions (docs/wire.md): an integer is a JSON integer (never a boolean, a
float or a string); ids are 1..2**63-1; a required field that is null is
`blank`; an optional field that is null is simply not given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from engine.app.ports import EnrollmentFilter, Page, TaskFilter
from engine.domain.enums import ActionType, DelayUnit, EnrollmentState, ResourceType
from engine.domain.sequence import Step, UnsubscribeSettings
from engine.errors import ErrorDetail, InvalidParam, InvalidPayload, ValidationFailed

__all__ = [
    "MAX_DELAY",
    "MAX_ID",
    "MAX_IDS",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "MAX_STEPS",
    "CreateEnrollment",
    "FinishOngoing",
    "InvalidParams",
    "SequenceInput",
    "TaskUpdate",
    "parse_body",
    "parse_create_enrollment",
    "parse_enrollment_filter",
    "parse_enrollment_query",
    "parse_finish_ongoing",
    "parse_instant",
    "parse_page",
    "parse_sequence",
    "parse_task_filter",
    "parse_task_query",
    "parse_task_update",
    "parse_update_enrollment",
]

MAX_ID = 2**63 - 1  # what every storage backend can hold
MAX_PER_PAGE = 100
MAX_PAGE = 2**31 - 1  # keeps the offset (page - 1) * per_page inside a 64-bit integer
MAX_IDS = 1000  # ids per list parameter
MAX_STEPS = 100
# About ten years per step: with MAX_STEPS, a plan can never leave datetime's range.
MAX_DELAY: dict[DelayUnit, int] = {DelayUnit.HOURS: 87_600, DelayUnit.WEEKDAYS: 2_610}

ENROLLMENT, SEQUENCE, TASK = "sequence_enrollment", "sequence", "task"

_MISSING: Any = object()
_JSON_TYPES = {
    bool: "a boolean", int: "an integer", float: "a number", str: "a string",
    list: "an array", dict: "an object", type(None): "null",
}
_RESOURCE_TYPES = {m.value: m for m in ResourceType}
_STATES = {m.value: m for m in EnrollmentState}
_UNITS = {m.value: m for m in DelayUnit}
_ACTION_TYPES = {m.value: m for m in ActionType}


@dataclass(frozen=True, slots=True)
class CreateEnrollment:
    sequence_id: int
    resource_type: ResourceType
    resource_id: int
    actor_id: int | None = None  # None: the caller's own user


@dataclass(frozen=True, slots=True)
class FinishOngoing:
    resource_type: ResourceType
    resource_id: int
    sequence_ids: tuple[int, ...] | None = None  # None: every sequence


@dataclass(frozen=True, slots=True)
class SequenceInput:
    """POST (everything but unsubscribe_settings given) or PUT (None: unchanged)."""

    name: str | None
    steps: tuple[Step, ...] | None
    unsubscribe_settings: UnsubscribeSettings | None

    def changes(self) -> dict[str, Any]:
        """The given fields, as keyword arguments for SequenceEngine.update_sequence."""
        return {
            key: value
            for key, value in (
                ("name", self.name),
                ("steps", self.steps),
                ("unsubscribe_settings", self.unsubscribe_settings),
            )
            if value is not None
        }


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """PUT /v2/tasks/:id; None: unchanged."""

    completed: bool | None = None
    content: str | None = None
    due_date: datetime | None = None
    remind_at: datetime | None = None

    def changes(self) -> dict[str, Any]:
        """The given fields, as keyword arguments for SequenceEngine.update_task."""
        return {
            key: value
            for key, value in (
                ("completed", self.completed),
                ("content", self.content),
                ("due_date", self.due_date),
                ("remind_at", self.remind_at),
            )
            if value is not None
        }


class InvalidParams(InvalidParam):
    """400 `invalid_param` with one detail per bad query parameter."""

    def __init__(self, errors: list[ErrorDetail]) -> None:
        if not errors:
            raise ValueError("InvalidParams needs at least one error")
        super().__init__("; ".join(e.message for e in errors), field=errors[0].field)
        self.errors = tuple(errors)


# -- the envelope --------------------------------------------------------------


def parse_body(raw: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    """The `data` object of a `{"data": {...}}` body; a sibling `meta` object is ignored."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidPayload("the request body is not valid JSON", details=str(error)) from None
    if type(document) is not dict:
        raise InvalidPayload(
            'the request body must be a JSON object {"data": {...}}',
            details=f"got {_JSON_TYPES[type(document)]}",
        )
    data = document.get("data", _MISSING)
    if type(data) is not dict:
        raise InvalidPayload(
            'the request body must be a JSON object {"data": {...}}',
            field="/data",
            details="data is missing" if data is _MISSING else f"data is {_type_name(data)}",
        )
    if len(document) > 1:
        meta = document.get("meta", _MISSING)
        extra = [key for key in document if key not in ("data", "meta")]
        if extra:
            raise InvalidPayload(
                f"unexpected top-level member {extra[0]!r}: the body is {{\"data\": {{...}}}}",
                field=_pointer("", extra[0]),
            )
        if type(meta) is not dict:
            raise InvalidPayload("meta must be a JSON object", field="/meta",
                                 details=f"meta is {_type_name(meta)}")
    return data


# -- sequence enrollments --------------------------------------------------------

_CREATE_FIELDS = frozenset({"sequence_id", "resource_type", "resource_id", "actor_id"})
_UPDATE_FIELDS = frozenset({"state"})
_FINISH_FIELDS = frozenset({"resource_type", "resource_id", "sequence_ids"})


def parse_create_enrollment(data: Mapping[str, Any]) -> CreateEnrollment:
    """POST /v2/sequence_enrollments."""
    errors: list[ErrorDetail] = []
    sequence_id = _required_id(data, "sequence_id", "/data", errors)
    resource_type = _required_choice(data, "resource_type", _RESOURCE_TYPES, "/data", errors)
    resource_id = _required_id(data, "resource_id", "/data", errors)
    actor_id = _optional_id(data, "actor_id", "/data", errors)
    _reject_unknown(data, _CREATE_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=ENROLLMENT)
    return CreateEnrollment(sequence_id, resource_type, resource_id, actor_id)


def parse_update_enrollment(data: Mapping[str, Any]) -> EnrollmentState:
    """PUT /v2/sequence_enrollments/:id: `state` only (the use case judges the transition)."""
    errors: list[ErrorDetail] = []
    state = _required_choice(data, "state", _STATES, "/data", errors)
    _reject_unknown(data, _UPDATE_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=ENROLLMENT)
    return state


def parse_finish_ongoing(data: Mapping[str, Any]) -> FinishOngoing:
    """POST /v2/sequence_enrollments/finish_ongoing_for_resource."""
    errors: list[ErrorDetail] = []
    resource_type = _required_choice(data, "resource_type", _RESOURCE_TYPES, "/data", errors)
    resource_id = _required_id(data, "resource_id", "/data", errors)
    sequence_ids: tuple[int, ...] | None = None
    value = data.get("sequence_ids")
    if value is not None:
        if type(value) is not list:
            errors.append(_invalid_type("sequence_ids", "/data/sequence_ids", value, "an array"))
        else:
            ids = [_id_value(item, f"/data/sequence_ids/{i}", errors)
                   for i, item in enumerate(value)]
            sequence_ids = tuple(dict.fromkeys(ids)) or None
    _reject_unknown(data, _FINISH_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=ENROLLMENT)
    return FinishOngoing(resource_type, resource_id, sequence_ids)


# -- sequences -------------------------------------------------------------------

_SEQUENCE_FIELDS = frozenset({"name", "steps", "unsubscribe_settings"})
_UNSUBSCRIBE_FIELDS = frozenset({"enabled", "locale"})
_STEP_FIELDS = frozenset({
    "position", "delay_from_previous_step", "delay_from_previous_step_unit",
    "action_type", "action_properties",
})
_PROPERTY_FIELDS = {
    ActionType.AUTOMATED_EMAIL: frozenset({"email_template_id", "is_reply"}),
    ActionType.TASK: frozenset({"task_content"}),
}


def parse_sequence(data: Mapping[str, Any], partial: bool) -> SequenceInput:
    """POST /v2/sequences (`partial=False`: `name` and `steps` required) or
    PUT /v2/sequences/:id (`partial=True`: every field optional)."""
    errors: list[ErrorDetail] = []
    name = _text(data, "name", "/data", errors, required=not partial)
    steps: tuple[Step, ...] | None = None
    value = data.get("steps", _MISSING)
    if value is _MISSING or value is None:
        if not partial:
            errors.append(_absent("steps", "/data/steps", value))
    elif type(value) is not list:
        errors.append(_invalid_type("steps", "/data/steps", value, "an array"))
    elif len(value) > MAX_STEPS:
        errors.append(ErrorDetail("incorrect_value", f"a sequence has at most {MAX_STEPS} steps",
                                  "/data/steps", f"got {len(value)}"))
    else:
        parsed = [_step(item, i, errors) for i, item in enumerate(value)]
        steps = tuple(step for step in parsed if step is not None)
    settings = _unsubscribe_settings(data, errors)
    _reject_unknown(data, _SEQUENCE_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=SEQUENCE)
    return SequenceInput(name, steps, settings)


def _step(item: Any, index: int, errors: list[ErrorDetail]) -> Step | None:
    at = f"/data/steps/{index}"
    if type(item) is not dict:
        errors.append(_invalid_type(f"steps/{index}", at, item, "an object"))
        return None
    before = len(errors)
    position = item.get("position")
    if position is not None:
        if type(position) is not int:
            errors.append(_invalid_type("position", f"{at}/position", position, "an integer"))
        elif position != index:
            errors.append(ErrorDetail(
                "incorrect_value", f"position must be the step's index in steps ({index})",
                f"{at}/position", f"got {position}"))
    unit = _required_choice(item, "delay_from_previous_step_unit", _UNITS, at, errors)
    delay = _required_int(item, "delay_from_previous_step", at, errors)
    if delay < 0 or (unit in MAX_DELAY and delay > MAX_DELAY[unit]):
        limit = f"at most {MAX_DELAY[unit]} {unit}" if unit in MAX_DELAY else ""
        errors.append(ErrorDetail(
            "incorrect_value",
            f"delay_from_previous_step must be >= 0{' and ' + limit if limit else ''}",
            f"{at}/delay_from_previous_step", f"got {delay}"))
    action_type = _required_choice(item, "action_type", _ACTION_TYPES, at, errors)
    properties = item.get("action_properties", _MISSING)
    email_template_id, is_reply, task_content = None, False, None
    if properties is _MISSING or properties is None:
        errors.append(_absent("action_properties", f"{at}/action_properties", properties))
    elif type(properties) is not dict:
        errors.append(_invalid_type("action_properties", f"{at}/action_properties",
                                    properties, "an object"))
    elif action_type in _PROPERTY_FIELDS:
        props_at = f"{at}/action_properties"
        if action_type is ActionType.AUTOMATED_EMAIL:
            email_template_id = _required_id(properties, "email_template_id", props_at, errors)
            is_reply = _optional_bool(properties, "is_reply", props_at, errors) or False
        else:
            task_content = _text(properties, "task_content", props_at, errors, required=True)
        _reject_unknown(properties, _PROPERTY_FIELDS[action_type], props_at, errors)
    _reject_unknown(item, _STEP_FIELDS, at, errors)
    if len(errors) > before:
        return None
    return Step(index, delay, unit, action_type, email_template_id, is_reply, task_content)


def _unsubscribe_settings(
    data: Mapping[str, Any], errors: list[ErrorDetail]
) -> UnsubscribeSettings | None:
    value = data.get("unsubscribe_settings")
    at = "/data/unsubscribe_settings"
    if value is None:
        return None
    if type(value) is not dict:
        errors.append(_invalid_type("unsubscribe_settings", at, value, "an object"))
        return None
    before = len(errors)
    enabled = value.get("enabled", _MISSING)
    if enabled is _MISSING or enabled is None:
        errors.append(_absent("enabled", f"{at}/enabled", enabled))
    elif type(enabled) is not bool:
        errors.append(_invalid_type("enabled", f"{at}/enabled", enabled, "a boolean"))
    locale = _text(value, "locale", at, errors, required=True)
    if locale and not _is_locale(locale):
        errors.append(ErrorDetail("incorrect_value", "locale must be a language tag like en-US",
                                  f"{at}/locale", f"got {_shown(locale)}"))
    _reject_unknown(value, _UNSUBSCRIBE_FIELDS, at, errors)
    if len(errors) > before:
        return None
    return UnsubscribeSettings(enabled=enabled, locale=locale)


def _is_locale(text: str) -> bool:
    parts = text.split("-")
    return (
        2 <= len(parts[0]) <= 3 and parts[0].isascii() and parts[0].isalpha()
        and all(1 <= len(p) <= 8 and p.isascii() and p.isalnum() for p in parts[1:])
    )


# -- tasks -----------------------------------------------------------------------

_TASK_FIELDS = frozenset({"completed", "content", "due_date", "remind_at"})


def parse_task_update(data: Mapping[str, Any]) -> TaskUpdate:
    """PUT /v2/tasks/:id: Sell's writable task fields this engine keeps."""
    errors: list[ErrorDetail] = []
    completed = _optional_bool(data, "completed", "/data", errors)
    content = _text(data, "content", "/data", errors, required=False)
    due_date = _instant_field(data, "due_date", errors)
    remind_at = _instant_field(data, "remind_at", errors)
    _reject_unknown(data, _TASK_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=TASK)
    return TaskUpdate(completed, content, due_date, remind_at)


def _instant_field(
    data: Mapping[str, Any], key: str, errors: list[ErrorDetail]
) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    at = f"/data/{key}"
    if type(value) is not str:
        errors.append(_invalid_type(key, at, value, "a string"))
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
    if type(text) is not str or len(text) < 16 or text[10] not in "Tt ":
        raise ValueError(f"not an ISO 8601 date and time: {_shown(text)}")
    try:
        instant = datetime.fromisoformat(text)
        if instant.tzinfo is None:
            raise ValueError(f"no UTC offset in {_shown(text)}: add Z or +HH:MM")
        return instant.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"out of range: {_shown(text)}") from None


# -- query parameters --------------------------------------------------------------


def parse_page(query: Mapping[str, str]) -> Page:
    """`page` (from 1, default 1) and `per_page` (1..100, default 25)."""
    errors: list[ErrorDetail] = []
    page = _page(query, errors)
    _raise_params(errors)
    return page


def parse_enrollment_filter(query: Mapping[str, str]) -> EnrollmentFilter:
    errors: list[ErrorDetail] = []
    where = _enrollment_filter(query, errors)
    _raise_params(errors)
    return where


def parse_task_filter(query: Mapping[str, str]) -> TaskFilter:
    errors: list[ErrorDetail] = []
    where = _task_filter(query, errors)
    _raise_params(errors)
    return where


def parse_enrollment_query(query: Mapping[str, str]) -> tuple[EnrollmentFilter, Page]:
    """GET /v2/sequence_enrollments: the filter and the page, every bad parameter at once."""
    errors: list[ErrorDetail] = []
    where, page = _enrollment_filter(query, errors), _page(query, errors)
    _raise_params(errors)
    return where, page


def parse_task_query(query: Mapping[str, str]) -> tuple[TaskFilter, Page]:
    """GET /v2/tasks: the filter and the page, every bad parameter at once."""
    errors: list[ErrorDetail] = []
    where, page = _task_filter(query, errors), _page(query, errors)
    _raise_params(errors)
    return where, page


def _page(query: Mapping[str, str], errors: list[ErrorDetail]) -> Page:
    number = _param_int(query, "page", 1, MAX_PAGE, errors)
    size = _param_int(query, "per_page", 1, MAX_PER_PAGE, errors)
    return Page(number or 1, size or 25)


def _enrollment_filter(query: Mapping[str, str], errors: list[ErrorDetail]) -> EnrollmentFilter:
    return EnrollmentFilter(
        ids=_param_ids(query, "ids", errors),
        resource_ids=_param_ids(query, "resource_ids", errors),
        resource_type=_param_choice(query, "resource_type", _RESOURCE_TYPES, errors),
        sequence_id=_param_int(query, "sequence_id", 1, MAX_ID, errors),
        state=_param_choice(query, "state", _STATES, errors),
    )


def _task_filter(query: Mapping[str, str], errors: list[ErrorDetail]) -> TaskFilter:
    completed: bool | None = None
    text = query.get("completed")
    if text:
        completed = {"true": True, "false": False}.get(text.lower())
        if completed is None:
            errors.append(_bad_param("completed", "true or false", text))
    return TaskFilter(
        ids=_param_ids(query, "ids", errors),
        resource_type=_param_choice(query, "resource_type", _RESOURCE_TYPES, errors),
        resource_id=_param_int(query, "resource_id", 1, MAX_ID, errors),
        completed=completed,
    )


def _raise_params(errors: list[ErrorDetail]) -> None:
    if errors:
        raise InvalidParams(errors)


def _bad_param(name: str, expected: str, text: str) -> ErrorDetail:
    return ErrorDetail("invalid_param", f"{name} must be {expected}", name, f"got {_shown(text)}")


def _digits(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 19 else None


def _param_int(
    query: Mapping[str, str], name: str, low: int, high: int, errors: list[ErrorDetail]
) -> int | None:
    """An empty parameter counts as absent (clients often send `?page=`)."""
    text = query.get(name)
    if not text:
        return None
    number = _digits(text)
    if number is None or not low <= number <= high:
        errors.append(_bad_param(name, f"an integer from {low} to {high}", text))
        return None
    return number


def _param_ids(query: Mapping[str, str], name: str, errors: list[ErrorDetail]) -> tuple[int, ...] | None:
    text = query.get(name)
    if not text:
        return None
    parts = text.split(",")
    numbers = [_digits(part.strip()) for part in parts]
    if len(parts) > MAX_IDS:
        errors.append(_bad_param(name, f"at most {MAX_IDS} comma-separated ids", text))
        return None
    if any(n is None or not 1 <= n <= MAX_ID for n in numbers):
        errors.append(_bad_param(name, "comma-separated positive integers", text))
        return None
    return tuple(dict.fromkeys(n for n in numbers if n is not None))


def _param_choice[T](
    query: Mapping[str, str], name: str, choices: dict[str, T], errors: list[ErrorDetail]
) -> T | None:
    text = query.get(name)
    if not text:
        return None
    found = choices.get(text)
    if found is None:
        errors.append(_bad_param(name, "one of: " + ", ".join(choices), text))
    return found


# -- body fields -------------------------------------------------------------------


def _pointer(prefix: str, key: str) -> str:
    return f"{prefix}/{key.replace('~', '~0').replace('/', '~1')}"


def _type_name(value: object) -> str:
    return _JSON_TYPES.get(type(value), "a value")


def _shown(value: object, limit: int = 60) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _absent(name: str, at: str, value: object) -> ErrorDetail:
    if value is _MISSING:
        return ErrorDetail("missing", f"{name} is required", at)
    return ErrorDetail("blank", f"{name} must not be blank", at, "got null")


def _invalid_type(name: str, at: str, value: object, expected: str) -> ErrorDetail:
    return ErrorDetail("invalid_type", f"{name} must be {expected}", at,
                       f"got {_type_name(value)}: {_shown(value)}")


def _id_value(value: Any, at: str, errors: list[ErrorDetail]) -> int:
    if type(value) is not int:
        errors.append(_invalid_type(at.rsplit("/", 1)[-1], at, value, "an integer"))
        return 0
    if not 1 <= value <= MAX_ID:
        errors.append(ErrorDetail("incorrect_value", f"{at.rsplit('/', 1)[-1]} must be a "
                                  "positive integer", at, f"got {value}"))
        return 0
    return value


def _required_id(data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail]) -> int:
    value = data.get(key)
    if type(value) is int and 0 < value <= MAX_ID:  # the common case, first
        return value
    at = f"{prefix}/{key}"
    if value is None:
        errors.append(_absent(key, at, data.get(key, _MISSING)))
        return 0
    return _id_value(value, at, errors)


def _optional_id(
    data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail]
) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    return _id_value(value, f"{prefix}/{key}", errors) or None


def _required_int(data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail]) -> int:
    """Any JSON integer (range checks are the caller's); 0 when absent or bad."""
    value = data.get(key, _MISSING)
    if type(value) is int:
        return value
    at = f"{prefix}/{key}"
    if value is _MISSING or value is None:
        errors.append(_absent(key, at, value))
    else:
        errors.append(_invalid_type(key, at, value, "an integer"))
    return 0


def _required_choice[T](
    data: Mapping[str, Any], key: str, choices: dict[str, T], prefix: str,
    errors: list[ErrorDetail],
) -> T:
    """One of `choices` (by its wire value); when bad, an error and a placeholder."""
    value = data.get(key, _MISSING)
    found = choices.get(value) if type(value) is str else None
    if found is not None:
        return found
    at = f"{prefix}/{key}"
    if value is _MISSING or value is None:
        errors.append(_absent(key, at, value))
    elif type(value) is not str:
        errors.append(_invalid_type(key, at, value, "a string"))
    elif not value.strip():
        errors.append(ErrorDetail("blank", f"{key} must not be blank", at))
    else:
        errors.append(ErrorDetail("incorrect_value", f"{key} must be one of: "
                                  + ", ".join(choices), at, f"got {_shown(value)}"))
    return next(iter(choices.values()))


def _text(
    data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail], *, required: bool
) -> str | None:
    """A non-blank string (kept as given)."""
    value = data.get(key, _MISSING)
    at = f"{prefix}/{key}"
    if value is _MISSING or value is None:
        if required:
            errors.append(_absent(key, at, value))
        return None
    if type(value) is not str:
        errors.append(_invalid_type(key, at, value, "a string"))
        return None
    if not value.strip():
        errors.append(ErrorDetail("blank", f"{key} must not be blank", at))
        return None
    return value


def _optional_bool(
    data: Mapping[str, Any], key: str, prefix: str, errors: list[ErrorDetail]
) -> bool | None:
    value = data.get(key)
    if value is None or type(value) is bool:
        return value
    errors.append(_invalid_type(key, f"{prefix}/{key}", value, "a boolean"))
    return None


def _reject_unknown(
    data: Mapping[str, Any], known: frozenset[str], prefix: str, errors: list[ErrorDetail]
) -> None:
    for key in data:
        if key not in known:
            errors.append(ErrorDetail("unknown", f"unknown field {key!r}", _pointer(prefix, key),
                                      "allowed: " + ", ".join(sorted(known))))
