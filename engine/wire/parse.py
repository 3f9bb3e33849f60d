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
from datetime import datetime
from typing import Any, NamedTuple

from engine.domain.enums import ActionType, DelayUnit, EnrollmentState, ResourceType
from engine.domain.sequence import Step, UnsubscribeSettings
from engine.errors import ErrorDetail, ValidationFailed
from engine.wire.envelope import parse_body
from engine.wire.fields import (
    ACTION_TYPES,
    AN_INTEGER,
    MAX_ID,
    MAX_LOCALE,
    MAX_NAME,
    MAX_TEXT,
    MISSING,
    RESOURCE_TYPES,
    STATES,
    UNITS,
    absent,
    id_value,
    instant_field,
    integer_of,
    invalid_type,
    nonblank,
    optional_bool,
    optional_id,
    parse_instant,
    reject_unknown,
    required_choice,
    required_id,
    required_int,
    shown,
)
from engine.wire.query import (
    MAX_IDS,
    MAX_PAGE,
    MAX_PER_PAGE,
    InvalidParams,
    parse_enrollment_filter,
    parse_enrollment_query,
    parse_page,
    parse_task_filter,
    parse_task_query,
)

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

MAX_STEPS = 100
# About ten years per step: with MAX_STEPS, a plan can never leave datetime's range.
MAX_DELAY: dict[DelayUnit, int] = {DelayUnit.HOURS: 87_600, DelayUnit.WEEKDAYS: 2_610}

ENROLLMENT, SEQUENCE, TASK = "sequence_enrollment", "sequence", "task"


class CreateEnrollment(NamedTuple):
    """POST /v2/sequence_enrollments, read. A NamedTuple rather than a frozen dataclass
    like the other commands: as immutable, and built at a fraction of the cost (P8)."""

    sequence_id: int
    resource_type: ResourceType
    resource_id: int
    actor_id: int | None = None  # None: the caller's own user


_tuple_new = tuple.__new__


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
    owner_id: int | None = None
    resource_type: ResourceType | None = None
    resource_id: int | None = None

    def changes(self) -> dict[str, Any]:
        """The given fields, as keyword arguments for SequenceEngine.update_task."""
        return {
            key: value
            for key, value in (
                ("completed", self.completed),
                ("content", self.content),
                ("due_date", self.due_date),
                ("remind_at", self.remind_at),
                ("owner_id", self.owner_id),
                ("resource_type", self.resource_type),
                ("resource_id", self.resource_id),
            )
            if value is not None
        }


# -- sequence enrollments --------------------------------------------------------

_CREATE_FIELDS = frozenset({"sequence_id", "resource_type", "resource_id", "actor_id"})
_UPDATE_FIELDS = frozenset({"state"})
_FINISH_FIELDS = frozenset({"resource_type", "resource_id", "sequence_ids"})


def parse_create_enrollment(data: Mapping[str, Any]) -> CreateEnrollment:
    """POST /v2/sequence_enrollments."""
    # The common, valid request, checked inline (P8): the three required keys, and
    # `actor_id` as the only other key there may be.
    size = len(data)
    if size == 3 or size == 4:
        try:
            sequence_id, resource_id = data["sequence_id"], data["resource_id"]
            resource_type = RESOURCE_TYPES[data["resource_type"]]
            actor_id = data["actor_id"] if size == 4 else None
        except (KeyError, TypeError):  # TypeError: a resource_type that cannot be a key
            pass  # a key missing, another one there, or not a resource type: see below
        else:
            if (
                type(sequence_id) is int and 0 < sequence_id <= MAX_ID
                and type(resource_id) is int and 0 < resource_id <= MAX_ID
                and (actor_id is None or (type(actor_id) is int and 0 < actor_id <= MAX_ID))
            ):
                # CreateEnrollment(...) without its generated __new__'s call
                created: CreateEnrollment = _tuple_new(
                    CreateEnrollment, (sequence_id, resource_type, resource_id, actor_id))
                return created
    errors: list[ErrorDetail] = []
    sequence_id = required_id(data, "sequence_id", "/data", errors)
    kind = required_choice(data, "resource_type", RESOURCE_TYPES, "/data", errors)
    resource_id = required_id(data, "resource_id", "/data", errors)
    actor_id = optional_id(data, "actor_id", "/data", errors)
    reject_unknown(data, _CREATE_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=ENROLLMENT)
    assert kind is not None
    return CreateEnrollment(sequence_id, kind, resource_id, actor_id)


