"""GET a page of enrollments without decoding, judging or rendering it again, when
neither its rows nor the catalog have changed.

A page's answer depends on its rows as stored (the page's and the next one's first,
which says whether a next page follows), the catalog (sequences, the actors'
calendars, the account's Reach: one catalog version), the query (the filters, the
page, the links: the query string, the path and the public URL being fixed) and the
time (whether each current step is overdue). In the read transaction the gate opened
(the token is checked in it, engine/adapters/http/gate.py), the memo reads the rows
(one statement, the one the use case runs) and the catalog version the gate's check
read; equal rows at an equal version, for the same account and query string, and a
time within the span its overdue judgements hold in (fast_get.judged_span), give the
kept bytes. Otherwise the use case runs in the same transaction, so at the same
snapshot as the rows kept beside its body. A page whose current steps made tasks is
answered, not kept: their owners judge them, from another table.
"""

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, cast

from engine.adapters.http.fast_get import Kept, KeptBodies, views_span
from engine.adapters.http.resources.paging import fetch_page
from engine.app.ports import EnrollmentFilter, Page, UnitOfWork
from engine.app.service import SequenceEngine
from engine.wire.render import enrollment_list_document

MAX_PAGES = 128  # per process (a page of 25 is ~35 KB with its rows): past it, the oldest go
Json = dict[str, Any]


class PageReads(Protocol):
    """What the memo needs of the store's read transaction besides the UnitOfWork port."""

    def enrollment_rows(self, account_id: int, where: EnrollmentFilter, page: Page,
                        ) -> list[tuple[Any, ...]]:
        ...

    def catalog_version(self) -> int | None:
        ...


def reads_pages(uow: object) -> bool:
    """Whether `uow` reads a page's rows as stored (SQLite)."""
    return callable(getattr(uow, "enrollment_rows", None))


class PageMemo:
    def __init__(self, engine: SequenceEngine) -> None:
        self.engine = engine
        self._kept: KeptBodies[tuple[int, str]] = KeptBodies(MAX_PAGES)

    def body(self, uow: UnitOfWork, account_id: int, query: str, where: EnrollmentFilter,
             page: Page, links: Callable[[bool], Json]) -> bytes:
        """The page's body, read in `uow` (the request's shared read); `query` is the
        request's query string, `links(has_next)` the page's links."""
        reads = cast(PageReads, uow)
        version = reads.catalog_version()
        stamp = (version, reads.enrollment_rows(account_id, where, page.with_next()))
        key = (account_id, query)
        kept = self._kept.get(key)
        engine = self.engine
        if kept is not None and kept.stamp == stamp and kept.holds(engine.clock.now()):
            return kept.body
        views, has_next = fetch_page(partial(engine.list_enrollments, account_id, where), page)
        body = enrollment_list_document(views, links(has_next))
        span = views_span(uow, views, engine.policy.email_grace) \
            if version is not None else None
        if span is not None:
            self._kept.keep(key, Kept(stamp, body, *span))
        return body
