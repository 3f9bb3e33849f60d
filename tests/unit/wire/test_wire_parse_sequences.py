"""POST/PUT /v2/sequences and PUT /v2/tasks/:id bodies."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from engine import ActionType, DelayUnit, Step, UnsubscribeSettings
from engine.errors import ValidationFailed
from engine.wire import (
    MAX_DELAY,
    MAX_STEPS,
    SequenceInput,
    TaskUpdate,
    parse_sequence,
    parse_task_update,
    step_data,
)

Errors = list[tuple[str, str | None]]

EMAIL = {
    "delay_from_previous_step": 0,
    "delay_from_previous_step_unit": "weekdays",
    "action_type": "automated_email",
    "action_properties": {"email_template_id": 9606, "is_reply": False},
}
TASK = {
    "delay_from_previous_step": 3,
    "delay_from_previous_step_unit": "hours",
    "action_type": "task",
    "action_properties": {"task_content": "Call them"},
}


def errors_of(parse: Callable[[], object]) -> Errors:
    with pytest.raises(ValidationFailed) as info:
        parse()
    return [(detail.code, detail.field) for detail in info.value.errors]


def sequence_errors(data: dict[str, Any], partial: bool = False) -> Errors:
    return errors_of(lambda: parse_sequence(data, partial))


def step_errors(step: dict[str, Any]) -> Errors:
    return sequence_errors({"name": "s", "steps": [EMAIL, step]})


def test_create_sequence() -> None:
    parsed = parse_sequence({"name": "Warm", "steps": [EMAIL, TASK]}, partial=False)
    assert parsed == SequenceInput(
        "Warm",
        (
            Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9606, False),
            Step(1, 3, DelayUnit.HOURS, ActionType.TASK, task_content="Call them"),
        ),
        None,
    )
    assert type(parsed.steps[0].delay_from_previous_step_unit) is DelayUnit  # type: ignore[index]


def test_steps_read_back_what_render_writes() -> None:
    steps = parse_sequence({"name": "s", "steps": [EMAIL, TASK]}, partial=False).steps
    assert steps is not None
    rendered = orjson.loads(orjson.dumps([step_data(step) for step in steps]))
    again = parse_sequence({"name": "s", "steps": rendered}, False)
    assert again.steps == steps


def test_defaults_and_optional_parts() -> None:
    email = {**EMAIL, "action_properties": {"email_template_id": 1}, "position": 0}
    settings = {"enabled": False, "locale": "pl-PL"}
    parsed = parse_sequence(
        {"name": "s", "steps": [email], "unsubscribe_settings": settings}, partial=False)
    assert parsed.steps == (Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 1),)
    assert parsed.unsubscribe_settings == UnsubscribeSettings(False, "pl-PL")
    assert parse_sequence({"name": "s", "steps": []}, partial=False).steps == ()


def test_a_partial_update_gives_only_what_it_names() -> None:
    parsed = parse_sequence({"name": "Renamed"}, partial=True)
    assert parsed == SequenceInput("Renamed", None, None)
    assert parsed.changes() == {"name": "Renamed"}
    assert parse_sequence({}, partial=True).changes() == {}
    assert parse_sequence({"name": None, "steps": None}, partial=True).changes() == {}


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, [("missing", "/data/name"), ("missing", "/data/steps")]),
        ({"name": None, "steps": None}, [("blank", "/data/name"), ("blank", "/data/steps")]),
        ({"name": " ", "steps": []}, [("blank", "/data/name")]),
        ({"name": 5, "steps": {}}, [("invalid_type", "/data/name"),
                                    ("invalid_type", "/data/steps")]),
        ({"name": "s", "steps": [], "steps_total": 0}, [("unknown", "/data/steps_total")]),
        ({"name": "s", "steps": [1, None]},
         [("invalid_type", "/data/steps/0"), ("invalid_type", "/data/steps/1")]),
        ({"name": "s", "steps": [EMAIL] * (MAX_STEPS + 1)}, [("incorrect_value", "/data/steps")]),
        ({"name": "s", "steps": [], "unsubscribe_settings": True},
         [("invalid_type", "/data/unsubscribe_settings")]),
        ({"name": "s", "steps": [], "unsubscribe_settings": {}},
         [("missing", "/data/unsubscribe_settings/enabled"),
          ("missing", "/data/unsubscribe_settings/locale")]),
        ({"name": "s", "steps": [], "unsubscribe_settings": {"enabled": 1, "locale": "",
                                                             "x": 0}},
         [("invalid_type", "/data/unsubscribe_settings/enabled"),
          ("blank", "/data/unsubscribe_settings/locale"),
          ("unknown", "/data/unsubscribe_settings/x")]),
        ({"name": "s", "steps": [], "unsubscribe_settings": {"enabled": True,
                                                             "locale": "english please"}},
         [("incorrect_value", "/data/unsubscribe_settings/locale")]),
    ],
)
def test_sequence_errors(data: dict[str, Any], errors: Errors) -> None:
    assert sequence_errors(data) == errors


@pytest.mark.parametrize(
    ("step", "errors"),
    [
        ({}, [("missing", "/data/steps/1/delay_from_previous_step_unit"),
              ("missing", "/data/steps/1/delay_from_previous_step"),
              ("missing", "/data/steps/1/action_type"),
              ("missing", "/data/steps/1/action_properties")]),
        ({**EMAIL, "position": 0}, [("incorrect_value", "/data/steps/1/position")]),
        ({**EMAIL, "position": "one"}, [("invalid_type", "/data/steps/1/position")]),
        ({**EMAIL, "delay_from_previous_step": -1},
         [("incorrect_value", "/data/steps/1/delay_from_previous_step")]),
        ({**EMAIL, "delay_from_previous_step": MAX_DELAY[DelayUnit.WEEKDAYS] + 1},
         [("incorrect_value", "/data/steps/1/delay_from_previous_step")]),
        ({**EMAIL, "delay_from_previous_step": 1.5},
         [("invalid_type", "/data/steps/1/delay_from_previous_step")]),
        ({**EMAIL, "delay_from_previous_step": True},
         [("invalid_type", "/data/steps/1/delay_from_previous_step")]),
        ({**EMAIL, "delay_from_previous_step_unit": "days"},
         [("incorrect_value", "/data/steps/1/delay_from_previous_step_unit")]),
        ({**EMAIL, "action_type": "sms"}, [("incorrect_value", "/data/steps/1/action_type")]),
        ({**EMAIL, "action_properties": []},
         [("invalid_type", "/data/steps/1/action_properties")]),
        ({**EMAIL, "action_properties": None},
         [("blank", "/data/steps/1/action_properties")]),
        ({**EMAIL, "action_properties": {"email_template_id": "9606a", "is_reply": "no"}},
         [("invalid_type", "/data/steps/1/action_properties/email_template_id"),
          ("invalid_type", "/data/steps/1/action_properties/is_reply")]),
        ({**EMAIL, "action_properties": {"task_content": "Call"}},
         [("missing", "/data/steps/1/action_properties/email_template_id"),
          ("unknown", "/data/steps/1/action_properties/task_content")]),
        ({**TASK, "action_properties": {"task_content": ""}},
         [("blank", "/data/steps/1/action_properties/task_content")]),
        ({**TASK, "action_properties": {"task_content": 1, "is_reply": False}},
         [("invalid_type", "/data/steps/1/action_properties/task_content"),
          ("unknown", "/data/steps/1/action_properties/is_reply")]),
        ({**EMAIL, "overdue": False}, [("unknown", "/data/steps/1/overdue")]),
    ],
)
def test_step_errors(step: dict[str, Any], errors: Errors) -> None:
    assert step_errors(step) == errors


def test_the_delay_limit_depends_on_the_unit() -> None:
    hours = MAX_DELAY[DelayUnit.HOURS]
    parsed = parse_sequence({"name": "s", "steps": [{**TASK, "delay_from_previous_step": hours}]},
                            partial=False)
    assert parsed.steps is not None and parsed.steps[0].delay_from_previous_step == hours
    # an unknown unit is reported once, without a delay error it would only guess at
    assert step_errors({**EMAIL, "delay_from_previous_step_unit": "x",
                        "delay_from_previous_step": hours}) == [
        ("incorrect_value", "/data/steps/1/delay_from_previous_step_unit")]


def test_sequence_errors_name_the_sequence_resource() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_sequence({}, partial=False)
    assert info.value.resource == "sequence"


# -- tasks ---------------------------------------------------------------------------------


def test_task_update() -> None:
    parsed = parse_task_update({"completed": True, "content": "Call back",
                                "due_date": "2020-12-16T19:58:53.526Z",
                                "remind_at": "2020-12-16T20:58:53+01:00"})
    assert parsed == TaskUpdate(
        True, "Call back", datetime(2020, 12, 16, 19, 58, 53, 526_000, tzinfo=UTC),
        datetime(2020, 12, 16, 19, 58, 53, tzinfo=UTC))
    assert parse_task_update({"completed": False}).changes() == {"completed": False}
    assert parse_task_update({"remind_at": None}) == TaskUpdate()
    assert parse_task_update({}).changes() == {}


def test_optional_fields_left_blank_are_not_given() -> None:
    """Rails-style: an optional field sent as "" is absent; integers may be digit strings."""
    blank = {key: "" for key in ("completed", "content", "due_date", "remind_at", "owner_id",
                                 "resource_type", "resource_id")}
    assert parse_task_update(blank) == TaskUpdate()
    assert parse_task_update({"owner_id": "7", "resource_id": 3.0}) == TaskUpdate(
        owner_id=7, resource_id=3)
    assert parse_sequence({"name": "", "steps": "", "unsubscribe_settings": ""},
                          partial=True).changes() == {}
    step = {"position": "0", "delay_from_previous_step": "2",
            "delay_from_previous_step_unit": "hours", "action_type": "automated_email",
            "action_properties": {"email_template_id": "9606", "is_reply": False}}
    parsed = parse_sequence({"name": "s", "steps": [step]}, partial=False)
    assert parsed.steps is not None
    assert (parsed.steps[0].delay_from_previous_step, parsed.steps[0].email_template_id) == (
        2, 9606)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"completed": "true"}, [("invalid_type", "/data/completed")]),
        ({"completed": 1}, [("invalid_type", "/data/completed")]),
        ({"content": "  "}, [("blank", "/data/content")]),
        ({"content": "x" * 10_001}, [("incorrect_value", "/data/content")]),
        ({"content": ["x"]}, [("invalid_type", "/data/content")]),
        ({"due_date": 1608062333}, [("invalid_type", "/data/due_date")]),
        ({"due_date": "2020-12-16"}, [("incorrect_value", "/data/due_date")]),
        ({"remind_at": "2020-12-16T19:58:53"}, [("incorrect_value", "/data/remind_at")]),
        ({"owner_id": 1, "id": 2}, [("unknown", "/data/id")]),
        ({"owner_id": "x", "resource_type": "deal"},
         [("invalid_type", "/data/owner_id"), ("incorrect_value", "/data/resource_type")]),
        ({"completed": "yes", "content": " ", "due_date": "soon", "overdue": True},
         [("invalid_type", "/data/completed"), ("blank", "/data/content"),
          ("incorrect_value", "/data/due_date"), ("unknown", "/data/overdue")]),
    ],
)
def test_task_update_errors(data: dict[str, Any], errors: Errors) -> None:
    assert errors_of(lambda: parse_task_update(data)) == errors
