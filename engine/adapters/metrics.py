"""Prometheus metrics: how due work runs, the due backlog, and HTTP request durations.

Only the composition root imports this module (prometheus-client costs ~0.1 s to
import, so `import engine` does not pay it). The app layer reports through
`ExecutionObserver`; `PrometheusObserver` is that observer. The backlog is read from
the store when scraped, so every process reports the same database-wide figure.

Labels stay small fixed sets; no account or enrollment id ever becomes a label.

Several processes (`serve --workers N`, or a `serve` and its workers): each process
counts its own. Scraped as is, a counter is per process. With the environment
variable PROMETHEUS_MULTIPROC_DIR set to an empty folder shared by the processes
(before they start), prometheus-client's multiprocess mode writes every process's
counters there and a scrape of any one process reports the sum of all
(docs/operations.md).
"""

import functools
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import falcon
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from engine.app.observer import ExecutionObserver
from engine.app.ports import Clock, Store
from engine.errors import EngineError

log = logging.getLogger("seqengine.metrics")

LATENCY_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)


class PrometheusObserver(ExecutionObserver):
    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        self.claims = counter("seqengine_claims", "Steps claimed for delivery", ("kind",))
        self.retries = counter("seqengine_retries",
                               "Claims of a step coming back after a transient failure",
                               ("kind",))
        self.redeliveries = counter(
            "seqengine_redeliveries",
            "Lease recoveries: claims of a step whose worker vanished before recording",
            ("kind",))
        self.latency = Histogram(
            "seqengine_claim_latency_seconds", "From a step's planned instant to its first claim",
            ("kind",), buckets=LATENCY_BUCKETS, registry=registry)
        self.deliveries = counter(
            "seqengine_deliveries",
            "Deliveries by outcome: sent, created (a host's task), failed, error (transient), "
            "skipped (lease lost or enrollment finished)", ("kind", "outcome"))
        self.failures = counter("seqengine_delivery_failures", "Failed sends by failure reason",
                                ("kind", "reason"))
        self.dropped_outcomes = counter(
            "seqengine_outcomes_dropped", "Outcomes not recorded: the lease was taken over",
            ("kind",))
        self.renewals = counter("seqengine_lease_renewals", "Leases renewed by a heartbeat")
        self.losses = counter("seqengine_leases_lost", "Leases a heartbeat found taken over")

    def claimed(self, kind: str, *, latency: float | None, retry: bool, redelivery: bool) -> None:
        self.claims.labels(kind).inc()
        if latency is not None:
            self.latency.labels(kind).observe(max(0.0, latency))
        if retry:
            self.retries.labels(kind).inc()
        if redelivery:
            self.redeliveries.labels(kind).inc()

    def delivered(self, kind: str, outcome: str, reason: str | None = None) -> None:
        self.deliveries.labels(kind, outcome).inc()
        if reason is not None:
            self.failures.labels(kind, reason).inc()

    def dropped(self, kind: str) -> None:
        self.dropped_outcomes.labels(kind).inc()

    def renewed(self, held: int, lost: int) -> None:
        self.renewals.inc(held)
        self.losses.inc(lost)


class BacklogCollector(Collector):
    """Due backlog and oldest due age, read from the store at each scrape."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock.now()
        try:
            with self.store.unit_of_work(read_only=True) as uow:
                backlog, oldest = uow.count_due(now), uow.next_due_at()
        except EngineError as error:  # a scrape must not fail with the store
            log.warning("reading the due backlog failed: %s", error.message)
            return
        age = (now - oldest).total_seconds() if oldest is not None and oldest <= now else 0.0
        yield GaugeMetricFamily("seqengine_due_backlog",
                                "Enrollments due now and not claimed", value=backlog)
        yield GaugeMetricFamily("seqengine_oldest_due_age_seconds",
                                "How long the earliest due enrollment has waited", value=age)


class RequestMetrics:
    """Falcon middleware: request durations by method, route template and status."""

    def __init__(self, registry: CollectorRegistry) -> None:
        # set by create_app: names the route of a request refused before routing (401, 429)
        self.router: falcon.routing.CompiledRouter | None = None
        self.durations = Histogram(
            "seqengine_http_request_duration_seconds", "HTTP request durations",
            ("method", "route", "status"), buckets=HTTP_BUCKETS, registry=registry)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.metrics_started = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        started = req.context.get("metrics_started")
        if started is None:
            return
        template = req.uri_template
        if template is None and self.router is not None:
            found = self.router.find(req.path)
            template = found[3] if found is not None else None
        route = _route(template)
        self.durations.labels(req.method, route, str(resp.status_code)).observe(
            time.perf_counter() - started)


@functools.cache
def _route(template: str | None) -> str:
    """`/v2/tasks/{id}` for the template `/v2/tasks/{id:int(min=1, ...)}`; never the raw
    path, whose ids are unbounded."""
    if template is None:
        return "unmatched"
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", template)


class Metrics:
    """One process's metrics over one store and clock."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, store: Store, clock: Clock) -> None:
        self.registry = CollectorRegistry()
        self.observer = PrometheusObserver(self.registry)
        self.http = RequestMetrics(self.registry)
        backlog = BacklogCollector(store, clock)
        self.exposed = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            self.exposed = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.exposed)  # type: ignore[no-untyped-call]
        self.exposed.register(backlog)

    def exposition(self) -> bytes:
        """The text format a scrape gets."""
        return generate_latest(self.exposed)

    def serve(self, port: int, host: str = "127.0.0.1") -> Callable[[], None]:
        """Serve /metrics on a port of its own (a worker's); returns the stop."""
        server, thread = start_http_server(port, host, registry=self.exposed)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join()

        return stop
