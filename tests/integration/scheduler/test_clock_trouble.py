"""Time going wrong: a week of downtime, and a wall clock that jumps back an hour.

- Catch-up: thousands of steps fell due while nothing ran. The claims (step 1 of
  engine/app/execution.py) take them earliest due first, one at a time, so the
  sends go out in due order and the memory used does not grow with the backlog.
- A backwards jump mid-run: leases taken before the jump still hold, records still
  land, nothing is sent twice and nothing stalls.
"""

import random
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fleet import Probe, World, prepare, wait_until

from engine import ActionStatus, ActionType, DelayUnit, SimulatedClock, Step, SystemClock, build
from engine.adapters.outbox import OutboxDelivery
from engine.app import catalog, enrollments
from engine.app.policy import ExecutionPolicy
from engine.app.ports import SendRequest, SendResult, Store
from engine.domain.enums import ResourceType
from engine.runtime.scheduler import Scheduler
from engine.runtime.settings import open_store

DOWN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday; back up a week later
WEEK = timedelta(days=7)
POLICY = ExecutionPolicy()
BATCH = 1  # run_due claims one enrollment at a time (execution.Executor.run_due)


class Batches:
    """How many claims, and the largest limit and size among them (kept in O(1) memory:
    the catch-up's memory is measured)."""

    def __init__(self) -> None:
        self.count = self.largest_limit = self.largest_size = 0

    def append(self, claim: tuple[int, int]) -> None:
        self.count += 1
        self.largest_limit = max(self.largest_limit, claim[0])
        self.largest_size = max(self.largest_size, claim[1])


class SpyStore:
    """The store, counting each claim's limit and size (the batches)."""

    def __init__(self, store: Store, batches: Batches) -> None:
        self.store, self.batches = store, batches

    def unit_of_work(self, *, read_only: bool = False) -> Any:
        return SpyUnit(self.store.unit_of_work(read_only=read_only), self.batches)

    def close(self) -> None:
        self.store.close()


class SpyUnit:
    def __init__(self, uow: Any, batches: Batches) -> None:
        self.uow, self.batches = uow, batches

    def __enter__(self) -> "SpyUnit":
        self.uow.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uow.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.uow, name)

    def claim_due(self, worker: str, now: datetime, until: datetime, limit: int) -> Any:
        taken = self.uow.claim_due(worker, now, until, limit)
        self.batches.append((limit, len(taken)))
        return taken


class InOrder:
    """The outbox, checking each send against the expected order as it goes (no list
    of sends grows while the memory is measured)."""

    def __init__(self, store: Store, expected: list[int]) -> None:
        self.outbox = OutboxDelivery(store)
        self.expected = iter(expected)
        self.sent = self.out_of_order = 0

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        self.sent += 1
        if request.enrollment_id != next(self.expected, None):
            self.out_of_order += 1
        return self.outbox.send(request, now)


def missed_week(url: str, count: int) -> tuple[World, list[int]]:
    """`count` enrollments created at random instants of the downtime week, on two
    sequences (due at once, and 36 hours later): returns them in due order."""
    world = prepare(url, enrollments_due=0, clock=SimulatedClock(DOWN))
    rng = random.Random(count)
    store = open_store(url)
    try:
        engine = build(store, SimulatedClock(DOWN))
        later = engine.create_sequence(world.account, name="later", creator_id=world.actor,
                                       steps=[Step(0, 36, DelayUnit.HOURS,
                                                   ActionType.AUTOMATED_EMAIL, 2, False)]).id
        due: list[tuple[datetime, int]] = []
        with store.unit_of_work() as uow:
            account = catalog.reach_account(uow, world.account)
            for resource in range(count):
                sequence = rng.choice([world.sequence, later])
                created = DOWN + WEEK * rng.random() * (0.75 if sequence == later else 1)
                made = enrollments.create_enrollment(
                    uow, created, account, sequence_id=sequence,
                    resource_type=ResourceType.LEAD, resource_id=resource + 1,
                    actor_id=world.actor)
                assert made.due_at is not None and made.due_at < DOWN + WEEK
                due.append((made.due_at, made.id))
            uow.commit()
    finally:
        store.close()
    return world, [enrollment_id for _, enrollment_id in sorted(due)]


def catch_up(url: str, count: int) -> tuple[InOrder, Batches, int]:
    """Back up after the week: run_due once. Returns the sends, the claims, and the
    peak of Python memory during the catch-up."""
    world, due_order = missed_week(url, count)
    batches = Batches()
    store = SpyStore(open_store(url), batches)
    delivery = InOrder(store.store, due_order)
    engine = build(store, SimulatedClock(DOWN + WEEK), delivery, POLICY)  # type: ignore[arg-type]
    try:
        tracemalloc.start()
        assert engine.run_due() == count
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        store.close()
    probe = Probe(world)
    try:
        assert {s[0] for s in probe.statuses().values()} == {ActionStatus.COMPLETED}
    finally:
        probe.close()
    return delivery, batches, peak


