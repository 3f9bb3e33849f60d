"""GET a page of enrollments without decoding, judging or rendering it again, when
neither its rows nor the catalog have changed; and the pages GET's fast path serves
(engine/adapters/http/fast_get.py), kept here with the versions they were read at.

A page's answer depends on its rows as stored (the page's and the next one's first,
which says whether a next page follows), the catalog (sequences, the actors'
calendars, the account's Reach: one catalog version), the query (the filters, the
page, the links: the query string, the path and the public URL being fixed) and the
time (whether each current step is overdue). In the read transaction the gate opened
(the token is checked in it, engine/adapters/http/gate.py), the memo reads the rows
(one statement, the one the use case runs) and the catalog version the gate's check
read; equal rows at an equal version, for the same account and query string, and a
time within the span its overdue judgements hold in (fast_get.judged_span), give the
kept bytes. The enrollments version (migration 4: bumped by every write a page shows)
is read first: equal to the kept page's, with the catalog version, it spares reading
the rows; when only it moved and the rows did not, the kept bytes are stamped with
it again, so that the fast path serves them. Otherwise the use case runs in the same
transaction, so at the same snapshot as the rows kept beside its body. A page whose
current steps made tasks is answered, not kept: their owners judge them, from another
table.
"""

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, cast

from engine.adapters.http.fast_get import Kept, KeptBodies, TokenMemo, views_span
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

    def enrollments_version(self) -> int:
        ...


def reads_pages(uow: object) -> bool:
    """Whether `uow` reads a page's rows as stored and the enrollments version (SQLite;
    PostgreSQL runs the use case every time)."""
    return callable(getattr(uow, "enrollment_rows", None)) \
        and callable(getattr(uow, "enrollments_version", None))


class PageMemo:
    # GET's fast path's token memo (fast_get.py sets it): the token that asked for a
    # page kept here, judged in the same transaction, then reads it there
    tokens: TokenMemo | None = None

    def __init__(self, engine: SequenceEngine) -> None:
        self.engine = engine
        self._kept: KeptBodies[tuple[int, str]] = KeptBodies(MAX_PAGES)

    def kept(self, key: tuple[int, str]) -> Kept | None:
        """The page kept for (account id, query string), stamped (catalog version,
        enrollments version, its rows)."""
        return self._kept.get(key)

    def body(self, uow: UnitOfWork, token_hash: str, account_id: int, query: str,
             where: EnrollmentFilter, page: Page, links: Callable[[bool], Json]) -> bytes:
        """The page's body, read in `uow` (the request's shared read, in which the gate
        judged the token of hash `token_hash`); `query` is the request's query string,
        `links(has_next)` the page's links."""
        reads = cast(PageReads, uow)
        versions = (reads.catalog_version(), reads.enrollments_version())
        key = (account_id, query)
        kept = self._kept.get(key)
        engine = self.engine
        now = engine.clock.now()
        if kept is not None and kept.stamp[:2] == versions and kept.holds(now):
            self._served(token_hash, versions[0], account_id)
            return kept.body
        rows = reads.enrollment_rows(account_id, where, page.with_next())
        stamp = (*versions, rows)
        if kept is not None and kept.stamp[0] == versions[0] and kept.stamp[2] == rows \
                and kept.holds(now):
            self._kept.keep(key, Kept(stamp, kept.body, kept.since, kept.until))
            self._served(token_hash, versions[0], account_id)
            return kept.body
        views, has_next = fetch_page(partial(engine.list_enrollments, account_id, where), page)
        body = enrollment_list_document(views, links(has_next))
        span = views_span(uow, views, engine.policy.email_grace) \
            if versions[0] is not None else None
        if span is not None:
            self._kept.keep(key, Kept(stamp, body, *span))
            self._served(token_hash, versions[0], account_id)
        return body

    def _served(self, token_hash: str, version: int | None, account_id: int) -> None:
        """The token that read a kept page, for the fast path's hits (its scope allowed
        GET at `version`)."""
        tokens = self.tokens
        if tokens is not None and version is not None:
            tokens.keep(token_hash, version, account_id)
