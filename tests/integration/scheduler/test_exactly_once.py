"""Exactly once in effect: many workers draining one SQLite file never deliver a
send twice, and a worker that dies mid-send is covered by the lease."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine import ActionType, DelayUnit, Page, SimulatedClock, Step, build
from engine.adapters.outbox import OutboxDelivery
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.execution import Executor
from engine.app.policy import ExecutionPolicy
from engine.app.ports import SendRequest, SendResult, Store

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
STEPS = (
    Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1, False),
    Step(1, 1, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 2, True),
)


class CountingDelivery:
    """The outbox, counting every delivery attempt per key (the outbox itself dedupes)."""

    def __init__(self, store: Store) -> None:
        self.outbox = OutboxDelivery(store)
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        with self.lock:
            self.calls[request.idempotency_key] += 1
        return self.outbox.send(request, now)


def prepare(path: Path, enrollments: int) -> tuple[SqliteStore, int]:
    store = SqliteStore(str(path))
    engine = build(store, SimulatedClock(START))
    account = engine.create_account("a").id
    actor = engine.create_user(account, daily_email_limit=10_000).id
    sequence = engine.create_sequence(account, name="s", steps=STEPS, creator_id=actor).id
    for resource in range(1, enrollments + 1):
        engine.enroll(account, sequence_id=sequence, resource_type="lead",
                      resource_id=resource, actor_id=actor)
    return store, account


def drain(store: Store, delivery: CountingDelivery, now: datetime, workers: int) -> None:
    policy = ExecutionPolicy()
    clock = SimulatedClock(now)
    threads = [
        threading.Thread(target=Executor(store, delivery, policy, clock, f"w{n}").run_due)
        for n in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_four_workers_deliver_every_send_exactly_once(tmp_path: Path) -> None:
    store, account = prepare(tmp_path / "once.db", 120)
    delivery = CountingDelivery(store)
    try:
        drain(store, delivery, START + timedelta(seconds=1), workers=4)  # step 0 of all
        drain(store, delivery, START + timedelta(hours=2), workers=4)  # step 1 of all
        assert len(delivery.calls) == 240
        assert set(delivery.calls.values()) == {1}
        engine = build(store, SimulatedClock(START + timedelta(hours=2)))
        views = engine.list_enrollments(account, page=Page(size=100)) + engine.list_enrollments(
            account, page=Page(number=2, size=100))
        assert len(views) == 120
        assert {v.enrollment.state.value for v in views} == {"finished"}
    finally:
        store.close()


def test_a_dead_workers_claim_is_delivered_once_more_after_its_lease(tmp_path: Path) -> None:
    store, _ = prepare(tmp_path / "lease.db", 10)
    delivery = CountingDelivery(store)
    policy = ExecutionPolicy()
    try:
        now = START + timedelta(seconds=1)
        dead = Executor(store, delivery, policy, SimulatedClock(now), "dead")
        claims, _ = dead.claim(100)  # this worker dies here
        assert len(claims) == 10
        drain(store, delivery, now + timedelta(seconds=10), workers=2)
        assert not delivery.calls  # leased: nobody else touches them
        drain(store, delivery, now + policy.lease + timedelta(seconds=1), workers=2)
        assert sorted(delivery.calls) == sorted(c.request.idempotency_key for c in claims)
        assert set(delivery.calls.values()) == {1}
    finally:
        store.close()
