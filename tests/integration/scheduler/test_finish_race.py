"""An API finish racing a worker's send of the same enrollment ends in one of the two
orders the spec allows, never a mix:

- the send went out first: finished, the step completed, one email;
- the finish came first: finished, the step cancelled, no email.

Never an email for a cancelled step, nor a completed step without one. In
engine/app/execution.py terms: a finish before the re-check (step 2) skips the send
and step 3 abandons it; a finish after the re-check lets the send go, and step 3
records it as completed. Threads of one process, on a SQLite file.
"""

import random
import threading
import time
from datetime import datetime
from pathlib import Path

from engine import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EnrollmentState,
    FinishedReason,
    Page,
    SequenceEngine,
    Step,
    SystemClock,
    build,
)
from engine.adapters.outbox import OutboxDelivery
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.ports import SendRequest, SendResult
from engine.runtime.scheduler import Scheduler

STEP = [Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1, False)]


class RacingOutbox:
    """The outbox, slow enough (2 ms) for finishes to land while a send is under way;
    for the enrollments in `finish_inside`, the API finish commits during the send."""

    def __init__(self, store: SqliteStore) -> None:
        self.outbox = OutboxDelivery(store)
        self.engine: SequenceEngine | None = None
        self.finish_inside: set[int] = set()
        self.account = self.actor = 0
        self.lock = threading.Lock()
        self.attempts: dict[str, int] = {}

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        with self.lock:
            self.attempts[request.idempotency_key] = self.attempts.get(
                request.idempotency_key, 0) + 1
        if request.enrollment_id in self.finish_inside:
            assert self.engine is not None
            self.engine.update_enrollment_state(self.account, request.enrollment_id,
                                                "finished", actor_id=self.actor)
        time.sleep(0.002)  # the provider's latency
        return self.outbox.send(request, now)


def world(tmp_path: Path, count: int) -> tuple[SequenceEngine, RacingOutbox, list[int]]:
    store = SqliteStore(str(tmp_path / "race.db"))
    delivery = RacingOutbox(store)
    engine = build(store, SystemClock(), delivery)
    delivery.engine = engine
    delivery.account = engine.create_account("race", daily_email_quota=10**6).id
    delivery.actor = engine.create_user(delivery.account, daily_email_limit=10**6).id
    sequence = engine.create_sequence(delivery.account, name="now", steps=STEP,
                                      creator_id=delivery.actor).id
    ids = [engine.enroll(delivery.account, sequence_id=sequence, resource_type="lead",
                         resource_id=r, actor_id=delivery.actor).enrollment.id
           for r in range(1, count + 1)]
    return engine, delivery, ids


def outcomes(engine: SequenceEngine, delivery: RacingOutbox, ids: list[int]) -> dict[str, int]:
    """Checks every enrollment against the two allowed orders; counts each kind."""
    emailed = {m.enrollment_id for m in engine.outbox(delivery.account, Page(size=len(ids) + 1))}
    kinds = {"sent, then finished": 0, "finished, not sent": 0, "completed": 0}
    for enrollment_id in ids:
        found = engine.get_enrollment(delivery.account, enrollment_id).enrollment
        status = found.actions[0].status
        assert found.state is EnrollmentState.FINISHED
        assert status in (ActionStatus.COMPLETED, ActionStatus.CANCELLED), (enrollment_id, status)
        assert (status is ActionStatus.COMPLETED) == (enrollment_id in emailed), enrollment_id
        if found.finished_reason is FinishedReason.ALL_STEPS_COMPLETED:
            kinds["completed"] += 1
        elif status is ActionStatus.COMPLETED:
            kinds["sent, then finished"] += 1
        else:
            kinds["finished, not sent"] += 1
            assert f"{enrollment_id}:0:0" not in delivery.attempts  # not even tried
    return kinds


def test_a_finish_during_the_send_and_a_finish_before_it(tmp_path: Path) -> None:
    """Both orders, forced: finished inside the send, and between claim and send."""
    engine, delivery, ids = world(tmp_path, 4)
    inside, before = ids[:2], ids[2:]
    delivery.finish_inside = set(inside)
    executor = engine.executor("w")
    claims, _ = executor.claim(10)
    for enrollment_id in before:  # after the claim (step 1), before the re-check (step 2)
        engine.update_enrollment_state(delivery.account, enrollment_id, "finished",
                                       actor_id=delivery.actor)
    for claim in claims:
        assert executor.record(claim, executor.deliver(claim))
    assert outcomes(engine, delivery, ids) == {
        "sent, then finished": 2, "finished, not sent": 2, "completed": 0}
    engine.store.close()


def test_finishes_racing_a_running_scheduler_never_mix(tmp_path: Path) -> None:
    """A scheduler of four sender threads, and a thread finishing enrollments in random
    order as fast as it can; a tenth of them are left to be finished from inside their
    send instead."""
    engine, delivery, ids = world(tmp_path, 300)
    rng = random.Random(5)
    delivery.finish_inside = set(rng.sample(ids, 30))
    scheduler = Scheduler(engine, concurrency=4, max_idle=0.05)
    order = [e for e in rng.sample(ids, len(ids)) if e not in delivery.finish_inside]

    def finish_all() -> None:
        for enrollment_id in order:
            engine.update_enrollment_state(delivery.account, enrollment_id, "finished",
                                           actor_id=delivery.actor)

    finisher = threading.Thread(target=finish_all)
    scheduler.start()
    finisher.start()
    finisher.join()
    deadline = time.monotonic() + 30
    while engine.next_due_at() is not None:  # the scheduler's last records
        assert time.monotonic() < deadline, "the scheduler did not settle"
        time.sleep(0.02)
    scheduler.stop()
    kinds = outcomes(engine, delivery, ids)
    assert kinds["sent, then finished"] >= len(delivery.finish_inside)  # the race happened
    assert kinds["finished, not sent"] > 0
    assert set(delivery.attempts.values()) == {1}
    engine.store.close()
