"""Four worker processes over thousands of due steps on one database: each step is
executed exactly once (one arrival per key at the receiver), none is missed, and no
"database is locked" escapes (engine/app/execution.py steps 1-3 under contention).

The default suite runs 20,000 steps (about 30 s on two cores); `make soak` runs
100,000 (SEQENGINE_SOAK_STEPS).
"""

import os
import time
from collections.abc import Callable

from fleet import Fleet, Probe, prepare, wait_until
from webhook_receiver import Receiver

from engine import ActionStatus

STEPS = int(os.environ.get("SEQENGINE_SOAK_STEPS", "20000"))
WORKERS = 4


def test_four_workers_execute_every_due_step_exactly_once(
    database_url: str, fleet: Fleet, receivers: Callable[..., Receiver]
) -> None:
    world = prepare(database_url, enrollments_due=STEPS // 2, steps=2)
    receiver = receivers()
    probe = Probe(world)
    try:
        started = time.monotonic()
        workers = [fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=30.0,
                               concurrency=4) for _ in range(WORKERS)]
        wait_until(probe.drained, seconds=60 + STEPS / 50, what="the drain")
        took = time.monotonic() - started
        for worker in workers:
            assert worker.terminate() == 0
            errors = worker.stderr()
            assert "locked" not in errors and "Traceback" not in errors, errors
            assert "failed" not in errors and "lost" not in errors, errors
        counts = receiver.counts()
        assert len(counts) == len(world.keys()) == STEPS
        assert set(counts) == world.keys()  # none missed
        assert set(counts.values()) == {1}  # none twice
        done = probe.enrollments()
        assert all(not e.is_ongoing for e in done)
        assert all(a.status is ActionStatus.COMPLETED for e in done for a in e.actions)
        print(f"{STEPS} steps, {WORKERS} workers: {took:.1f} s, {STEPS / took:.0f} steps/s")
    finally:
        probe.close()
