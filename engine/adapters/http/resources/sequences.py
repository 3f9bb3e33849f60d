"""/v2/sequences: read as in Sell; create and edit are this engine's extension."""

from functools import partial

import falcon

from engine.adapters.http.context import HttpContext
from engine.adapters.http.resources.paging import fetch_page, links
from engine.adapters.http.responses import principal, query, read_body, send
from engine.wire.parse import parse_body, parse_sequence
from engine.wire.query import parse_sequence_query
from engine.wire.render import sequence_document, sequence_list_document


class SequenceList:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        where, page = parse_sequence_query(query(req))
        with self.ctx.guard.read():
            found, has_next = fetch_page(
                partial(self.ctx.engine.list_sequences, who.account_id, where), page)
            send(resp, sequence_list_document(found, links(req, page, has_next)))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        given = parse_sequence(parse_body(read_body(req)), partial=False)
        assert given.name is not None and given.steps is not None
        with self.ctx.guard.write():
            sequence = self.ctx.engine.create_sequence(
                who.account_id,
                name=given.name,
                steps=given.steps,
                creator_id=who.user_id,
                unsubscribe_settings=given.unsubscribe_settings,
            )
            send(resp, sequence_document(sequence))


class SequenceItem:
    def __init__(self, ctx: HttpContext) -> None:
        self.ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        who = principal(req)
        with self.ctx.guard.read():
            send(resp, sequence_document(self.ctx.engine.get_sequence(who.account_id, id)))

    def on_put(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        who = principal(req)
        given = parse_sequence(parse_body(read_body(req)), partial=True)
        with self.ctx.guard.write():
            sequence = self.ctx.engine.update_sequence(who.account_id, id, **given.changes())
            send(resp, sequence_document(sequence))
