"""/v2/users: the caller's account's users, so Sell clients' connection checks work.

Read-only, and open to accounts without Reach (users are not a sequences feature).
Another account's users do not exist for the caller (404).
"""

from functools import partial

import falcon
import orjson

from engine.adapters.http.context import HttpContext
from engine.adapters.http.resources.paging import fetch_page, links
from engine.adapters.http.responses import principal, query, send
from engine.wire.query import parse_page
from engine.wire.render import collection, user_data, user_document


class UserList:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        page = parse_page(query(req))
        with self.ctx.guard.read():
            found, has_next = fetch_page(partial(self.ctx.engine.list_users, who.account_id), page)
        items = [(user_data(user), "user") for user in found]
        send(resp, orjson.dumps(collection(items, links(req, page, has_next))))


class UserSelf:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        with self.ctx.guard.read():
            send(resp, user_document(self.ctx.engine.get_account_user(who.account_id,
                                                                      who.user_id)))


class UserItem:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        who = principal(req)
        with self.ctx.guard.read():
            send(resp, user_document(self.ctx.engine.get_account_user(who.account_id, id)))
