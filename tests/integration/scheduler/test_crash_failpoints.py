"""kill -9 at each named failpoint, and at random under load: nothing is lost and no
effect happens twice (engine/app/execution.py, protocol steps 1-3).

- after_claim: the claim (step 1) is leased and never sent; it comes due again when
  the lease runs out, and the next worker sends it.
- after_send / before_record: the send (step 2) went out and the outcome (step 3)
  was never recorded; the next worker sends it again with the same key, and the
  receiver, de-duplicating by key, acts once.
"""

import random
import signal
from collections.abc import Callable

import pytest
from fleet import Fleet, Probe, Worker, World, prepare, wait_until
from webhook_receiver import Receiver

from engine import ActionStatus, Page

KILLS_PER_FAILPOINT = 4
LEASE = 1.0  # short: the killed workers' claims come back quickly


def assert_everything_sent_once(world: World, probe: Probe, effects: set[str]) -> None:
    """Zero lost steps, zero extra effects."""
    done = probe.enrollments()
    assert len(done) == len(world.ids)
    assert all(not e.is_ongoing for e in done), [e.id for e in done if e.is_ongoing]
    assert all(a.status is ActionStatus.COMPLETED for e in done for a in e.actions)
    assert effects == world.keys()


def assert_clean_exit(worker_log: str) -> None:
    assert "Traceback" not in worker_log and "database is locked" not in worker_log, worker_log


@pytest.mark.parametrize("failpoint", ["after_claim", "after_send", "before_record"])
def test_kill_9_at_a_failpoint_loses_nothing_and_acts_once(
    database_url: str, failpoint: str, fleet: Fleet, receivers: Callable[..., Receiver]
) -> None:
    world = prepare(database_url, enrollments_due=20, steps=2)
    receiver = receivers()
    probe = Probe(world)
    try:
        for _ in range(KILLS_PER_FAILPOINT):
            dying = fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=LEASE,
                                concurrency=3, failpoint=failpoint)
            assert dying.wait() == -signal.SIGKILL  # it got to the failpoint, and died there
        if failpoint != "after_claim":  # sends went out and were never recorded
            assert receiver.effects
        clean = fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=LEASE,
                            concurrency=4)
        wait_until(probe.drained, what="the clean worker's drain")
        assert clean.terminate() == 0
        assert_clean_exit(clean.stderr())
        assert_everything_sent_once(world, probe, set(receiver.effects))
        counts = receiver.counts()
        if failpoint != "after_claim":  # the dead workers' sends were redelivered, same key
            assert max(counts.values()) >= 2
        assert receiver.bad_signatures == 0
    finally:
        probe.close()


def test_random_kill_9_of_three_workers_under_load(database_url: str, fleet: Fleet) -> None:
    """Three workers on the outbox (a receiver that honours keys); one of them is
    killed at random after every few sends and replaced, ten times."""
    world = prepare(database_url, enrollments_due=60, steps=2)
    probe = Probe(world)
    rng = random.Random(6)

    def start() -> Worker:
        return fleet.start(database_url, lease=LEASE, concurrency=2)

    def sent() -> int:
        return len(probe.engine.outbox(world.account, Page(size=len(world.keys()) + 1)))

    try:
        workers = [start() for _ in range(3)]
        for _ in range(10):
            target = sent() + rng.randint(1, 6)
            wait_until(lambda target=target: sent() >= target or probe.drained(),
                       what="progress")
            victim = rng.randrange(3)
            assert workers[victim].kill() == -signal.SIGKILL
            workers[victim] = start()
        wait_until(probe.drained, what="the survivors' drain")
        for worker in workers:
            assert worker.terminate() == 0
            assert_clean_exit(worker.stderr())
        outbox = probe.engine.outbox(world.account, Page(size=len(world.keys()) + 1))
        keys = [message.idempotency_key for message in outbox]
        assert len(keys) == len(set(keys))
        assert_everything_sent_once(world, probe, set(keys))
    finally:
        probe.close()

