"""Rows to domain objects and back, for the SQLite schema.

Instants are stored as integer microseconds since the Unix epoch (UTC): exact,
sortable, indexable, and one integer compare in the due index. Any aware
datetime goes in; an aware UTC datetime comes out, equal to it to the
microsecond. Naive datetimes are refused: every instant in the engine is aware.

Step lists are decoded once per distinct JSON body and shared as the same
tuple of frozen Steps, as the domain intends (enrollments share Step objects).
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import orjson

from engine.app.ports import FailureRule, OutboxMessage, StoredResponse
from engine.domain.account import Account, ApiToken, User
from engine.domain.enrollment import Enrollment, StepAction
from engine.domain.enums import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    ResourceType,
)
from engine.domain.sequence import Sequence, Step, UnsubscribeSettings
from engine.domain.task import Task


class Row(Protocol):
    """What the codec reads from: a row addressable by column name (sqlite3.Row)."""

    def __getitem__(self, key: str, /) -> Any: ...

Params = dict[str, Any]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
_STATUS = {s.value: s for s in ActionStatus}
_FAILURE = {f.value: f for f in FailureReason}
_RESOURCE = {r.value: r for r in ResourceType}
_STATE = {s.value: s for s in EnrollmentState}
_FINISHED = {f.value: f for f in FinishedReason}


def to_micros(instant: datetime) -> int:
    if instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: storage needs aware instants")
    return (instant - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def opt_micros(instant: datetime | None) -> int | None:
    return None if instant is None else to_micros(instant)


def opt_instant(micros: int | None) -> datetime | None:
    return None if micros is None else from_micros(micros)


def day_text(day: date) -> str:
    return day.isoformat()


def json_ids(ids: Any) -> str | None:
    """An optional collection of ids as one JSON array parameter (for json_each)."""
    return None if ids is None else orjson.dumps([int(i) for i in ids]).decode()


# -- accounts, users, tokens --------------------------------------------------


def account_params(a: Account) -> Params:
    return {"id": a.id, "name": a.name, "reach_enabled": a.reach_enabled,
            "daily_email_quota": a.daily_email_quota}


def account_from(r: Row) -> Account:
    return Account(r["id"], r["name"], bool(r["reach_enabled"]), r["daily_email_quota"])


def user_params(u: User) -> Params:
    return {"id": u.id, "account_id": u.account_id, "name": u.name, "time_zone": u.time_zone,
            "holidays": u.holidays, "weekmask": u.weekmask, "send_window": u.send_window,
            "daily_email_limit": u.daily_email_limit}


def user_from(r: Row) -> User:
    return User(r["id"], r["account_id"], r["name"], r["time_zone"], r["holidays"],
                r["weekmask"], r["send_window"], r["daily_email_limit"])


def token_params(t: ApiToken) -> Params:
    return {"token_hash": t.token_hash, "user_id": t.user_id, "account_id": t.account_id,
            "scopes": orjson.dumps(sorted(t.scopes)).decode(), "revoked": t.revoked}


def token_from(r: Row) -> ApiToken:
    return ApiToken(r["token_hash"], r["user_id"], r["account_id"],
                    frozenset(orjson.loads(r["scopes"])), bool(r["revoked"]))


# -- steps and sequences --------------------------------------------------------


def steps_body(steps: tuple[Step, ...]) -> str:
    return orjson.dumps([
        [s.position, s.delay_from_previous_step, s.delay_from_previous_step_unit.value,
         s.action_type.value, s.email_template_id, s.is_reply, s.task_content]
        for s in steps
    ]).decode()


@lru_cache(maxsize=4096)
def steps_from(body: str) -> tuple[Step, ...]:
    return tuple(
        Step(position, delay, DelayUnit(unit), ActionType(kind), template, is_reply, content)
        for position, delay, unit, kind, template, is_reply, content in orjson.loads(body)
    )


def sequence_params(q: Sequence, steps_id: int) -> Params:
    return {"id": q.id, "account_id": q.account_id, "name": q.name, "creator_id": q.creator_id,
            "created_at": to_micros(q.created_at), "updated_at": to_micros(q.updated_at),
            "steps_id": steps_id, "unsubscribe_enabled": q.unsubscribe_settings.enabled,
            "unsubscribe_locale": q.unsubscribe_settings.locale}


def sequence_from(r: Row) -> Sequence:
    return Sequence(
        id=r["id"], account_id=r["account_id"], name=r["name"], creator_id=r["creator_id"],
        created_at=from_micros(r["created_at"]), updated_at=from_micros(r["updated_at"]),
        steps=steps_from(r["steps"]),
        unsubscribe_settings=UnsubscribeSettings(bool(r["unsubscribe_enabled"]),
                                                 r["unsubscribe_locale"]),
    )


# -- enrollments ------------------------------------------------------------------


def actions_body(actions: list[StepAction]) -> str:
    return orjson.dumps([
        [a.status.value, opt_micros(a.estimated_execute_at), opt_micros(a.executed_at),
         None if a.failure_reason is None else a.failure_reason.value, a.task_id,
         a.generation, a.attempts, opt_micros(a.resumed_at)]
        for a in actions
    ]).decode()


def actions_from(body: str) -> list[StepAction]:
    return [StepAction(*args) for args in actions_args(body)]


def actions_args(body: str) -> tuple[tuple[Any, ...], ...]:
    """Each action's StepAction arguments, decoded from the stored body."""
    status, failure, td, epoch = _STATUS, _FAILURE, timedelta, EPOCH
    return tuple(
        (status[state],
         None if estimated is None else epoch + td(0, 0, estimated),
         None if executed is None else epoch + td(0, 0, executed),
         None if reason is None else failure[reason], task_id, generation, attempts,
         None if resumed is None else epoch + td(0, 0, resumed))
        for state, estimated, executed, reason, task_id, generation, attempts, resumed
        in orjson.loads(body)
    )


