"""/v2/sequence_enrollments: the five operations of the seed page."""

from contextlib import AbstractContextManager, nullcontext
from functools import partial

import falcon

from engine.adapters.http.context import HttpContext
from engine.adapters.http.idempotency import IdempotencyKeys
from engine.adapters.http.page_memo import PageMemo, reads_pages
from engine.adapters.http.resources.paging import fetch_page, links
from engine.adapters.http.responses import principal, query, read_body, send
from engine.wire.parse import (
    parse_body,
    parse_create_enrollment,
    parse_enrollment_query,
    parse_finish_ongoing,
    parse_update_enrollment,
)
from engine.wire.render import (
    enrollment_document,
    enrollment_list_document,
    finish_ongoing_document,
)

_UNGUARDED: AbstractContextManager[object] = nullcontext()


class EnrollmentList:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx
        self.keys = IdempotencyKeys(ctx.engine.store, "POST /v2/sequence_enrollments")
        self.pages = PageMemo(ctx.engine)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        where, page = parse_enrollment_query(query(req))
        engine = self.ctx.engine
        shared = getattr(req.context, "shared_read", None)  # the gate's (SQLite)
        with self.ctx.guard.read():
            if shared is not None and reads_pages(shared):
                send(resp, self.pages.body(shared, who.token_hash, who.account_id,
                                           req.query_string, where, page,
                                           partial(links, req, page)))
                return
            views, has_next = fetch_page(
                partial(engine.list_enrollments, who.account_id, where), page)
            send(resp, enrollment_list_document(views, links(req, page, has_next)))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        key = self.keys.key_of(req)
        command = parse_create_enrollment(parse_body(read_body(req)))
        actor_id = command.actor_id if command.actor_id is not None else who.user_id
        request = (f"{command.sequence_id} {command.resource_type} {command.resource_id} "
                   f"{actor_id}")
        with self._create_guard(key):
            if key is not None and self.keys.replay(who.account_id, key, request, resp):
                return
            view = self.ctx.engine.enroll(
                who.account_id,
                sequence_id=command.sequence_id,
                resource_type=command.resource_type,
                resource_id=command.resource_id,
                actor_id=actor_id,
            )
            body = enrollment_document(view)
            if key is not None:
                self.keys.remember(who.account_id, key, request, 200, body)
        send(resp, body)

    def _create_guard(self, key: str | None) -> AbstractContextManager[object]:
        """The guard's write lock, except for a create without an Idempotency-Key over a
        store whose transactions isolate it (SQLite, PostgreSQL) on the system clock:
        that one needs nothing of the lock (the store checks the one-ongoing rule in the
        create's own write transaction), and SQLite commits such creates together
        (group commit, engine/adapters/storage/write_batch.py), which queueing on the
        lock first would undo. A key's check, create and save must not interleave with
        another request's; the in-memory store's objects are shared; and on a simulated
        clock an advance holds the lock so that no create lands in the middle of it."""
        ctx = self.ctx
        if key is None and not ctx.guard.exclusive_reads and ctx.clock_mode == "system":
            return _UNGUARDED
        return ctx.guard.write()


class EnrollmentItem:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        who = principal(req)
        with self.ctx.guard.read():
            send(resp, enrollment_document(self.ctx.engine.get_enrollment(who.account_id, id)))

    def on_put(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        who = principal(req)
        state = parse_update_enrollment(parse_body(read_body(req)))
        with self.ctx.guard.write():
            view = self.ctx.engine.update_enrollment_state(
                who.account_id, id, state, actor_id=who.user_id)
            send(resp, enrollment_document(view))


class FinishOngoing:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        command = parse_finish_ongoing(parse_body(read_body(req)))
        with self.ctx.guard.write():
            views = self.ctx.engine.finish_ongoing_for_resource(
                who.account_id,
                resource_type=command.resource_type,
                resource_id=command.resource_id,
                sequence_ids=command.sequence_ids,
                actor_id=who.user_id,
            )
            send(resp, finish_ongoing_document(views))
