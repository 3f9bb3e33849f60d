"""/v2/tasks: the tasks that task steps create, with Sell's writable fields."""

from functools import partial

import falcon
import orjson

from engine.adapters.http.context import HttpContext
from engine.adapters.http.resources.paging import fetch_page, links
from engine.adapters.http.responses import no_content, principal, query, read_body, send
from engine.domain.task import Task
from engine.timeline import BusinessCalendar
from engine.wire.parse import parse_body, parse_task_query, parse_task_update
from engine.wire.render import collection, task_data, task_document


class _TaskResource:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def _calendar(self, cache: dict[int, BusinessCalendar], task: Task) -> BusinessCalendar:
        """The owner's calendar: a task is overdue by the owner's local day."""
        found = cache.get(task.owner_id)
        if found is None:
            found = cache[task.owner_id] = self.ctx.engine.get_user(task.owner_id).calendar
        return found

    def _document(self, task: Task) -> bytes:
        engine = self.ctx.engine
        return task_document(task, engine.clock.now(), self._calendar({}, task))


class TaskList(_TaskResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        where, page = parse_task_query(query(req))
        engine = self.ctx.engine
        with self.ctx.guard.read():
            found, has_next = fetch_page(partial(engine.list_tasks, who.account_id, where), page)
            now = engine.clock.now()
            calendars: dict[int, BusinessCalendar] = {}
            items = [(task_data(task, now, self._calendar(calendars, task)), "task")
                     for task in found]
            send(resp, orjson.dumps(collection(items, links(req, page, has_next))))


class TaskItem(_TaskResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        who = principal(req)
        with self.ctx.guard.read():
            send(resp, self._document(self.ctx.engine.get_task(who.account_id, id)))

    def on_put(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        who = principal(req)
        changes = parse_task_update(parse_body(read_body(req))).changes()
        with self.ctx.guard.write():
            task = self.ctx.engine.update_task(who.account_id, id, **changes)
            send(resp, self._document(task))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        who = principal(req)
        with self.ctx.guard.write():
            self.ctx.engine.delete_task(who.account_id, id)
        no_content(resp)