def enrollment_params(e: Enrollment, steps_id: int) -> Params:
    return {
        "id": e.id, "account_id": e.account_id, "actor_id": e.actor_id,
        "sequence_id": e.sequence_id, "resource_type": e.resource_type.value,
        "resource_id": e.resource_id, "state": e.state.value,
        "current_step_position": e.current_step_position,
        "created_at": to_micros(e.created_at), "updated_at": to_micros(e.updated_at),
        "started_at": to_micros(e.started_at), "finished_at": opt_micros(e.finished_at),
        "finished_reason": None if e.finished_reason is None else e.finished_reason.value,
        "finished_actor_id": e.finished_actor_id, "due_at": opt_micros(e.due_at),
        "steps_id": steps_id, "actions": actions_body(e.actions),
    }


def enrollment_from(r: Any) -> Enrollment:
    """One enrollment row, as sqlite_queries.sql selects it: its columns in table order
    up to `actions`, then the step list's body. Unpacked by position, and the enums
    found by dict (no per-field lookups by name, no enum constructors)."""
    return build(_enrollment_args(r))


# The decoded arguments of recently read rows, keyed by the whole row: decoding is a
# pure function of the row, so a changed row (whoever changed it: another process, the
# scheduler, plain SQL) is simply another key, and an entry is never stale. Values are
# immutable (ints, strings, datetimes, enums, frozen Steps, tuples): every read still
# builds fresh Enrollment and StepAction objects from them, which callers may change.
_DECODED: dict[tuple[Any, ...], "EnrollmentArgs"] = {}
MAX_DECODED = 4096  # rows; past it the cache starts over


def cached_enrollment_from(row: tuple[Any, ...]) -> Enrollment:
    """enrollment_from for a plain tuple row, skipping the decoding of a row read
    before (a GET of an unchanged enrollment, a page read again)."""
    return decoded(row, row, _enrollment_args)


EnrollmentArgs = tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...], tuple[Any, ...]]


