"""One enrollment as wire JSON text, written from templates instead of dicts (P8).

`render.enrollment_data` builds the document as ~20 dicts for orjson; building
them costs several times more than orjson's dump. Here the fixed text is
literal and only the values are put in, in the same key order:

* a step's own fields never change (Steps are frozen and shared by every
  enrollment of a sequence version), so each Step's text is written once and
  kept, keyed by identity (the cache holds the Step, so its id is not reused);
* a sequence is mutable and stores decode a new object per read, so its text
  is kept by sequence id with the values it was written from, and reused only
  while they are still equal (equal values write equal text);
* enum values go in by concatenation (`str.join` takes the StrEnum members as
  they are: plain identifiers, nothing to escape), numbers by `str`, instants by
  `format_instant`; strings a user chose (the sequence name, a task's content,
  the unsubscribe locale) go through orjson, so their escaping is orjson's.

The result equals `orjson.dumps(enrollment_data(view))` byte for byte, which
tests/property/wire holds it to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from engine.wire.instants import instant_text

if TYPE_CHECKING:
    from engine.app.views import EnrollmentView
    from engine.domain.sequence import Sequence, Step

__all__ = ["enrollment_text", "sequence_text"]

_dumps = orjson.dumps
# Bounded caches: cleared whole when full (a miss only costs writing the text again).
_CACHE_SIZE = 4096
_STEPS: dict[int, tuple[Step, str, str, str]] = {}
_SEQUENCES: dict[int, tuple[tuple[object, ...], str]] = {}


def _text(value: object) -> str:
    """A user's string as JSON, escaped by orjson (null for None)."""
    return _dumps(value).decode()


def _step_text(step: Step) -> tuple[Step, str, str, str]:
    """(step, its text up to the action's status when the step is overdue, the same
    when it is not, the task fields of the action) for one step."""
    if step.action_type != "task":
        template = step.email_template_id
        properties = (
            f'{{"email_template_id":{"null" if template is None else template},'
            f'"is_reply":{"true" if step.is_reply else "false"}}}'
        )
        task = ""
    else:
        content = _text(step.task_content)
        properties = f'{{"task_content":{content}}}'
        task = f',"task_content":{content}'
    head = (
        f'{{"data":{{"position":{step.position},'
        f'"delay_from_previous_step":{step.delay_from_previous_step},'
        f'"delay_from_previous_step_unit":"{step.delay_from_previous_step_unit}","overdue":'
    )
    middle = (
        f',"action_type":"{step.action_type}","action_properties":{properties},'
        '"action":{"data":{"status":"'
    )
    entry = (step, f"{head}true{middle}", f"{head}false{middle}", task)
    if len(_STEPS) >= _CACHE_SIZE:
        _STEPS.clear()
    _STEPS[id(step)] = entry
    return entry


def sequence_text(sequence: Sequence) -> str:
    """The `data` object of the sequence embedded in an enrollment."""
    values = (
        sequence.name,
        sequence.steps,
        sequence.creator_id,
        sequence.updated_at,
        sequence.created_at,
        sequence.unsubscribe_settings,
    )
    kept = _SEQUENCES.get(sequence.id)
    if kept is not None and kept[0] == values:
        return kept[1]
    name, steps, creator_id, updated_at, created_at, unsubscribe = values
    text = (
        f'{{"id":{sequence.id},"name":{_text(name)},'
        f'"steps_total":{len(steps)},"creator_id":{creator_id},'
        f'"updated_at":"{instant_text(updated_at)}",'
        f'"created_at":"{instant_text(created_at)}",'
        f'"unsubscribe_settings":{{"enabled":{"true" if unsubscribe.enabled else "false"},'
        f'"locale":{_text(unsubscribe.locale)}}}}}'
    )
    if len(_SEQUENCES) >= _CACHE_SIZE:
        _SEQUENCES.clear()
    _SEQUENCES[sequence.id] = (values, text)
    return text


def enrollment_text(view: EnrollmentView, before: str = "", after: str = "") -> str:
    """The `data` object of one enrollment, as `render.enrollment_data` has it, between
    `before` and `after` (a document's envelope: one join, no copy of the text)."""
    enrollment = view.enrollment
    overdue_at = view.overdue_position
    fmt = instant_text
    steps = _STEPS
    created_at, updated_at = enrollment.created_at, enrollment.updated_at
    created = fmt(created_at)
    # a new enrollment's two are one datetime: written once
    updated = created if updated_at is created_at else fmt(updated_at)
    parts = [
        before,
        '{"id":',
        str(enrollment.id),
        ',"actor_id":',
        str(enrollment.actor_id),
        ',"resource_type":"',
        enrollment.resource_type,
        '","resource_id":',
        str(enrollment.resource_id),
        ',"created_at":"',
        created,
        '","updated_at":"',
        updated,
        '","sequence":{"data":',
        sequence_text(view.sequence),
        ',"meta":{"type":"sequence"}},"state":"',
        enrollment.state,
        '","current_step_position":',
        str(enrollment.current_step_position),
        ',"enrollment_steps":{"items":[',
    ]
    add = parts.append
    count = 0
    steps_of, actions = enrollment.steps, enrollment.actions
    if len(steps_of) != len(actions):  # zip(strict=True)'s error, as enrollment_data has it
        list(zip(steps_of, actions, strict=True))
    # lengths checked above; strict=True would double the loop's cost
    for step, action in zip(steps_of, actions, strict=False):
        kept = steps.get(id(step))
        if kept is None or kept[0] is not step:
            kept = _step_text(step)
        _, overdue, on_time, task = kept
        if count:
            add(",")
        count += 1
        add(overdue if step.position == overdue_at else on_time)
        add(action.status)
        executed = action.executed_at
        if executed:
            add('","executed_at":"')
            add(fmt(executed))
            add('","estimated_execute_at":')
        else:
            add('","executed_at":null,"estimated_execute_at":')
        estimated = action.estimated_execute_at
        if estimated:
            add('"')
            add(fmt(estimated))
            add('","failure_reason":')
        else:
            add('null,"failure_reason":')
        reason = action.failure_reason
        if reason is None:
            add("null")
        else:
            add('"')
            add(reason)
            add('"')
        if task:
            add(task)
            if action.task_id is not None:
                add(',"task_id":')
                add(str(action.task_id))
        add('},"meta":{"type":"action"}}},"meta":{"type":"enrollment_step"}}')
    add('],"meta":{"type":"collection","count":')
    add(str(count))
    finished_at = enrollment.finished_at
    if finished_at:
        add('}},"finished_at":"')
        add(fmt(finished_at))
        add('","finished_reason":')
    else:
        add('}},"finished_at":null,"finished_reason":')
    finished_reason = enrollment.finished_reason
    if finished_reason is None:
        add("null")
    else:
        add('"')
        add(finished_reason)
        add('"')
    actor = enrollment.finished_actor_id
    add(',"finished_actor_id":')
    add("null" if actor is None else str(actor))
    add("}")
    add(after)
    return "".join(parts)
