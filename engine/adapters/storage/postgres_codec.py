"""Rows to domain objects and back, for the PostgreSQL schema.

Instants are timestamptz: psycopg hands back aware datetimes, which are
turned to UTC here whatever the session's TimeZone (a host's pool may set
another), so every backend returns the same values. Naive datetimes are
refused. Step lists and an enrollment's actions keep the SQLite store's JSON
layout (`sqlite_codec` encodes and decodes them, and shares decoded step
lists), so the two backends read each other's exports.
"""

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import orjson

from engine.adapters.storage.sqlite_codec import (
    EnrollmentArgs,
    actions_args,
    actions_body,
    build,
    decoded,
    steps_body,
    steps_from,
)
from engine.app.ports import FailureRule, Lease, OutboxMessage, StoredResponse
from engine.domain.account import Account, ApiToken, User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import EnrollmentState, FailureReason, FinishedReason, ResourceType
from engine.domain.sequence import Sequence, UnsubscribeSettings
from engine.domain.task import Task

Row = dict[str, Any]
Params = dict[str, Any]

__all__ = ["steps_body"]


def instant(value: datetime) -> datetime:
    """A datetime as the database gets it: aware, or refused."""
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: storage needs aware instants")
    return value


def opt(value: datetime | None) -> datetime | None:
    return None if value is None else instant(value)


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def id_list(ids: Any) -> list[int] | None:
    return None if ids is None else [int(i) for i in ids]


# -- accounts, users, tokens --------------------------------------------------


def account_params(a: Account) -> Params:
    return {"id": a.id, "name": a.name, "reach_enabled": a.reach_enabled,
            "daily_email_quota": a.daily_email_quota}


def account_from(r: Row) -> Account:
    return Account(r["id"], r["name"], r["reach_enabled"], r["daily_email_quota"])


def user_params(u: User) -> Params:
    return {"id": u.id, "account_id": u.account_id, "name": u.name, "time_zone": u.time_zone,
            "holidays": u.holidays, "weekmask": u.weekmask, "send_window": u.send_window,
            "daily_email_limit": u.daily_email_limit}


def user_from(r: Row) -> User:
    return User(r["id"], r["account_id"], r["name"], r["time_zone"], r["holidays"],
                r["weekmask"], r["send_window"], r["daily_email_limit"])


def token_params(t: ApiToken) -> Params:
    return {"token_hash": t.token_hash, "user_id": t.user_id, "account_id": t.account_id,
            "scopes": sorted(t.scopes), "revoked": t.revoked}


def token_from(r: Row) -> ApiToken:
    return ApiToken(r["token_hash"], r["user_id"], r["account_id"], frozenset(r["scopes"]),
                    r["revoked"])


# -- sequences and enrollments ------------------------------------------------------


def sequence_params(q: Sequence, steps_id: int) -> Params:
    return {"id": q.id, "account_id": q.account_id, "name": q.name, "creator_id": q.creator_id,
            "created_at": instant(q.created_at), "updated_at": instant(q.updated_at),
            "steps_id": steps_id, "unsubscribe_enabled": q.unsubscribe_settings.enabled,
            "unsubscribe_locale": q.unsubscribe_settings.locale}


def sequence_from(r: Row) -> Sequence:
    return Sequence(
        id=r["id"], account_id=r["account_id"], name=r["name"], creator_id=r["creator_id"],
        created_at=utc(r["created_at"]), updated_at=utc(r["updated_at"]),
        steps=steps_from(r["steps"]),
        unsubscribe_settings=UnsubscribeSettings(r["unsubscribe_enabled"],
                                                 r["unsubscribe_locale"]),
    )


def enrollment_params(e: Enrollment, steps_id: int) -> Params:
    return {
        "id": e.id, "account_id": e.account_id, "actor_id": e.actor_id,
        "sequence_id": e.sequence_id, "resource_type": e.resource_type.value,
        "resource_id": e.resource_id, "state": e.state.value,
        "current_step_position": e.current_step_position,
        "created_at": instant(e.created_at), "updated_at": instant(e.updated_at),
        "started_at": instant(e.started_at), "finished_at": opt(e.finished_at),
        "finished_reason": None if e.finished_reason is None else e.finished_reason.value,
        "finished_actor_id": e.finished_actor_id, "due_at": opt(e.due_at),
        "steps_id": steps_id, "actions": actions_body(e.actions),
    }


def enrollment_from(r: Row) -> Enrollment:
    return build(_enrollment_args(r))


