"""The heartbeat (engine/app/execution.py step 2) against the sends it renews: a lease
that its own send's record released is not "lost", and a renewal never replaces the
lease of a newer claim on the same enrollment."""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fleet import Probe, prepare, wait_until

from engine import ActionStatus, SystemClock, build
from engine.app.policy import ExecutionPolicy
from engine.app.ports import Lease, SendRequest, SendResult
from engine.runtime.scheduler import Scheduler
from engine.runtime.settings import open_store


def test_one_busy_worker_never_reports_a_lease_lost(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """One worker alone: nobody can take a send over, so any "lease lost" or dropped
    outcome is the heartbeat misreading its own records. A short lease makes the
    heartbeat beat every 50 ms, among thousands of quick sends."""
    world = prepare(database_url, enrollments_due=1500, steps=2)
    store = open_store(database_url)
    engine = build(store, SystemClock(), policy=ExecutionPolicy(lease=timedelta(seconds=0.1)))
    worker = Scheduler(engine, concurrency=4, max_idle=0.05)
    probe = Probe(world)
    caplog.set_level(logging.WARNING, logger="seqengine.scheduler")
    try:
        worker.start()
        wait_until(probe.drained, seconds=60, what="the drain")
    finally:
        worker.stop()
    try:
        assert [r.getMessage() for r in caplog.records] == []
        statuses = probe.statuses()
        assert {s for steps in statuses.values() for s in steps} == {ActionStatus.COMPLETED}
    finally:
        probe.close()
        store.close()


class Choreography:
    """Step 0's send ends only once the heartbeat has renewed its lease; the heartbeat
    then waits, holding the renewed lease, until step 1 (a new claim of the same
    enrollment) is being sent, slowly: longer than the lease."""

    def __init__(self, store: object) -> None:
        from engine.adapters.outbox import OutboxDelivery

        self.outbox = OutboxDelivery(store)  # type: ignore[arg-type]
        self.renewed, self.step_one_sending = threading.Event(), threading.Event()
        self.calls: Counter[str] = Counter()

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        self.calls[request.idempotency_key] += 1
        if request.position == 0:
            assert self.renewed.wait(10)
        else:
            self.step_one_sending.set()
            time.sleep(2.5)  # the provider's latency: two and a half leases
        return self.outbox.send(request, now)

    def renew(self, original: Callable[[list[Lease]], list[Lease]]) -> Callable[..., list[Lease]]:
        def renew(leases: list[Lease]) -> list[Lease]:
            held = original(leases)
            if held and not self.renewed.is_set():
                self.renewed.set()
                assert self.step_one_sending.wait(10)  # step 0 records, step 1 is claimed
            return held

        return renew


def test_a_late_renewal_does_not_replace_the_lease_of_a_newer_claim(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Else the heartbeat renews the old lease (in vain) instead of the new one, which
    runs out under its send: the worker itself claims it again and sends it twice."""
    world = prepare(database_url, enrollments_due=1, steps=2)
    store = open_store(database_url)
    choreography = Choreography(store)
    engine = build(store, SystemClock(), choreography,
                   ExecutionPolicy(lease=timedelta(seconds=1)))
    worker = Scheduler(engine, concurrency=2, max_idle=0.05)
    caplog.set_level(logging.WARNING, logger="seqengine.scheduler")
    worker.executor.renew = choreography.renew(worker.executor.renew)  # type: ignore[method-assign]
    probe = Probe(world)
    try:
        worker.start()
        wait_until(probe.drained, seconds=20, what="the drain")
    finally:
        worker.stop()
    try:
        assert choreography.calls == dict.fromkeys(world.keys(), 1)
        assert [r.getMessage() for r in caplog.records] == []
        assert {s for steps in probe.statuses().values() for s in steps} == {
            ActionStatus.COMPLETED}
    finally:
        probe.close()
        store.close()
