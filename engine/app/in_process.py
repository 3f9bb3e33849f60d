"""Due work on the simulated clock: claim, deliver and record in one unit of work.

`SequenceEngine.run_due` (so `advance`, and the simulator) takes this path when
time is simulated, the store can hand out its next due enrollment (`DueIndex`:
the in-memory store) and every delivery completes inside this process (the
simulator's chance delivery, the built-in outbox). Anything else (a webhook, a
host's tasks, SQLite or PostgreSQL, the scheduler's threads) runs the three
transactions of engine/app/execution.py, where a delivery must not hold a lock.

The work due at one instant is one unit of work here (`_drain_in_memory`), as the
executor claims a batch in one transaction: each enrollment is still taken, run
and put back one at a time, in the executor's order.

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

A scheduled email step of an active enrollment on the memory store goes through
`_send_email`: the same changes in the same order, with the store's lease and send
counters written in place (`MemoryTables`) instead of through a Lease, a Claim and
a SendLedger; any other step, and any outcome but a sent email, is settled by the
executor's code above. tests/unit/app/test_in_process.py holds both roads to the
same end state, store, tally and observer reports alike.

Why it stays fenced: the token still goes up, so a worker of the same store
that claimed this enrollment earlier (its lease ran out, so it came due again)
finds its lease lost, delivers nothing and records nothing, as when another
worker takes it over; and every send carries its idempotency key and its
lease's expiry, as a claimed one does.
"""

from collections.abc import Callable, MutableMapping
from contextlib import AbstractContextManager
from dataclasses import fields
from datetime import datetime
from typing import Any, NamedTuple, Protocol, cast

from engine.app import limits
from engine.app.batch import Batch
from engine.app.execution import SKIPPED, Executor, Outcome, _label
from engine.app.observer import ExecutionObserver
from engine.app.ports import Lease, SendRequest, SendResult, SettableClock
from engine.domain.account import Account, User
from engine.domain.enrollment import KEY_ENDS, Enrollment, send_key
from engine.domain.enums import (
    ActionStatus,
    ActionType,
    EnrollmentState,
    FailureReason,
)
from engine.errors import DeliveryError
from engine.timeline import BusinessCalendar


class DueIndex(Protocol):
    """What a unit of work offers for the in-process pass (MemoryUnitOfWork); its store
    says so with a `due_index = True` attribute, and holds one lock per unit of work."""

    def due_bound(self, now: datetime) -> int:
        """What `take_due` is given to take the work due at `now`: worked out once for
        all the takes of a unit of work, not once a take (P4: -0.9% instructions)."""

    def take_due(self, last: int) -> Enrollment | None:
        """The next enrollment due by `last` (`due_bound(now)`; by due_at, then id), off
        the due index until it is saved again; None when nothing is due."""

    def fence(self, enrollment: Enrollment, worker: str, until: datetime) -> Lease:
        """A lease taken and released at once: the token goes up by one."""

    def tables(self) -> "MemoryTables | None":
        """The store's own tables, for `_send_email`; None if it keeps none in memory."""


class MemoryTables(NamedTuple):
    """What the email fast path (`_send_email`) reads and writes in place, as the memory
    store's unit of work itself would: its lock (one unit of work per enrollment),
    users, accounts, leases (`fence`'s) and send counters (`count_sends`/`add_send`).
    A store whose unit of work watches `fence` or `add_send` must not offer them."""

    lock: AbstractContextManager[Any]
    users: dict[int, User]
    accounts: dict[int, Account]
    claims: dict[int, tuple[str | None, int, datetime | None]]
    sends: MutableMapping[limits.Key, int]


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
    uow: Any = store.unit_of_work()  # not cast(): a call, once per simulated event
    tables_of = getattr(uow, "tables", None)  # one lookup, not hasattr's and the call's
    tables = tables_of() if tables_of is not None else None
    if tables is not None:
        return _drain_in_memory(executor, uow, tables, until, clock, horizon)
    while True:
        with store.unit_of_work() as unit:
            uow = cast(Any, unit)  # a UnitOfWork that is a DueIndex too (see `applies`)
            enrollment = uow.take_due(uow.due_bound(until))
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