def test_catch_up_after_a_week_down_goes_in_due_order_in_bounded_batches(
    database_url: str
) -> None:
    _, _, small_peak = catch_up(database_url, 500)  # a first account's week
    sends, batches, peak = catch_up(database_url, 2000)  # a second account's
    assert sends.sent == 2000 and sends.out_of_order == 0  # earliest due first, throughout
    assert batches.largest_limit == batches.largest_size == BATCH
    assert batches.count == 2000 // BATCH + 1  # the last one finds nothing
    assert peak < 1.5 * small_peak, (peak, small_peak)  # four times the backlog, same memory


# -- a backwards jump -----------------------------------------------------------


class JumpingClock:
    """The system clock, until `jump()` sets it back an hour (as an NTP step might)."""

    def __init__(self) -> None:
        self.system, self.offset = SystemClock(), timedelta()

    def now(self) -> datetime:
        return self.system.now() + self.offset

    def jump(self) -> None:
        self.offset = timedelta(hours=-1)


class JumpingDelivery:
    """The outbox, 20 ms a send; the clock jumps back at the 30th send."""

    def __init__(self, store: Store, clock: JumpingClock, jump_at: int) -> None:
        self.outbox, self.clock, self.jump_at = OutboxDelivery(store), clock, jump_at
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        with self.lock:
            self.calls[request.idempotency_key] = self.calls.get(request.idempotency_key, 0) + 1
            if sum(self.calls.values()) == self.jump_at:
                self.clock.jump()
        time.sleep(0.02)  # the provider's latency: sends overlap the jump
        return self.outbox.send(request, now)


def test_a_wall_clock_jumping_back_an_hour_mid_run_repeats_nothing_and_stalls_nothing(
    database_url: str,
) -> None:
    # due two hours ago, so still due after the jump: any wait would be a stall
    world = prepare(database_url, enrollments_due=90,
                    clock=SimulatedClock(SystemClock().now() - timedelta(hours=2)))
    clock = JumpingClock()
    store = open_store(database_url)
    delivery = JumpingDelivery(store, clock, jump_at=30)
    engine = build(store, clock, delivery, ExecutionPolicy(lease=timedelta(seconds=1)))
    workers = [Scheduler(engine, concurrency=3, max_idle=0.1) for _ in range(2)]
    probe = Probe(world)
    stop: Callable[[], None] = lambda: [w.stop() for w in workers]  # noqa: E731
    try:
        for worker in workers:
            worker.start()
        wait_until(probe.drained, seconds=20, what="the run across the jump")
        stop()
        assert clock.offset == timedelta(hours=-1)  # it did jump, mid-run
        assert delivery.calls == dict.fromkeys(world.keys(), 1)  # no send twice
        assert {s[0] for s in probe.statuses().values()} == {ActionStatus.COMPLETED}
    finally:
        stop()
        probe.close()
        store.close()


class RewindableClock:
    """A simulated clock that can be set back (SimulatedClock refuses to)."""

    def __init__(self, start: datetime) -> None:
        self.instant = start

    def now(self) -> datetime:
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = instant


class RewindingDelivery:
    """The outbox; at the `jump_at`-th send the clock goes back an hour."""

    def __init__(self, store: Store, clock: RewindableClock, jump_at: int) -> None:
        self.outbox, self.clock, self.jump_at = OutboxDelivery(store), clock, jump_at
        self.calls: dict[str, int] = {}

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        self.calls[request.idempotency_key] = self.calls.get(request.idempotency_key, 0) + 1
        if sum(self.calls.values()) == self.jump_at:
            self.clock.set(self.clock.now() - timedelta(hours=1))
        return self.outbox.send(request, self.clock.now())


def test_a_simulated_clock_set_back_mid_batch_completes_when_time_catches_up(
    database_url: str,
) -> None:
    """Two steps an hour apart; the clock goes back an hour in the middle of the first
    steps' sends. The claim taken before the jump is still sent once; steps not yet due
    on the new clock wait for it, and everything is done when it passes their instants."""
    start = DOWN + timedelta(hours=2)
    world = prepare(database_url, enrollments_due=0, clock=SimulatedClock(start))
    store = open_store(database_url)
    clock = RewindableClock(start)
    delivery = RewindingDelivery(store, clock, jump_at=60)
    engine = build(store, clock, delivery, POLICY)
    try:
        later = engine.create_sequence(world.account, name="two", creator_id=world.actor, steps=[
            Step(p, p, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, p, False) for p in (0, 1)])
        for resource in range(1, 201):
            engine.enroll(world.account, sequence_id=later.id, resource_type="lead",
                          resource_id=resource, actor_id=world.actor)
        engine.run_due()  # the jump comes at the 60th send
        assert clock.now() < start
        assert sum(delivery.calls.values()) == 60  # that one was sent; then nothing due
        engine.advance(to=start + timedelta(hours=2))
        assert engine.next_due_at() is None  # nothing stalled
        assert set(delivery.calls.values()) == {1} and len(delivery.calls) == 400
    finally:
        store.close()
    probe = Probe(world)
    try:
        assert {s for steps in probe.statuses().values() for s in steps} == {
            ActionStatus.COMPLETED}
    finally:
        probe.close()
