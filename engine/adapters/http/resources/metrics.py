"""GET /metrics: the Prometheus text format (engine.adapters.metrics).

Public, like /engine/v1/health: scrapers do not carry tokens, and the figures are
process- and database-wide (no account, enrollment or token appears in them).
`serve --no-metrics` leaves the route out; docs/operations.md says more.
"""

from typing import Protocol

import falcon


class Exposition(Protocol):
    content_type: str

    def exposition(self) -> bytes: ...


class MetricsPage:
    def __init__(self, metrics: Exposition) -> None:
        self.metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = self.metrics.content_type
        resp.data = self.metrics.exposition()