def _drain_in_memory(
    executor: Executor,
    uow: Any,
    tables: MemoryTables,
    until: datetime,
    clock: SettableClock | None,
    horizon: Horizon | None,
) -> tuple[int, bool]:
    """`_drain` on the memory store, whose unit of work is its lock and whose commit does
    nothing: each due email step through `_send_email`, anything else as in `_drain`.

    The work due at one instant is one unit of work: the lock taken once for all of it
    (as the executor claims a batch in one transaction), the clock read once, and each
    actor's send days and calendar looked up once (`days`: nobody can change a user
    while the lock is held). The order is the same, one enrollment at a time: after each
    one is saved, the next is taken from the index again (a step with no delay is due
    at once, ahead of a later id), up to `now` only, so the unit ends when the next work
    is later; the horizon is asked before each piece, as before."""
    done, now_of = 0, executor.clock.now
    take_due, save, due_bound = uow.take_due, uow.save_enrollment, uow.due_bound
    quiet = type(executor.observer) is ExecutionObserver  # the no-op observer
    hot: _Pass = (executor, uow, tables, quiet, executor.delivery.send)
    send_email, lock, lease = _send_email, tables.lock, executor.policy.lease
    last = due_bound(until)
    while True:
        with lock:
            enrollment = take_due(last)
            if enrollment is None:
                return done, True
            unit: _Unit | None = None
            while enrollment is not None:
                due = enrollment.due_at
                if horizon is not None and (event := horizon()) is not None and due > event:
                    save(enrollment)  # back on the index, untouched
                    return done, False
                if unit is None:  # the unit's instant: its first piece's, or the clock's
                    now = now_of()
                    if clock is not None and due > now:
                        clock.set(due)
                        now = now_of()
                    unit, now_last = (now, now + lease, {}), due_bound(now)
                try:
                    if not send_email(hot, enrollment, unit):
                        _run_one(executor, uow, enrollment, now)
                finally:  # back on the due index whatever happened
                    save(enrollment)
                done += 1
                enrollment = take_due(now_last)


class _OpenRequest:
    """A SendRequest's slots, but writable: `_send_email` fills one with plain attribute
    writes and then makes it a SendRequest by assigning `__class__` (allowed between
    classes of the same slots). A frozen dataclass's own __init__ writes each field
    through object.__setattr__, and setting its slots one descriptor call at a time
    costs 0.96 us a request; this costs 0.28 us (P4). A field `_send_email` leaves
    unset would be missing on the request: the test of a true SendRequest reads all."""

    __slots__ = tuple(f.name for f in fields(SendRequest))


_new = object.__new__

_ACTIVE, _SCHEDULED = EnrollmentState.ACTIVE, ActionStatus.SCHEDULED
_EMAIL, _IN_PROGRESS = ActionType.AUTOMATED_EMAIL, ActionStatus.IN_PROGRESS
_ACTOR_SCOPE, _ACCOUNT_SCOPE = limits.ACTOR_SCOPE, limits.ACCOUNT_SCOPE
_SENDOUT_LIMITED, _QUOTA_EXCEEDED = FailureReason.SENDOUT_LIMITED, FailureReason.QUOTA_EXCEEDED


# What `_send_email` reads on every step, looked up once per drain (P4): the executor,
# the unit of work, its tables, whether the observer is the no-op one and the
# delivery's `send`. A plain tuple: a drain runs once per simulated event, and a
# NamedTuple's constructor is a Python call.
_Pass = tuple[Executor, Any, MemoryTables, bool, Callable[[SendRequest, datetime], SendResult]]


# What the work due at one instant shares (`_drain_in_memory`): the instant, the end of
# a lease taken then, and the actors met so far, by id: each with its account (an actor's
# enrollments are its account's: not read per step, -0.28% instructions, P4), calendar
# and the two send days of its emails (the actor's, the account's), read at its first
# email
_Days = dict[int, tuple[User, Account, BusinessCalendar, limits.Key, limits.Key]]
_Unit = tuple[datetime, datetime, _Days]


