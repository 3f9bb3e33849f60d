"""Due work on the simulated clock: claim, deliver and record in one unit of work.

`SequenceEngine.run_due` (so `advance`, and the simulator) takes this path when
time is simulated, the store can hand out its next due enrollment (`DueIndex`:
the in-memory store) and every delivery completes inside this process (the
simulator's chance delivery, the built-in outbox). Anything else (a webhook, a
host's tasks, SQLite or PostgreSQL, the scheduler's threads) runs the three
transactions of engine/app/execution.py, where a delivery must not hold a lock.

Why it is the same as `Executor.run_due`, one enrollment at a time: the steps
are the executor's own (`_dispatch`, `_make`, `_settle`), in the same order, on
the same instant, and only what another party could see between them is left
out. The memory store's unit of work holds the store's lock from start to end,
so nobody reads or writes in between: not the lease (its token, its holder),
not the enrollment's due_at while it is leased. So the lease is taken and
released at once (`fence`: the token goes up by one, as a claim followed by its
record leaves it), the re-read before the delivery is known to hold (this
token is the current one, the enrollment was ongoing when dispatched, the lease
runs out `policy.lease` after now), and so is the release before the record.

Why it stays fenced: the token still goes up, so a worker of the same store
that claimed this enrollment earlier (its lease ran out, so it came due again)
finds its lease lost, delivers nothing and records nothing, as when another
worker takes it over; and every send carries its idempotency key and its
lease's expiry, as a claimed one does.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, cast

from engine.app.batch import Batch
from engine.app.execution import SKIPPED, Executor, Outcome, _label
from engine.app.ports import Lease, SettableClock
from engine.domain.enrollment import Enrollment
from engine.errors import DeliveryError


class DueIndex(Protocol):
    """What a unit of work offers for the in-process pass (MemoryUnitOfWork); its store
    says so with a `due_index = True` attribute, and holds one lock per unit of work."""

    def take_due(self, now: datetime) -> Enrollment | None:
        """The next enrollment due at `now` (by due_at, then id), off the due index until
        it is saved again; None when nothing is due."""

    def fence(self, enrollment: Enrollment, worker: str, until: datetime) -> Lease:
        """A lease taken and released at once: the token goes up by one."""


def applies(store: Any, clock: Any, delivery: Any, tasks: Any) -> bool:
    """Whether `run_due` may take the in-process path (see the module docstring)."""
    return (
        callable(getattr(clock, "set", None))
        and getattr(delivery, "in_process", False) is True
        and (tasks is None or getattr(tasks, "in_process", False) is True)
        # said by the store, not checked on a unit: a runtime Protocol check costs
        # microseconds on every instant, and opening a unit may open a connection
        and getattr(store, "due_index", False) is True
    )


def run_due(executor: Executor) -> int:
    """`Executor.run_due` in one unit of work per enrollment; returns how many it took."""
    return _drain(executor, executor.clock.now(), None, None)[0]


Horizon = Callable[[], datetime | None]


def advance(
    executor: Executor, clock: SettableClock, target: datetime, horizon: Horizon | None
) -> bool:
    """`SequenceEngine.advance`'s loop up to `target`: each piece of due work in time
    order (due_at, then id), the clock moved to its due instant first if that is
    later. The same order as finding the next due instant and running what is due
    then: both take the due index's first entry. False if it stopped at `horizon`."""
    return _drain(executor, target, clock, horizon)[1]


def _drain(
    executor: Executor,
    until: datetime,
    clock: SettableClock | None,
    horizon: Horizon | None,
) -> tuple[int, bool]:
    """Runs due work up to `until`: how many enrollments it took, and whether it got
    there (rather than stopping before work later than the horizon)."""
    store, done = executor.store, 0
    while True:
        with store.unit_of_work() as unit:
            uow = cast(Any, unit)  # a UnitOfWork that is a DueIndex too (see `applies`)
            enrollment = uow.take_due(until)
            if enrollment is None:
                return done, True
            due = enrollment.due_at
            if horizon is not None and (event := horizon()) is not None and due > event:
                uow.save_enrollment(enrollment)  # back on the index, untouched
                return done, False
            try:
                if clock is not None and due > clock.now():
                    clock.set(due)
                _run_one(executor, uow, enrollment, executor.clock.now())
            finally:  # back on the due index whatever happened
                uow.save_enrollment(enrollment)
            uow.commit()
        done += 1


def _run_one(executor: Executor, uow: Any, enrollment: Enrollment, now: datetime) -> None:
    batch = Batch(uow)  # the send counters this unit changes, written once at the end
    _claim_deliver_record(executor, uow, batch, enrollment, now)
    batch.ledger.flush()


def _claim_deliver_record(
    executor: Executor, uow: Any, batch: Batch, enrollment: Enrollment, now: datetime
) -> None:
    lease = uow.fence(enrollment, executor.worker, now + executor.policy.lease)
    # 1. claim
    claim = executor._dispatch(batch, enrollment, lease, now)
    if claim is None:
        return
    # 2. deliver: the lease holds unless it ran out already (a lease of no length)
    outcome: Outcome = SKIPPED
    if lease.until > executor.clock.now():
        try:
            outcome = executor._make(claim.request)
        except DeliveryError as error:
            outcome = error
    executor.observer.delivered(claim.kind, *_label(outcome))
    # 3. record
    executor._settle(batch, enrollment, claim.request, outcome, executor.clock.now())