def decoded(key: tuple[Any, ...], row: Any,
            args_of: Callable[[Any], EnrollmentArgs]) -> Enrollment:
    """A fresh Enrollment from `row`, whose every column `key` holds, decoded by
    `args_of` unless a row equal to it was decoded lately (either backend's)."""
    args = _DECODED.get(key)
    if args is None:
        args = args_of(row)
        if len(_DECODED) >= MAX_DECODED:
            _DECODED.clear()
        _DECODED[key] = args
    return build(args)


def _enrollment_args(r: Any) -> EnrollmentArgs:
    """(the Enrollment arguments before `actions`, each action's, those after)."""
    (id_, account_id, actor_id, sequence_id, resource_type, resource_id, state, position,
     created, updated, started, finished, reason, finished_actor_id, due, actions,
     steps) = r
    td, epoch = timedelta, EPOCH
    return (
        (id_, account_id, actor_id, sequence_id, _RESOURCE[resource_type], resource_id,
         epoch + td(0, 0, created), epoch + td(0, 0, updated), epoch + td(0, 0, started),
         steps_from(steps)),
        actions_args(actions),
        (_STATE[state], position,
         None if finished is None else epoch + td(0, 0, finished),
         None if reason is None else _FINISHED[reason], finished_actor_id,
         None if due is None else epoch + td(0, 0, due)),
    )


def build(args: EnrollmentArgs) -> Enrollment:
    """A new Enrollment (and new StepActions) from decoded arguments."""
    head, actions, tail = args
    return Enrollment(*head, [StepAction(*action) for action in actions], *tail)  # type: ignore[call-arg]


# -- tasks, outbox, rules, responses --------------------------------------------


def task_params(t: Task) -> Params:
    return {
        "id": t.id, "account_id": t.account_id, "creator_id": t.creator_id,
        "owner_id": t.owner_id, "resource_type": t.resource_type.value,
        "resource_id": t.resource_id, "content": t.content, "due_date": to_micros(t.due_date),
        "created_at": to_micros(t.created_at), "updated_at": to_micros(t.updated_at),
        "enrollment_id": t.enrollment_id, "position": t.position, "completed": t.completed,
        "completed_at": opt_micros(t.completed_at), "remind_at": opt_micros(t.remind_at),
    }


def task_from(r: Row) -> Task:
    return Task(
        id=r["id"], account_id=r["account_id"], creator_id=r["creator_id"],
        owner_id=r["owner_id"], resource_type=ResourceType(r["resource_type"]),
        resource_id=r["resource_id"], content=r["content"],
        due_date=from_micros(r["due_date"]), created_at=from_micros(r["created_at"]),
        updated_at=from_micros(r["updated_at"]), enrollment_id=r["enrollment_id"],
        position=r["position"], completed=bool(r["completed"]),
        completed_at=opt_instant(r["completed_at"]), remind_at=opt_instant(r["remind_at"]),
    )


def outbox_params(m: OutboxMessage) -> Params:
    return {
        "idempotency_key": m.idempotency_key, "account_id": m.account_id,
        "enrollment_id": m.enrollment_id, "position": m.position,
        "email_template_id": m.email_template_id, "is_reply": m.is_reply,
        "actor_id": m.actor_id, "resource_type": m.resource_type.value,
        "resource_id": m.resource_id, "sent_at": to_micros(m.sent_at),
    }


def outbox_from(r: Row) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=r["idempotency_key"], account_id=r["account_id"],
        enrollment_id=r["enrollment_id"], position=r["position"],
        email_template_id=r["email_template_id"], is_reply=bool(r["is_reply"]),
        actor_id=r["actor_id"], resource_type=ResourceType(r["resource_type"]),
        resource_id=r["resource_id"], sent_at=from_micros(r["sent_at"]),
    )


def rule_params(rule: FailureRule) -> Params:
    return {"account_id": rule.account_id, "resource_type": rule.resource_type.value,
            "resource_id": rule.resource_id, "failure_reason": rule.failure_reason.value}


def rule_from(r: Row) -> FailureRule:
    return FailureRule(r["account_id"], ResourceType(r["resource_type"]), r["resource_id"],
                       FailureReason(r["failure_reason"]))


def response_from(r: Row) -> StoredResponse:
    return StoredResponse(r["status"], bytes(r["body"]))