def parse_update_enrollment(data: Mapping[str, Any]) -> EnrollmentState:
    """PUT /v2/sequence_enrollments/:id: `state` only (the use case judges the transition)."""
    errors: list[ErrorDetail] = []
    state = required_choice(data, "state", STATES, "/data", errors)
    reject_unknown(data, _UPDATE_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=ENROLLMENT)
    assert state is not None
    return state


def parse_finish_ongoing(data: Mapping[str, Any]) -> FinishOngoing:
    """POST /v2/sequence_enrollments/finish_ongoing_for_resource."""
    errors: list[ErrorDetail] = []
    resource_type = required_choice(data, "resource_type", RESOURCE_TYPES, "/data", errors)
    resource_id = required_id(data, "resource_id", "/data", errors)
    sequence_ids: tuple[int, ...] | None = None
    value = data.get("sequence_ids")
    if value is not None and value != "":
        if type(value) is not list:
            errors.append(invalid_type("sequence_ids", "/data/sequence_ids", value, "an array"))
        else:
            ids = [id_value(item, f"/data/sequence_ids/{i}", errors)
                   for i, item in enumerate(value)]
            sequence_ids = tuple(dict.fromkeys(ids)) or None
    reject_unknown(data, _FINISH_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=ENROLLMENT)
    assert resource_type is not None
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
    name = nonblank(data, "name", "/data", errors, required=not partial, max_length=MAX_NAME)
    steps: tuple[Step, ...] | None = None
    value = data.get("steps", MISSING)
    if value is MISSING or value is None or (value == "" and partial):
        if not partial:
            errors.append(absent("steps", "/data/steps", value))
    elif type(value) is not list:
        errors.append(invalid_type("steps", "/data/steps", value, "an array"))
    elif len(value) > MAX_STEPS:
        errors.append(ErrorDetail("incorrect_value", f"a sequence has at most {MAX_STEPS} steps",
                                  "/data/steps", f"got {len(value)}"))
    else:
        parsed = [_step(item, i, errors) for i, item in enumerate(value)]
        steps = tuple(step for step in parsed if step is not None)
    settings = _unsubscribe_settings(data, errors)
    reject_unknown(data, _SEQUENCE_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=SEQUENCE)
    return SequenceInput(name, steps, settings)


def _step(item: Any, index: int, errors: list[ErrorDetail]) -> Step | None:
    at = f"/data/steps/{index}"
    if type(item) is not dict:
        errors.append(invalid_type(f"steps/{index}", at, item, "an object"))
        return None
    before = len(errors)
    given = item.get("position")
    if given is not None and given != "":
        position = integer_of(given)
        if position is None:
            errors.append(invalid_type("position", f"{at}/position", given, AN_INTEGER))
        elif position != index:
            errors.append(ErrorDetail(
                "incorrect_value", f"position must be the step's index in steps ({index})",
                f"{at}/position", f"got {position}"))
    unit = required_choice(item, "delay_from_previous_step_unit", UNITS, at, errors)
    delay = required_int(item, "delay_from_previous_step", at, errors)
    if delay < 0 or (unit is not None and delay > MAX_DELAY[unit]):
        limit = f" and at most {MAX_DELAY[unit]} {unit}" if unit is not None else ""
        errors.append(ErrorDetail(
            "incorrect_value", f"delay_from_previous_step must be >= 0{limit}",
            f"{at}/delay_from_previous_step", f"got {delay}"))
    action_type = required_choice(item, "action_type", ACTION_TYPES, at, errors)
    properties = item.get("action_properties", MISSING)
    email_template_id, is_reply, task_content = None, False, None
    if properties is MISSING or properties is None:
        errors.append(absent("action_properties", f"{at}/action_properties", properties))
    elif type(properties) is not dict:
        errors.append(invalid_type("action_properties", f"{at}/action_properties",
                                    properties, "an object"))
    elif action_type is not None:
        props_at = f"{at}/action_properties"
        if action_type is ActionType.AUTOMATED_EMAIL:
            email_template_id = required_id(properties, "email_template_id", props_at, errors)
            is_reply = optional_bool(properties, "is_reply", props_at, errors) or False
        else:
            task_content = nonblank(properties, "task_content", props_at, errors, required=True,
                                    max_length=MAX_TEXT)
        reject_unknown(properties, _PROPERTY_FIELDS[action_type], props_at, errors)
    reject_unknown(item, _STEP_FIELDS, at, errors)
    if len(errors) > before or unit is None or action_type is None:
        return None
    return Step(index, delay, unit, action_type, email_template_id, is_reply, task_content)


