"""Pagination: Sell's links, and knowing whether there is a next page.

The store's `Page` is (number, size), so "fetch per_page + 1" becomes: when a page
comes back full, probe the one row after it (page number `n * size + 1` of size 1
starts exactly there). A short page is the last one and costs no probe.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import falcon

from engine.adapters.http.responses import listing_url
from engine.app.ports import Page
from engine.wire.render import page_links

T = TypeVar("T")


def fetch_page(fetch: Callable[[Page], list[T]], page: Page) -> tuple[list[T], bool]:
    """One page of rows and whether another page follows it."""
    rows = fetch(page)
    if len(rows) < page.size:
        return rows, False
    return rows, bool(fetch(Page(page.number * page.size + 1, 1)))


def links(req: falcon.Request, page: Page, has_next: bool) -> dict[str, Any]:
    return page_links(listing_url(req), page.number, page.size, has_next)
