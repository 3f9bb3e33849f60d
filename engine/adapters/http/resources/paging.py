"""Pagination: Sell's links, and knowing whether there is a next page.

Each page is read with the first row of the next (`Page.with_next`: per_page + 1 rows
from the page's offset): a row past the page means a next page, in the same read.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import falcon

from engine.adapters.http.responses import listing_url
from engine.app.ports import Page
from engine.wire.render import page_links

T = TypeVar("T")


def fetch_page(fetch: Callable[[Page], list[T]], page: Page) -> tuple[list[T], bool]:
    """One page of rows and whether another page follows it, from one read of the
    page's rows and the next one's first (one transaction, one statement)."""
    rows = fetch(page.with_next())
    return rows[:page.size], len(rows) > page.size


def links(req: falcon.Request, page: Page, has_next: bool) -> dict[str, Any]:
    return page_links(listing_url(req), page.number, page.size, has_next)
