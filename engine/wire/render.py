"""Domain objects to Sell v2 JSON (http-api.md sections 1-4, semantics.md section 7).

Pure: the standard library and orjson only. The functions build plain dicts
with literals, key by key in the seed's order, and share the constant `meta`
dicts between documents (orjson never mutates what it serialises; callers must
not either). Enum members are StrEnums, so they go into the dicts as they are:
they are `str` instances and serialise as their values.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from engine.wire.enrollment_text import enrollment_text
from engine.wire.instants import format_instant

if TYPE_CHECKING:
    from engine.app.ports import OutboxMessage
    from engine.app.views import EnrollmentView
    from engine.domain.account import User
    from engine.domain.sequence import Sequence, Step
    from engine.domain.task import Task
    from engine.errors import EngineError

__all__ = [
    "collection",
    "enrollment_data",
    "enrollment_document",
    "enrollment_list_document",
    "error_document",
    "finish_ongoing_document",
    "format_instant",
    "http_status_line",
    "outbox_message_data",
    "page_links",
    "sequence_data",
    "sequence_document",
    "sequence_list_document",
    "step_data",
    "task_data",
    "task_document",
    "user_data",
    "user_document",
]

Json = dict[str, Any]

# Shared, never mutated.
ENROLLMENT_META: Json = {"type": "sequence_enrollment"}
SEQUENCE_META: Json = {"type": "sequence"}
STEP_META: Json = {"type": "enrollment_step"}
SEQUENCE_STEP_META: Json = {"type": "step"}
ACTION_META: Json = {"type": "action"}
TASK_META: Json = {"type": "task"}
USER_META: Json = {"type": "user"}
OUTBOX_META: Json = {"type": "outbox_message"}
ERROR_META: Json = {"type": "error"}
ENROLLMENT_ACTION_META: Json = {"type": "sequence_enrollment_action"}

# -- sequences -----------------------------------------------------------------


def _sequence_fields(sequence: Sequence) -> Json:
    unsubscribe = sequence.unsubscribe_settings
    return {
        "id": sequence.id,
        "name": sequence.name,
        "steps_total": len(sequence.steps),
        "creator_id": sequence.creator_id,
        "updated_at": format_instant(sequence.updated_at),
        "created_at": format_instant(sequence.created_at),
        "unsubscribe_settings": {"enabled": unsubscribe.enabled, "locale": unsubscribe.locale},
    }


def _action_properties(step: Step) -> Json:
    if step.action_type != "task":
        return {"email_template_id": step.email_template_id, "is_reply": step.is_reply}
    return {"task_content": step.task_content}


def step_data(step: Step) -> Json:
    """A step definition as POST/PUT /v2/sequences take it (no id: ids are derived)."""
    return {
        "position": step.position,
        "delay_from_previous_step": step.delay_from_previous_step,
        "delay_from_previous_step_unit": step.delay_from_previous_step_unit,
        "action_type": step.action_type,
        "action_properties": _action_properties(step),
    }


def sequence_data(sequence: Sequence) -> Json:
    """GET /v2/sequences[/:id], as Sell renders it (Zendesk's own fixtures): the
    embedded fields with `steps`, a collection of `step`s with ids, before
    `unsubscribe_settings`."""
    items = [
        {
            "data": {
                "id": sequence.step_id(step.position),
                "action_type": step.action_type,
                "delay_from_previous_step": step.delay_from_previous_step,
                "delay_from_previous_step_unit": step.delay_from_previous_step_unit,
                "position": step.position,
                "action_properties": _action_properties(step),
            },
            "meta": SEQUENCE_STEP_META,
        }
        for step in sequence.steps
    ]
    unsubscribe = sequence.unsubscribe_settings
    return {
        "id": sequence.id,
        "name": sequence.name,
        "steps_total": len(items),
        "creator_id": sequence.creator_id,
        "updated_at": format_instant(sequence.updated_at),
        "created_at": format_instant(sequence.created_at),
        "steps": {"items": items, "meta": {"type": "collection", "count": len(items)}},
        "unsubscribe_settings": {"enabled": unsubscribe.enabled, "locale": unsubscribe.locale},
    }


def sequence_document(sequence: Sequence) -> bytes:
    return orjson.dumps({"data": sequence_data(sequence), "meta": SEQUENCE_META})


def sequence_list_document(sequences: Iterable[Sequence], links: Json) -> bytes:
    """GET /v2/sequences: one page of sequences with its links."""
    return orjson.dumps(collection([(sequence_data(q), "sequence") for q in sequences], links))


# -- enrollments ---------------------------------------------------------------


def enrollment_data(view: EnrollmentView) -> Json:
    """The `data` object of one enrollment, exactly as the seed shows it."""
    enrollment = view.enrollment
    overdue_at = view.overdue_position
    fmt = format_instant
    items = []
    for step, action in zip(enrollment.steps, enrollment.actions, strict=True):
        action_data: Json = {
            "status": action.status,
            "executed_at": fmt(action.executed_at) if action.executed_at else None,
            "estimated_execute_at": (
                fmt(action.estimated_execute_at) if action.estimated_execute_at else None
            ),
            "failure_reason": action.failure_reason,
        }
        if step.action_type != "task":
            properties: Json = {
                "email_template_id": step.email_template_id,
                "is_reply": step.is_reply,
            }
        else:
            properties = {"task_content": step.task_content}
            action_data["task_content"] = step.task_content
            if action.task_id is not None:
                action_data["task_id"] = action.task_id
        items.append({
            "data": {
                "position": step.position,
                "delay_from_previous_step": step.delay_from_previous_step,
                "delay_from_previous_step_unit": step.delay_from_previous_step_unit,
                "overdue": step.position == overdue_at,
                "action_type": step.action_type,
                "action_properties": properties,
                "action": {"data": action_data, "meta": ACTION_META},
            },
            "meta": STEP_META,
        })
    return {
        "id": enrollment.id,
        "actor_id": enrollment.actor_id,
        "resource_type": enrollment.resource_type,
        "resource_id": enrollment.resource_id,
        "created_at": fmt(enrollment.created_at),
        "updated_at": fmt(enrollment.updated_at),
        "sequence": {"data": _sequence_fields(view.sequence), "meta": SEQUENCE_META},
        "state": enrollment.state,
        "current_step_position": enrollment.current_step_position,
        "enrollment_steps": {
            "items": items,
            "meta": {"type": "collection", "count": len(items)},
        },
        "finished_at": fmt(enrollment.finished_at) if enrollment.finished_at else None,
        "finished_reason": enrollment.finished_reason,
        "finished_actor_id": enrollment.finished_actor_id,
    }


def enrollment_document(view: EnrollmentView) -> bytes:
    """`{"data": <enrollment>, "meta": {"type": "sequence_enrollment"}}` as JSON bytes:
    `enrollment_data` dumped by orjson, written from templates (wire.enrollment_text)."""
    return enrollment_text(view, '{"data":', ',"meta":{"type":"sequence_enrollment"}}').encode()


def _enrollment_items(views: Iterable[EnrollmentView]) -> list[tuple[Json | orjson.Fragment, str]]:
    """Each enrollment's `data` as text orjson copies as it is (wire.enrollment_text)."""
    return [(orjson.Fragment(enrollment_text(view)), "sequence_enrollment") for view in views]


def enrollment_list_document(views: Iterable[EnrollmentView], links: Json) -> bytes:
    """GET /v2/sequence_enrollments: one page of enrollments with its links."""
    return orjson.dumps(collection(_enrollment_items(views), links))


def finish_ongoing_document(views: Iterable[EnrollmentView]) -> bytes:
    """POST /v2/sequence_enrollments/finish_ongoing_for_resource."""
    return orjson.dumps({
        "data": {
            "enrollment_action": "finish_ongoing",
            "updated_enrollments": collection(_enrollment_items(views), None),
        },
        "meta": ENROLLMENT_ACTION_META,
    })


# -- collections ---------------------------------------------------------------


def collection(items: Iterable[tuple[Json | orjson.Fragment, str]], links: Json | None) -> Json:
    """A Sell collection of `(data, meta type)` pairs.

    With links (a top-level list response) the meta keys come in the seed list
    example's order, `count, links, type`; without (a collection nested in another
    document, as in the seed's finish-ongoing examples) `type, count`."""
    wrapped = [{"data": data, "meta": {"type": kind}} for data, kind in items]
    if links is None:
        return {"items": wrapped, "meta": {"type": "collection", "count": len(wrapped)}}
    return {
        "items": wrapped,
        "meta": {"count": len(wrapped), "links": links, "type": "collection"},
    }


def page_links(self_url: str, page: int, per_page: int, has_next: bool) -> Json:
    """Sell pagination links: `self`, `first_page`, `prev_page` (not on page 1),
    `next_page` (only when there is one). `self_url` is the request's absolute URL
    without the `page`/`per_page` parameters (any other parameters are kept)."""
    joiner = "&" if "?" in self_url else "?"
    base = f"{self_url}{joiner}per_page={per_page}&page="
    links: Json = {"self": f"{base}{page}", "first_page": f"{base}1"}
    if page > 1:
        links["prev_page"] = f"{base}{page - 1}"
    if has_next:
        links["next_page"] = f"{base}{page + 1}"
    return links


# -- tasks and the outbox --------------------------------------------------------


class LocalDates(Protocol):
    """What task rendering needs of an actor's calendar (timeline.BusinessCalendar)."""

    def local_date(self, instant: datetime) -> date: ...


def task_data(task: Task, now: datetime, calendar: LocalDates) -> Json:
    """A Sell task. `overdue`: not completed, and `now` is past the due date, judged
    by local day in the owner's calendar, which is the rule a task step's `overdue`
    follows (semantics.md 5), so a task and its step never disagree."""
    overdue = not task.completed and calendar.local_date(now) > calendar.local_date(task.due_date)
    fmt = format_instant
    return {
        "id": task.id,
        "creator_id": task.creator_id,
        "owner_id": task.owner_id,
        "resource_type": task.resource_type,
        "resource_id": task.resource_id,
        "completed": task.completed,
        "completed_at": fmt(task.completed_at),
        "due_date": fmt(task.due_date),
        "overdue": overdue,
        "remind_at": fmt(task.remind_at),
        "content": task.content,
        "created_at": fmt(task.created_at),
        "updated_at": fmt(task.updated_at),
    }


def task_document(task: Task, now: datetime, calendar: LocalDates) -> bytes:
    return orjson.dumps({"data": task_data(task, now, calendar), "meta": TASK_META})


def outbox_message_data(msg: OutboxMessage) -> Json:
    """One sent email, in the key order of the webhook delivery's body, plus `sent_at`."""
    return {
        "idempotency_key": msg.idempotency_key,
        "account_id": msg.account_id,
        "enrollment_id": msg.enrollment_id,
        "position": msg.position,
        "actor_id": msg.actor_id,
        "resource_type": msg.resource_type,
        "resource_id": msg.resource_id,
        "email_template_id": msg.email_template_id,
        "is_reply": msg.is_reply,
        "sent_at": format_instant(msg.sent_at),
    }


# -- users -----------------------------------------------------------------------


def user_data(user: User) -> Json:
    """Sell's user attributes that the engine has (docs/compatibility.md): it keeps no
    e-mail address, role or timestamps, so `email`, `created_at` and `updated_at` are
    null, `status` is `active` (the user can act) and `role` is `user`."""
    return {
        "id": user.id,
        "name": user.name,
        "email": None,
        "status": "active",
        "role": "user",
        "time_zone": user.time_zone,
        "created_at": None,
        "updated_at": None,
    }


def user_document(user: User) -> bytes:
    return orjson.dumps({"data": user_data(user), "meta": USER_META})


# -- errors --------------------------------------------------------------------


def http_status_line(status: int) -> str:
    """`422 Unprocessable Entity`; a status HTTPStatus does not know keeps just its number."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def error_document(error: EngineError, logref: str) -> bytes:
    """The Sell error envelope: one item per ErrorDetail of `error`."""
    resource = error.resource
    return orjson.dumps({
        "errors": [
            {
                "error": {
                    "code": detail.code,
                    "message": detail.message,
                    "details": detail.details,
                    "resource": resource,
                    "field": detail.field,
                },
                "meta": ERROR_META,
            }
            for detail in error.errors
        ],
        "meta": {
            "type": "errors",
            "http_status": http_status_line(error.status),
            "logref": logref,
        },
    })
