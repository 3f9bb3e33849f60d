"""Sell JSON documents to the client's read models (models.py).

Strict about what the operations rely on (a missing or mistyped field raises
SellResponseError naming its JSON pointer), lenient about what they do not (extra
fields are ignored, a `meta.type` is only checked when present). Instants go
through the server's own `parse_instant`, so both sides agree on the format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from engine.adapters.sell.errors import SellResponseError
from engine.adapters.sell.models import (
    RemoteAction,
    RemoteEnrollment,
    RemotePage,
    RemoteSequence,
    RemoteStep,
    RemoteTask,
)
from engine.domain.enums import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    ResourceType,
)
from engine.domain.sequence import Step, UnsubscribeSettings
from engine.wire.parse import parse_instant

__all__ = [
    "enrollment_from",
    "finish_ongoing_from",
    "page_from",
    "resource_from",
    "sequence_from",
    "task_from",
]

Json = Mapping[str, Any]
T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
_MISSING: Any = object()


def _bad(at: str, problem: str) -> SellResponseError:
    return SellResponseError(f"unexpected Sell response: {at} {problem}")


def _value(data: Json, key: str, at: str) -> Any:
    value = data.get(key, _MISSING)
    if value is _MISSING:
        raise _bad(f"{at}/{key}", "is missing")
    return value


def _typed(data: Json, key: str, at: str, kind: type[T], optional: bool) -> T | None:
    value = _value(data, key, at) if not optional else data.get(key)
    if value is None and optional:
        return None
    if type(value) is not kind:  # exact: a bool is an int in Python, never in JSON
        raise _bad(f"{at}/{key}", f"is {type(value).__name__}, expected {kind.__name__}")
    found: T = value
    return found


def _int(data: Json, key: str, at: str) -> int:
    found = _typed(data, key, at, int, optional=False)
    assert found is not None
    return found


def _opt_int(data: Json, key: str, at: str) -> int | None:
    return _typed(data, key, at, int, optional=True)


def _str(data: Json, key: str, at: str) -> str:
    found = _typed(data, key, at, str, optional=False)
    assert found is not None
    return found


def _opt_str(data: Json, key: str, at: str) -> str | None:
    return _typed(data, key, at, str, optional=True)


def _bool(data: Json, key: str, at: str) -> bool:
    found = _typed(data, key, at, bool, optional=False)
    assert found is not None
    return found


def _object(data: Json, key: str, at: str) -> Json:
    found = _typed(data, key, at, dict, optional=False)
    assert found is not None
    return found


def _instant(data: Json, key: str, at: str) -> datetime:
    found = _opt_instant(data, key, at)
    if found is None:
        raise _bad(f"{at}/{key}", "is null")
    return found


def _opt_instant(data: Json, key: str, at: str) -> datetime | None:
    text = _opt_str(data, key, at)
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as error:
        raise _bad(f"{at}/{key}", f"is not an instant: {error}") from None


def _choice(data: Json, key: str, at: str, kind: type[E]) -> E:
    found = _opt_choice(data, key, at, kind)
    if found is None:
        raise _bad(f"{at}/{key}", "is null")
    return found


def _opt_choice(data: Json, key: str, at: str, kind: type[E]) -> E | None:
    text = _opt_str(data, key, at)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        raise _bad(f"{at}/{key}", f"is {text!r}, not one of "
                   + ", ".join(member.value for member in kind)) from None


def resource_from(document: Any, meta_type: str) -> Json:
    """The `data` of a single-resource document `{"data": {...}, "meta": {"type": ...}}`."""
    if type(document) is not dict:
        raise _bad("the body", "is not a JSON object")
    meta = document.get("meta")
    if type(meta) is dict and meta.get("type", meta_type) != meta_type:
        raise _bad("/meta/type", f"is {meta.get('type')!r}, expected {meta_type!r}")
    return _object(document, "data", "")


# -- sequences ---------------------------------------------------------------------


def step_from(data: Json, at: str) -> Step:
    position = _int(data, "position", at)
    delay = _int(data, "delay_from_previous_step", at)
    unit = _choice(data, "delay_from_previous_step_unit", at, DelayUnit)
    action_type = _choice(data, "action_type", at, ActionType)
    properties = _object(data, "action_properties", at)
    props_at = f"{at}/action_properties"
    if action_type is ActionType.AUTOMATED_EMAIL:
        return Step(position, delay, unit, action_type,
                    email_template_id=_opt_int(properties, "email_template_id", props_at),
                    is_reply=bool(_typed(properties, "is_reply", props_at, bool, True)))
    return Step(position, delay, unit, action_type,
                task_content=_opt_str(properties, "task_content", props_at))


def sequence_from(data: Json, at: str = "/data") -> RemoteSequence:
    settings = data.get("unsubscribe_settings")
    unsubscribe = UnsubscribeSettings()
    if settings is not None:
        settings = _object(data, "unsubscribe_settings", at)
        settings_at = f"{at}/unsubscribe_settings"
        unsubscribe = UnsubscribeSettings(_bool(settings, "enabled", settings_at),
                                          _str(settings, "locale", settings_at))
    steps, step_ids = _sequence_steps(data, at)
    return RemoteSequence(
        id=_int(data, "id", at),
        name=_str(data, "name", at),
        steps_total=_int(data, "steps_total", at),
        creator_id=_int(data, "creator_id", at),
        created_at=_instant(data, "created_at", at),
        updated_at=_instant(data, "updated_at", at),
        unsubscribe_settings=unsubscribe,
        steps=steps,
        step_ids=step_ids,
    )


def _sequence_steps(
    data: Json, at: str
) -> tuple[tuple[Step, ...] | None, tuple[int | None, ...] | None]:
    """A sequence's `steps` as Sell renders them, a collection of `step`s
    (`{"items": [{"data": {"id", ...}}]}`), or as a plain array of step objects
    (this engine before it matched Sell). Absent inside an enrollment."""
    value = data.get("steps")
    if value is None:
        return None, None
    at = f"{at}/steps"
    if type(value) is dict:
        listed = _typed(value, "items", at, list, optional=False) or []
        found = [_object(_item(listed, i, f"{at}/items"), "data", f"{at}/items/{i}")
                 for i in range(len(listed))]
        at = f"{at}/items"
        places = [f"{at}/{i}/data" for i in range(len(found))]
    elif type(value) is list:
        found = [_item(value, i, at) for i in range(len(value))]
        places = [f"{at}/{i}" for i in range(len(found))]
    else:
        raise _bad(at, f"is {type(value).__name__}, expected a collection")
    steps = tuple(step_from(item, place) for item, place in zip(found, places, strict=True))
    ids = tuple(_opt_int(item, "id", place) for item, place in zip(found, places, strict=True))
    return steps, ids


def _item(items: list[Any], index: int, at: str) -> Json:
    item = items[index]
    if type(item) is not dict:
        raise _bad(f"{at}/{index}", "is not an object")
    return item


# -- enrollments -------------------------------------------------------------------


def _action_from(data: Json, at: str) -> RemoteAction:
    return RemoteAction(
        status=_choice(data, "status", at, ActionStatus),
        executed_at=_opt_instant(data, "executed_at", at),
        estimated_execute_at=_opt_instant(data, "estimated_execute_at", at),
        failure_reason=_opt_choice(data, "failure_reason", at, FailureReason),
        task_content=_opt_str(data, "task_content", at),
        task_id=_opt_int(data, "task_id", at),
    )


def _enrollment_step_from(data: Json, at: str) -> RemoteStep:
    action = _object(_object(data, "action", at), "data", f"{at}/action")
    return RemoteStep(
        step=step_from(data, at),
        overdue=_bool(data, "overdue", at),
        action=_action_from(action, f"{at}/action/data"),
    )


def enrollment_from(data: Json, at: str = "/data") -> RemoteEnrollment:
    sequence = _object(_object(data, "sequence", at), "data", f"{at}/sequence")
    steps_at = f"{at}/enrollment_steps/items"
    items = _typed(_object(data, "enrollment_steps", at), "items", f"{at}/enrollment_steps",
                   list, optional=False)
    assert items is not None
    steps = tuple(
        _enrollment_step_from(_object(_item(items, i, steps_at), "data", f"{steps_at}/{i}"),
                              f"{steps_at}/{i}/data")
        for i in range(len(items))
    )
    return RemoteEnrollment(
        id=_int(data, "id", at),
        actor_id=_int(data, "actor_id", at),
        resource_type=_choice(data, "resource_type", at, ResourceType),
        resource_id=_int(data, "resource_id", at),
        created_at=_instant(data, "created_at", at),
        updated_at=_instant(data, "updated_at", at),
        sequence=sequence_from(sequence, f"{at}/sequence/data"),
        state=_choice(data, "state", at, EnrollmentState),
        current_step_position=_int(data, "current_step_position", at),
        steps=steps,
        finished_at=_opt_instant(data, "finished_at", at),
        finished_reason=_opt_choice(data, "finished_reason", at, FinishedReason),
        finished_actor_id=_opt_int(data, "finished_actor_id", at),
    )


def finish_ongoing_from(document: Any) -> tuple[RemoteEnrollment, ...]:
    data = resource_from(document, "sequence_enrollment_action")
    updated = _object(data, "updated_enrollments", "/data")
    return _items(updated, enrollment_from, "/data/updated_enrollments")


# -- tasks -------------------------------------------------------------------------

_RESOURCE_TYPES = {member.value: member for member in ResourceType}


def task_from(data: Json, at: str = "/data") -> RemoteTask:
    kind = _opt_str(data, "resource_type", at)
    return RemoteTask(
        id=_int(data, "id", at),
        creator_id=_int(data, "creator_id", at),
        owner_id=_int(data, "owner_id", at),
        resource_type=_RESOURCE_TYPES.get(kind, kind) if kind is not None else None,
        resource_id=_opt_int(data, "resource_id", at),
        completed=_bool(data, "completed", at),
        completed_at=_opt_instant(data, "completed_at", at),
        due_date=_opt_instant(data, "due_date", at),
        overdue=bool(_typed(data, "overdue", at, bool, optional=True)),
        remind_at=_opt_instant(data, "remind_at", at),
        content=_str(data, "content", at),
        created_at=_instant(data, "created_at", at),
        updated_at=_instant(data, "updated_at", at),
    )


# -- collections -------------------------------------------------------------------


def _items(document: Json, decode: Callable[[Json, str], T], at: str) -> tuple[T, ...]:
    items = _typed(document, "items", at, list, optional=False)
    assert items is not None
    items_at = f"{at}/items"
    return tuple(
        decode(_object(_item(items, i, items_at), "data", f"{items_at}/{i}"),
               f"{items_at}/{i}/data")
        for i in range(len(items))
    )


def page_from(
    document: Any, decode: Callable[[Json, str], T], page: int, per_page: int
) -> RemotePage[T]:
    """One page of a Sell collection, and which page follows it (see `following_page`)."""
    if type(document) is not dict:
        raise _bad("the body", "is not a JSON object")
    items = _items(document, decode, "")
    meta = document.get("meta")
    links = meta.get("links") if type(meta) is dict else None
    return RemotePage(items, page, per_page,
                      following_page(links if type(links) is dict else None,
                                     len(items), page, per_page))


def following_page(links: Json | None, count: int, page: int, per_page: int) -> int | None:
    """The number of the page after `page`, or None when `page` is the last.

    A `next_page` link says there is one; only its `page` number is taken (the client
    asks its own base URL again, never the link's host: Sell's links may say
    `http://` for an `https://` API, and a token must not follow a link elsewhere).
    Links with `first_page` but no `next_page` mean the last page. Without
    pagination links at all (Sell may send `self` only, or no links), a full page
    may have a successor: ask for `page + 1` until a short page comes back."""
    if links is not None and isinstance(links.get("next_page"), str):
        numbers = parse_qs(urlsplit(links["next_page"]).query).get("page", [])
        if not numbers:
            return page + 1
        try:
            following = int(numbers[-1])
        except ValueError:
            raise _bad("/meta/links/next_page", f"has page {numbers[-1]!r}") from None
        if following <= page:  # would loop forever
            raise _bad("/meta/links/next_page", f"goes back to page {following} from {page}")
        return following
    if links is not None and ("first_page" in links or "prev_page" in links):
        return None
    return page + 1 if count >= per_page > 0 else None