def cached_enrollment_from(r: Row) -> Enrollment:
    """enrollment_from through the decoded-rows cache (sqlite_codec.decoded), keyed by
    the row's every column: a changed row is another key, never a stale entry."""
    return decoded(tuple(r.values()), r, _enrollment_args)


def _enrollment_args(r: Row) -> EnrollmentArgs:
    reason = r["finished_reason"]
    return (
        (r["id"], r["account_id"], r["actor_id"], r["sequence_id"],
         ResourceType(r["resource_type"]), r["resource_id"], utc(r["created_at"]),
         utc(r["updated_at"]), utc(r["started_at"]), steps_from(r["steps"])),
        actions_args(r["actions"]),
        (EnrollmentState(r["state"]), r["current_step_position"], opt_utc(r["finished_at"]),
         None if reason is None else FinishedReason(reason), r["finished_actor_id"],
         opt_utc(r["due_at"])),
    )


def lease_from(r: Row, until: datetime) -> Lease:
    return Lease(r["id"], r["account_id"], r["claimed_by"], r["claim_seq"], until)


# -- tasks, outbox, rules, responses --------------------------------------------


def task_params(t: Task) -> Params:
    return {
        "id": t.id, "account_id": t.account_id, "creator_id": t.creator_id,
        "owner_id": t.owner_id, "resource_type": t.resource_type.value,
        "resource_id": t.resource_id, "content": t.content, "due_date": instant(t.due_date),
        "created_at": instant(t.created_at), "updated_at": instant(t.updated_at),
        "enrollment_id": t.enrollment_id, "position": t.position, "completed": t.completed,
        "completed_at": opt(t.completed_at), "remind_at": opt(t.remind_at),
    }


def task_from(r: Row) -> Task:
    return Task(
        id=r["id"], account_id=r["account_id"], creator_id=r["creator_id"],
        owner_id=r["owner_id"], resource_type=ResourceType(r["resource_type"]),
        resource_id=r["resource_id"], content=r["content"], due_date=utc(r["due_date"]),
        created_at=utc(r["created_at"]), updated_at=utc(r["updated_at"]),
        enrollment_id=r["enrollment_id"], position=r["position"], completed=r["completed"],
        completed_at=opt_utc(r["completed_at"]), remind_at=opt_utc(r["remind_at"]),
    )


def outbox_params(m: OutboxMessage) -> Params:
    return {
        "idempotency_key": m.idempotency_key, "account_id": m.account_id,
        "enrollment_id": m.enrollment_id, "position": m.position,
        "email_template_id": m.email_template_id, "is_reply": m.is_reply,
        "actor_id": m.actor_id, "resource_type": m.resource_type.value,
        "resource_id": m.resource_id, "sent_at": instant(m.sent_at),
    }


def outbox_columns(messages: list[OutboxMessage]) -> Params:
    """outbox_params of many messages, one array per column (add_outbox_messages)."""
    return {
        "keys": [m.idempotency_key for m in messages],
        "account_ids": [m.account_id for m in messages],
        "enrollment_ids": [m.enrollment_id for m in messages],
        "positions": [m.position for m in messages],
        "template_ids": [m.email_template_id for m in messages],
        "replies": [m.is_reply for m in messages],
        "actor_ids": [m.actor_id for m in messages],
        "resource_types": [m.resource_type.value for m in messages],
        "resource_ids": [m.resource_id for m in messages],
        "sent_ats": [instant(m.sent_at) for m in messages],
    }


def outbox_from(r: Row) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=r["idempotency_key"], account_id=r["account_id"],
        enrollment_id=r["enrollment_id"], position=r["position"],
        email_template_id=r["email_template_id"], is_reply=r["is_reply"],
        actor_id=r["actor_id"], resource_type=ResourceType(r["resource_type"]),
        resource_id=r["resource_id"], sent_at=utc(r["sent_at"]),
    )


def rule_params(rule: FailureRule) -> Params:
    return {"account_id": rule.account_id, "resource_type": rule.resource_type.value,
            "resource_id": rule.resource_id, "failure_reason": rule.failure_reason.value}


def rule_from(r: Row) -> FailureRule:
    return FailureRule(r["account_id"], ResourceType(r["resource_type"]), r["resource_id"],
                       FailureReason(r["failure_reason"]))


def response_from(r: Row) -> StoredResponse:
    return StoredResponse(r["status"], bytes(r["body"]))


def send_key(scope: str, owner_id: int, day: date) -> Params:
    return {"scope": scope, "owner_id": owner_id, "day": day}


def advisory_key(*parts: object) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock, stable across processes."""
    digest = hashlib.blake2b(orjson.dumps([str(p) for p in parts]), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
