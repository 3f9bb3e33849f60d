"""/engine/v1: this engine's own extension (http-api.md section 5): outside events,
the clock, the built-in outbox and its failure rules, and health."""

import math
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

import falcon
import orjson

from engine.adapters.http.context import HttpContext
from engine.adapters.http.fields import Fields, pointer
from engine.adapters.http.resources.paging import fetch_page, links
from engine.adapters.http.responses import no_content, principal, query, read_body, send
from engine.app.ports import FailureRule
from engine.domain.enums import FailureReason, ResourceType
from engine.domain.events import (
    EmailReplied,
    Event,
    ResourceDeleted,
    SubscriptionCancelled,
    TaskCompleted,
    TaskDeleted,
)
from engine.errors import ClockNotSimulated, ErrorDetail, ValidationFailed
from engine.wire.parse import parse_body, parse_instant, parse_page
from engine.wire.render import collection, enrollment_data, format_instant, outbox_message_data

# A step is at most ~10 years and a sequence at most 100 steps (engine.wire.parse), so
# planning from any instant before this one stays inside datetime's range.
LATEST = datetime(8000, 1, 1, tzinfo=UTC)


class EventType(StrEnum):
    EMAIL_REPLIED = "email_replied"
    RESOURCE_DELETED = "resource_deleted"
    SUBSCRIPTION_CANCELLED = "subscription_cancelled"
    TASK_COMPLETED = "task_completed"  # a host's task, named by its step
    TASK_DELETED = "task_deleted"


def parse_event(data: dict[str, Any]) -> tuple[EventType, Event]:
    fields = Fields(data, "event")
    kind = fields.choice("type", EventType)
    event: Event | None = None
    if kind is EventType.EMAIL_REPLIED:
        event = EmailReplied(fields.id("enrollment_id"))
        fields.only("type", "enrollment_id")
    elif kind is EventType.RESOURCE_DELETED:
        resource_type = fields.choice("resource_type", ResourceType)
        resource_id = fields.id("resource_id")
        if resource_type is not None:
            event = ResourceDeleted(resource_type, resource_id)
        fields.only("type", "resource_type", "resource_id")
    elif kind is EventType.SUBSCRIPTION_CANCELLED:
        event = SubscriptionCancelled()
        fields.only("type")
    elif kind in (EventType.TASK_COMPLETED, EventType.TASK_DELETED):
        step = fields.id("enrollment_id"), fields.position("position")
        event = TaskCompleted(None, *step) if kind is EventType.TASK_COMPLETED else TaskDeleted(
            None, *step)
        fields.only("type", "enrollment_id", "position")
    fields.done()
    assert kind is not None and event is not None
    return kind, event


class Events:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        kind, event = parse_event(parse_body(read_body(req)))
        with self.ctx.guard.write():
            views = self.ctx.engine.handle(who.account_id, event)
            items = [(enrollment_data(view), "sequence_enrollment") for view in views]
            send(resp, orjson.dumps({
                "data": {"type": kind, "finished_enrollments": collection(items, None)},
                "meta": {"type": "engine_event"},
            }))


MAX_ADVANCE = 315_576_000  # ten years of seconds at once


def parse_advance(data: dict[str, Any], now: datetime) -> datetime:
    """`{"advance_seconds": N}` or `{"to": ISO}`, exactly one: the instant to advance to."""
    errors: list[ErrorDetail] = [
        ErrorDetail("unknown", f"unknown field {key!r}", pointer(key),
                    "allowed: advance_seconds, to")
        for key in data if key not in ("advance_seconds", "to")
    ]
    given = [key for key in ("advance_seconds", "to") if key in data]
    target = now
    if len(given) != 1:
        errors.append(ErrorDetail("missing" if not given else "incorrect_value",
                                  "give exactly one of advance_seconds and to", "/data"))
    elif given == ["advance_seconds"]:
        seconds = data["advance_seconds"]
        if type(seconds) not in (int, float):
            errors.append(ErrorDetail("invalid_type", "advance_seconds must be a number",
                                      "/data/advance_seconds"))
        elif not (math.isfinite(seconds) and 0 <= seconds <= MAX_ADVANCE):
            errors.append(ErrorDetail("incorrect_value", "advance_seconds must be from 0 to "
                                      f"{MAX_ADVANCE} (ten years)", "/data/advance_seconds"))
        else:
            target = now + timedelta(seconds=seconds)
    else:
        text = data["to"]
        try:
            target = parse_instant(text)
        except ValueError as error:
            code = "invalid_type" if type(text) is not str else "incorrect_value"
            errors.append(ErrorDetail(code, "to must be an ISO 8601 instant", "/data/to",
                                      str(error)))
        else:
            if target < now:
                errors.append(ErrorDetail("incorrect_value", "time never moves back: it is "
                                          f"already {format_instant(now)}", "/data/to"))
    if not errors and target >= LATEST:
        errors.append(ErrorDetail("incorrect_value", "the clock cannot pass "
                                  f"{format_instant(LATEST)}", f"/data/{given[0]}"))
    if errors:
        raise ValidationFailed(errors, resource="clock")
    return target


class Clock:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def _document(self) -> bytes:
        now = format_instant(self.ctx.engine.clock.now())
        return orjson.dumps({"data": {"now": now, "mode": self.ctx.clock_mode},
                             "meta": {"type": "clock"}})

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send(resp, self._document())

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal(req).require_admin("moving the clock (shared by every account)")
        if self.ctx.clock_mode != "simulated":
            raise ClockNotSimulated("the server runs on the system clock: time cannot be "
                                    "advanced (start it with --clock simulated)")
        data = parse_body(read_body(req))
        with self.ctx.guard.write():
            engine = self.ctx.engine
            engine.advance(to=parse_advance(data, engine.clock.now()))
            send(resp, self._document())


class Outbox:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        page = parse_page(query(req))
        with self.ctx.guard.read():
            found, has_next = fetch_page(partial(self.ctx.engine.outbox, who.account_id), page)
            items = [(outbox_message_data(message), "outbox_message") for message in found]
            send(resp, orjson.dumps(collection(items, links(req, page, has_next))))


class OutboxFailures:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        fields = Fields(parse_body(read_body(req)), "outbox_failure_rule")
        resource_type = fields.choice("resource_type", ResourceType)
        resource_id = fields.id("resource_id")
        reason = fields.choice("failure_reason", FailureReason)
        fields.only("resource_type", "resource_id", "failure_reason")
        fields.done()
        assert resource_type is not None and reason is not None
        with self.ctx.guard.write():
            self.ctx.engine.set_failure_rule(
                FailureRule(who.account_id, resource_type, resource_id, reason))
        send(resp, orjson.dumps({
            "data": {"resource_type": resource_type, "resource_id": resource_id,
                     "failure_reason": reason},
            "meta": {"type": "outbox_failure_rule"},
        }))

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        with self.ctx.guard.write():
            self.ctx.engine.clear_failure_rules(who.account_id)
        no_content(resp)


class Health:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send(resp, orjson.dumps({"data": {"status": "ok", "clock_mode": self.ctx.clock_mode},
                                 "meta": {"type": "health"}}))
