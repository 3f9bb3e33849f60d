"""SIGTERM drains a `seqengine worker`: it exits within the lease, the sends under way
finish and are recorded (engine/app/execution.py step 3), and claims not yet sent are
handed back, due again at once (step 3's skipped send), so another worker takes them
immediately rather than after the lease."""

import time
from collections.abc import Callable

from fleet import Fleet, Probe, World, prepare, wait_until
from webhook_receiver import Receiver

from engine import ActionStatus, SystemClock

LEASE = 30.0  # long: anything left leased would hold the drain up for all of it
QUICKLY = 10.0  # well within the lease


def due_at(probe: Probe, world: World, enrollment_id: int):  # type: ignore[no-untyped-def]
    with probe.store.unit_of_work(read_only=True) as uow:
        found = uow.get_enrollment(world.account, enrollment_id)
    assert found is not None
    return found.due_at


def test_sigterm_records_the_sends_under_way_and_hands_back_the_unsent_claims(
    database_url: str, fleet: Fleet, receivers: Callable[..., Receiver]
) -> None:
    world = prepare(database_url, enrollments_due=10)
    slow = {f"{e}:0:0" for e in world.ids[1:4]}
    # of the first four sends, the first answers at once and the next three are slow:
    # when a slot frees, the worker claims once more, and the SIGTERM lands right after
    receiver = receivers(delay=lambda key: 2.0 if key in slow else 0.05)
    probe = Probe(world)
    try:
        draining = fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=LEASE,
                               concurrency=4, pause="after_claim#2:term")
        receiver.wait_for(lambda r: len(r.arrivals) >= 4)
        signalled = time.monotonic()
        assert draining.wait(LEASE) == 0
        took = time.monotonic() - signalled
        under_way = sorted(a.body["enrollment_id"] for a in receiver.snapshot())
        statuses = probe.statuses()
        assert {statuses[e][0] for e in under_way} == {ActionStatus.COMPLETED}  # recorded
        handed_back = probe.in_progress()
        assert len(handed_back) == 1 and handed_back[0] not in under_way  # claimed, unsent
        assert due_at(probe, world, handed_back[0]) <= SystemClock().now()  # due at once
        assert "Traceback" not in draining.stderr()

        started = time.monotonic()
        taker = fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=LEASE,
                            concurrency=4)
        wait_until(probe.drained, seconds=QUICKLY, what="the hand-back")
        assert taker.terminate() == 0
        assert time.monotonic() - started < QUICKLY
        assert receiver.counts() == dict.fromkeys(world.keys(), 1)
        assert {s[0] for s in probe.statuses().values()} == {ActionStatus.COMPLETED}
        assert took < LEASE
    finally:
        probe.close()


def test_sigterm_during_slow_sends_waits_for_them_and_leaves_nothing_leased(
    database_url: str, fleet: Fleet, receivers: Callable[..., Receiver]
) -> None:
    world = prepare(database_url, enrollments_due=8)
    receiver = receivers(delay=1.0)
    probe = Probe(world)
    try:
        worker = fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=LEASE,
                             concurrency=3)
        receiver.wait_for(lambda r: r.in_flight == 3)
        signalled = time.monotonic()
        assert worker.terminate() == 0
        assert time.monotonic() - signalled < LEASE
        assert receiver.in_flight == 0  # it waited for the replies
        sent = {a.body["enrollment_id"] for a in receiver.snapshot()}
        statuses = probe.statuses()
        assert {statuses[e][0] for e in sent} == {ActionStatus.COMPLETED}
        assert {statuses[e][0] for e in set(world.ids) - sent} == {ActionStatus.SCHEDULED}
        assert probe.engine.next_due_at() is not None
        assert probe.engine.next_due_at() <= SystemClock().now()  # nothing waits on a lease
    finally:
        probe.close()


def test_sigterm_keeps_renewing_the_leases_of_sends_that_outlast_them(
    database_url: str, fleet: Fleet, receivers: Callable[..., Receiver]
) -> None:
    """The drain waits for sends longer than the lease: the heartbeat must go on until
    they end, or another worker takes them over and sends them a second time."""
    world = prepare(database_url, enrollments_due=2)  # the other worker is idle, waiting
    receiver = receivers(delay=3.5)
    probe = Probe(world)
    try:
        draining = fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=2.0,
                               concurrency=2)
        receiver.wait_for(lambda r: r.in_flight == 2)
        other = fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=2.0,
                            concurrency=2)
        assert draining.terminate() == 0
        wait_until(probe.drained, what="the drain")
        assert other.terminate() == 0
        assert receiver.counts() == dict.fromkeys(world.keys(), 1)  # nothing sent twice
        assert "taken over" not in draining.stderr() and "lost" not in draining.stderr()
    finally:
        probe.close()