def _send_email(hot: _Pass, enrollment: Enrollment, unit: _Unit) -> bool:
    """`_claim_deliver_record` for a scheduled email step of an active enrollment, with
    the memory store's tables written in place; False (nothing done) for any other step.

    The same changes in the same order: `fence` (the token one up, due_at the lease's
    end), `Executor._dispatch` (the claim reported, the send counted against both days,
    or `limits.limit_reached`; `begin_current`), the delivery under the lease, and the
    record: a sent email is `complete_current` and its counts written (as the
    `SendLedger` flushes them, in key order); any other outcome goes through
    `Executor._settle` on a `Batch` whose ledger holds the claim's counts. Without a
    Lease, a Claim or a SendLedger per step: that is all it saves (P4)."""
    position = enrollment.current_step_position
    action = enrollment.actions[position]
    step = enrollment.steps[position]
    if (
        enrollment.state is not _ACTIVE
        or action.status is not _SCHEDULED
        or step.action_type is not _EMAIL
    ):
        return False
    executor, uow, tables, quiet, send = hot
    now, lease_until, days = unit
    # fence
    claims, enrollment_id = tables.claims, enrollment.id
    held = claims.get(enrollment_id)
    claims[enrollment_id] = (None, 1 if held is None else held[1] + 1, None)
    # 1. claim (Executor._dispatch and _take_send)
    if not quiet:
        planned = action.estimated_execute_at
        latency = (now - planned).total_seconds() if planned is not None else None
        executor.observer.claimed("email", latency=latency, retry=False, redelivery=False)
    known = days.get(enrollment.actor_id)
    if known is None:  # the unit's first send for this actor: read once (`_drain_in_memory`)
        actor = tables.users.get(enrollment.actor_id)
        assert actor is not None, "an enrollment outlived its actor"
        account = tables.accounts.get(enrollment.account_id)  # the actor's account too
        assert account is not None, "an enrollment outlived its account"
        calendar = actor.calendar
        known = days[enrollment.actor_id] = (
            actor,
            account,
            calendar,
            (_ACTOR_SCOPE, actor.id, calendar.local_date(now)),
            (_ACCOUNT_SCOPE, actor.account_id, now.date()),
        )
    actor, account, calendar, actor_day, account_day = known
    sends = tables.sends
    actor_sent = sends.get(actor_day, 0)
    if actor_sent >= actor.daily_email_limit:
        limits.limit_reached(enrollment, actor, _SENDOUT_LIMITED, executor.policy, now)
        return True
    account_sent = sends.get(account_day, 0)
    if account_sent >= account.daily_email_quota:
        limits.limit_reached(enrollment, actor, _QUOTA_EXCEEDED, executor.policy, now)
        return True
    enrollment.begin_current(now)
    enrollment.due_at = lease_until
    filled: Any = _new(_OpenRequest)  # SendRequest(...), field by field (see _OpenRequest)
    # send_key(...), its common case inlined: the call costs about what KEY_ENDS saves,
    # -1.7% instructions (P4). KEY_ENDS has every position: a sequence has fewer steps.
    # The generation read from the record itself, not its property (-0.5%, see StepAction)
    filled.idempotency_key = (
        f"{enrollment_id}{KEY_ENDS[position]}" if not action._rare.generation
        else send_key(enrollment_id, position, action.generation)
    )
    filled.account_id = enrollment.account_id
    filled.enrollment_id = enrollment_id
    filled.position = position
    filled.actor_id = enrollment.actor_id
    filled.resource_type = enrollment.resource_type
    filled.resource_id = enrollment.resource_id
    filled.email_template_id = step.email_template_id
    filled.is_reply = step.is_reply
    filled.lease_expires_at = lease_until
    filled.__class__ = SendRequest
    request: SendRequest = filled
    # 2. deliver: the lease holds unless it ran out already (a lease of no length).
    # The executor reads the clock again before delivering and before recording (a send
    # takes time); here the send completes at once (`applies`) and a simulated clock
    # moves only when set, so both reads would give `now`: left out (two calls a step)
    outcome: Outcome = SKIPPED
    if lease_until > now:
        try:
            outcome = send(request, now)
        except DeliveryError as error:
            outcome = error
    if not quiet:
        executor.observer.delivered("email", *_label(outcome))
    # 3. record
    if (
        isinstance(outcome, SendResult)
        and outcome.sent
        and enrollment.current_step_position == position
        and action.status is _IN_PROGRESS
    ):
        enrollment.complete_current(now, calendar)
        # the counts read above, one up (nothing else writes a counter while the unit
        # holds the lock, and an in-process delivery writes none), in the ledger's flush
        # order: by key, "account" < "actor"
        sends[account_day] = account_sent + 1
        sends[actor_day] = actor_sent + 1
        return True
    batch = Batch(uow)
    batch.ledger.add(actor_day, 1)
    batch.ledger.add(account_day, 1)
    executor._settle(batch, enrollment, request, outcome, now)
    batch.ledger.flush()
    return True