def _unsubscribe_settings(
    data: Mapping[str, Any], errors: list[ErrorDetail]
) -> UnsubscribeSettings | None:
    value = data.get("unsubscribe_settings")
    at = "/data/unsubscribe_settings"
    if value is None or value == "":
        return None
    if type(value) is not dict:
        errors.append(invalid_type("unsubscribe_settings", at, value, "an object"))
        return None
    before = len(errors)
    enabled = value.get("enabled", MISSING)
    if enabled is MISSING or enabled is None:
        errors.append(absent("enabled", f"{at}/enabled", enabled))
    elif type(enabled) is not bool:
        errors.append(invalid_type("enabled", f"{at}/enabled", enabled, "a boolean"))
    locale = nonblank(value, "locale", at, errors, required=True, max_length=MAX_LOCALE)
    if locale and not _is_locale(locale):
        errors.append(ErrorDetail("incorrect_value", "locale must be a language tag like en-US",
                                  f"{at}/locale", f"got {shown(locale)}"))
    reject_unknown(value, _UNSUBSCRIBE_FIELDS, at, errors)
    if len(errors) > before or locale is None:
        return None
    return UnsubscribeSettings(enabled=enabled, locale=locale)


def _is_locale(text: str) -> bool:
    parts = text.split("-")
    return (
        2 <= len(parts[0]) <= 3 and parts[0].isascii() and parts[0].isalpha()
        and all(1 <= len(p) <= 8 and p.isascii() and p.isalnum() for p in parts[1:])
    )


# -- tasks -----------------------------------------------------------------------

# Sell's official client PUTs back every field it read: owner and resource included
_TASK_FIELDS = frozenset(
    {"completed", "content", "due_date", "remind_at", "owner_id", "resource_type", "resource_id"}
)


def parse_task_update(data: Mapping[str, Any]) -> TaskUpdate:
    """PUT /v2/tasks/:id: Sell's writable task fields this engine keeps."""
    errors: list[ErrorDetail] = []
    completed = optional_bool(data, "completed", "/data", errors)
    content = nonblank(data, "content", "/data", errors, required=False, max_length=MAX_TEXT)
    due_date = instant_field(data, "due_date", errors)
    remind_at = instant_field(data, "remind_at", errors)
    owner_id = optional_id(data, "owner_id", "/data", errors)
    resource_id = optional_id(data, "resource_id", "/data", errors)
    resource_type = (
        required_choice(data, "resource_type", RESOURCE_TYPES, "/data", errors)
        if data.get("resource_type") not in (None, "")
        else None
    )
    reject_unknown(data, _TASK_FIELDS, "/data", errors)
    if errors:
        raise ValidationFailed(errors, resource=TASK)
    return TaskUpdate(completed, content, due_date, remind_at, owner_id, resource_type,
                      resource_id)
