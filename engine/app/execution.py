"""Running due work: claim, deliver, record, fenced by a lease.

A delivery is an external effect: an email send (EmailDelivery), or the creation of
a task in a host that keeps its own tasks (TaskDelivery). Both follow one protocol
(semantics.md invariant 6; the crash tests in tests/integration/scheduler cite these
steps by number):

1. Claim, in one transaction. `claim_due` leases due enrollments to a worker:
   each lease has an expiry and a fencing token (`claim_seq`, one higher on
   every claim), and the enrollment's due_at becomes the expiry, so the claim of
   a worker that vanished comes due again by itself. Sending limits are settled
   right there (limits.SendLedger: the batch's send counters are read all at
   once, in key order, and counted just before the commit, which checks the
   limits again, so claimers running side by side neither queue on the
   counters nor deadlock on them, and never overshoot), and so is a task
   step when the engine keeps its own tasks (no external effect: the task is
   made in this transaction). An email step, or a host's task step, goes
   in_progress (an email is counted against the limits) and becomes a Claim.
2. Deliver, with no transaction and no lock held. Immediately before it, the
   lease is read again: same token, not expired, enrollment not finished. If
   not, nothing is delivered. The delivery carries the step's stable idempotency
   key and the lease's expiry (`lease_expires_at`), so the receiver can
   de-duplicate and can refuse one that arrives after the lease ran out. While
   deliveries run, the worker renews its leases; `renew` says which it still holds.
3. Record, in one transaction (the scheduler records the outcomes that are ready
   together, one commit for them all), which first releases each lease: only the holder
   of the current token gets past that, so a stale worker's outcome changes
   nothing. A delivery skipped in step 2 is recorded too: an enrollment that
   finished meanwhile has the send abandoned, any other comes due again at once.
   A host's task id is stored on the action; the step then waits for the host's
   TaskCompleted or TaskDeleted event.

A delivery that is itself a write to the store (ports.InStoreDelivery: the
built-in outbox) has no external effect, so it needs no lease across
transactions: the scheduler's claim (`send_in_store`) makes and records it in
the claim's own transaction, after releasing the lease there, the row locked;
a crash rolls all of it back. Given IN_RECORD instead, `record_all` makes it in
the record's transaction, right after that releases the lease: the lease check
and the send commit together.

What this guarantees: every delivery is made at least once per idempotency key (a
worker that dies after delivering and before recording is re-delivered after its
lease, with the same key), none starts after its worker lost the lease or its
enrollment finished, and each outcome is recorded exactly once. A transient
failure is retried with backoff: an email blocks with `unknown` once the retry
budget is spent; a task creation, having no failed state, keeps being retried
(at most `retry_cap` apart).
"""

from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cached_property
from typing import cast

from engine.app import limits
from engine.app.batch import Batch, counts_now
from engine.app.observer import NO_OBSERVER, ExecutionObserver
from engine.app.policy import ExecutionPolicy
from engine.app.ports import (
    Clock,
    EmailDelivery,
    InStoreDelivery,
    Lease,
    SendRequest,
    SendResult,
    Store,
    TaskCreated,
    TaskDelivery,
    TaskRequest,
    UnitOfWork,
)
from engine.app.tasks import create_step_task
from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus, FailureReason
from engine.errors import DeliveryError


class Skipped(Enum):
    """The delivery did not happen: the lease was lost or the enrollment finished."""

    SKIPPED = "skipped"


class InRecord(Enum):
    """The delivery is made by the record, in its transaction (ports.InStoreDelivery)."""

    IN_RECORD = "in record"


SKIPPED = Skipped.SKIPPED
IN_RECORD = InRecord.IN_RECORD
Outcome = SendResult | TaskCreated | DeliveryError | Skipped


@dataclass(frozen=True, slots=True)
class Claim:
    """A leased step and the delivery to make for it: an email, or a host's task."""

    lease: Lease
    request: SendRequest | TaskRequest

    @property
    def kind(self) -> str:
        return "email" if isinstance(self.request, SendRequest) else "task"


class Executor:
    """One worker's side of the protocol, on an injected store, deliveries and clock.
    `tasks=None`: the engine keeps its own tasks.

    Every phase reads the clock when it runs: a batch has no single `now`."""

    def __init__(
        self,
        store: Store,
        delivery: EmailDelivery,
        policy: ExecutionPolicy,
        clock: Clock,
        worker: str,
        *,
        tasks: TaskDelivery | None = None,
        observer: ExecutionObserver = NO_OBSERVER,
    ) -> None:
        self.store, self.delivery, self.tasks, self.policy = store, delivery, tasks, policy
        self.clock, self.worker, self.observer = clock, worker, observer

    @cached_property
    def _in_store(self) -> bool:
        # asked once per executor, and only by a claim: an isinstance check against a
        # Protocol costs ~20 us, and the simulator's every advance builds an executor
        return isinstance(self.delivery, InStoreDelivery)

    # 1. claim

    def claim(self, limit: int, *, send_in_store: bool = False) -> tuple[list[Claim], int]:
        """Lease up to `limit` due enrollments; returns the deliveries to make, and how
        many enrollments were taken (own tasks and limits are settled at once).

        `send_in_store`: the sends of an InStoreDelivery are made and recorded in this
        same transaction too (no external effect: a crash rolls all of it back, so
        there is nothing to fence across transactions), and not returned.

        The send counters are read unlocked when the batch is far from its limits
        (limits.SendLedger.prepare); if another claim took the room meanwhile, the
        commit is refused (SendCountRaced, nothing kept) and the claim runs again
        with them locked. What it reports to the observer waits for its commit."""
        try:
            return self._claim(limit, send_in_store, optimistic=True)
        except limits.SendCountRaced:
            return self._claim(limit, send_in_store, optimistic=False)

    def _claim(self, limit: int, send_in_store: bool, *, optimistic: bool,
               ) -> tuple[list[Claim], int]:
        now = self.clock.now()
        claims, ended = [], []  # the leases ended in this transaction, the rows locked
        observer = _Held()
        with self.store.unit_of_work() as uow:
            taken = uow.claim_due(self.worker, now, now + self.policy.lease, limit)
            batch = Batch(uow, optimistic=optimistic)
            batch.read_actors(enrollment.actor_id for enrollment, _ in taken)
            # every counter this batch may count against, read (or locked) before any
            # is counted, with its limit
            batch.ledger.prepare(
                pair for enrollment, _ in taken if counts_now(enrollment)
                for pair in limits.caps(batch.actor(enrollment), batch.account(enrollment),
                                        now))
            for enrollment, lease in taken:
                claim = self._dispatch(batch, enrollment, lease, now, observer)
                if claim is None:
                    ended.append(lease)
                elif send_in_store and self.sends_in_record(claim):
                    ended.append(lease)  # the row stays locked until this commits
                    self._apply(batch, enrollment,
                                self._make_in(uow, enrollment, claim, now, observer), now)
                else:
                    claims.append(claim)
                uow.save_enrollment(enrollment)
            uow.end_leases(ended)
            batch.ledger.flush()  # last: unlocked counters are locked from here to COMMIT
            uow.commit()
        observer.replay(self.observer)
        return claims, len(taken)

    def _dispatch(
        self, batch: Batch, enrollment: Enrollment, lease: Lease, now: datetime,
        observer: ExecutionObserver | None = None,
    ) -> Claim | None:
        observer = observer or self.observer
        step, action = enrollment.current_step, enrollment.current_action
        if not enrollment.is_ongoing:
            # it finished while a send was under way and that worker never reported
            # back: sending now would mail a finished enrollment, so it is abandoned
            enrollment.abandon_current(now)
            return None
        kind = "email" if step.is_email else "task"
        if action.status is ActionStatus.SCHEDULED:
            planned = action.estimated_execute_at
            latency = (now - planned).total_seconds() if planned is not None else None
            observer.claimed(kind, latency=latency, retry=False, redelivery=False)
            if step.is_email and not self._take_send(batch, enrollment, now):
                return None  # a sending limit settled it
            enrollment.begin_current(now)
        else:  # a retry that came due, or the claim of a worker that vanished
            observer.claimed(kind, latency=None, retry=action.attempts > 0,
                             redelivery=action.attempts == 0)
        if not step.is_email and self.tasks is None:
            if action.task_id is None:
                action.task_id = create_step_task(batch.uow, enrollment, step, action, now)
            enrollment.due_at = None  # the step waits for its task
            return None
        enrollment.due_at = lease.until
        return Claim(lease, self._request(enrollment, lease))

    def _take_send(self, batch: Batch, enrollment: Enrollment, now: datetime) -> bool:
        """Count an email against its sending limits, or settle it if one is reached."""
        actor = batch.actor(enrollment)
        over = limits.take_send(batch.ledger, actor, batch.account(enrollment), now)
        if over is not None:
            limits.limit_reached(enrollment, actor, over, self.policy, now)
            return False
        return True

    @staticmethod
    def _request(enrollment: Enrollment, lease: Lease) -> SendRequest | TaskRequest:
        step, action = enrollment.current_step, enrollment.current_action
        if step.is_email:
            return SendRequest(
                idempotency_key=enrollment.idempotency_key(),
                account_id=enrollment.account_id,
                enrollment_id=enrollment.id,
                position=step.position,
                actor_id=enrollment.actor_id,
                resource_type=enrollment.resource_type,
                resource_id=enrollment.resource_id,
                email_template_id=step.email_template_id,
                is_reply=step.is_reply,
                lease_expires_at=lease.until,
            )
        assert action.estimated_execute_at is not None, "a started task step keeps its plan"
        return TaskRequest(
            idempotency_key=enrollment.idempotency_key(),
            account_id=enrollment.account_id,
            enrollment_id=enrollment.id,
            position=step.position,
            actor_id=enrollment.actor_id,
            resource_type=enrollment.resource_type,
            resource_id=enrollment.resource_id,
            content=step.task_content or "",
            due_date=action.estimated_execute_at,
            lease_expires_at=lease.until,
        )

    # 2. deliver

    def still_held(self, lease: Lease) -> bool:
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.lease_holds(lease, self.clock.now())

    def deliver(self, claim: Claim) -> Outcome:
        """Deliver under the lease, or not at all; never raises for a transient failure."""
        outcome: Outcome = SKIPPED
        if self.still_held(claim.lease):
            try:
                outcome = self._make(claim.request)
            except DeliveryError as error:
                outcome = error
        self.observer.delivered(claim.kind, *_label(outcome))
        return outcome

    def sends_in_record(self, claim: Claim) -> bool:
        """The delivery is a write to the store: `record_all` makes it, given IN_RECORD."""
        return self._in_store and isinstance(claim.request, SendRequest)

    def _make_in(self, uow: UnitOfWork, enrollment: Enrollment, claim: Claim, now: datetime,
                 observer: ExecutionObserver | None = None) -> Outcome:
        """The in-store send, under the lease just released by this transaction (the row
        locked: nobody can take it over or finish it before this commits)."""
        outcome: Outcome = SKIPPED
        if enrollment.is_ongoing and now < claim.lease.until:
            assert self._in_store and isinstance(claim.request, SendRequest)
            delivery = cast(InStoreDelivery, self.delivery)
            try:
                outcome = delivery.send_within(uow, claim.request, now)
            except DeliveryError as error:
                outcome = error
        (observer or self.observer).delivered(claim.kind, *_label(outcome))
        return outcome

    def _make(self, request: SendRequest | TaskRequest) -> SendResult | TaskCreated:
        if isinstance(request, SendRequest):
            return self.delivery.send(request, self.clock.now())
        assert self.tasks is not None, "a task is claimed for delivery only to a host"
        return self.tasks.create(request, self.clock.now())

    def renew(self, leases: list[Lease]) -> list[Lease]:
        """Extend the leases this worker still holds; the ones missing were lost."""
        if not leases:
            return []
        until = self.clock.now() + self.policy.lease
        with self.store.unit_of_work() as uow:
            held = uow.renew_leases(leases, until)
            uow.commit()
        self.observer.renewed(len(held), len(leases) - len(held))
        return held

    # 3. record

    def record(self, claim: Claim, outcome: Outcome) -> bool:
        """Apply the outcome if the lease is still this worker's; False if it was lost."""
        return self.record_all([(claim, outcome)])[0] is not None

    def record_all(self, outcomes: Seq[tuple[Claim, Outcome | InRecord]],
                   ) -> list[Outcome | None]:
        """`record` for several claims in one transaction (one commit for them all);
        each outcome is applied, or dropped (None) if its lease was lost. For IN_RECORD
        the delivery is made here, once the lease is released (so held): the outcome
        returned is that delivery's."""
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            batch = Batch(uow)
            batch.read_actors(claim.request.actor_id for claim, _ in outcomes)
            # rows locked in id order, as renew_leases locks them: no deadlock between them
            order = sorted(range(len(outcomes)), key=lambda i: outcomes[i][0].lease.enrollment_id)
            recorded: list[Outcome | None] = [None] * len(outcomes)
            for i in order:
                recorded[i] = self._record_in(batch, *outcomes[i], now)
            batch.ledger.flush()
            uow.commit()
        for (claim, _), kept in zip(outcomes, recorded, strict=True):
            if kept is None:
                self.observer.dropped(claim.kind)
        return recorded

    def _record_in(self, batch: Batch, claim: Claim, outcome: Outcome | InRecord,
                   now: datetime) -> Outcome | None:
        request, uow = claim.request, batch.uow
        if not uow.release_lease(claim.lease):
            return None  # taken over: the new holder owns this delivery now
        enrollment = uow.get_enrollment(request.account_id, request.enrollment_id)
        assert enrollment is not None, "enrollments are never deleted"
        if outcome is IN_RECORD:
            outcome = self._make_in(uow, enrollment, claim, now)
        self._settle(batch, enrollment, request, outcome, now)
        uow.save_enrollment(enrollment)
        return outcome

    def _settle(self, batch: Batch, enrollment: Enrollment, request: SendRequest | TaskRequest,
                outcome: Outcome, now: datetime) -> None:
        """Apply a delivery's outcome to its step, if the step still waits for it."""
        action = enrollment.actions[request.position]
        if isinstance(outcome, TaskCreated) and action.task_id is None:
            # kept even if the host reported the task done before this record
            action.task_id = outcome.task_id
        if (
            enrollment.current_step_position == request.position
            and action.status is ActionStatus.IN_PROGRESS
        ):
            self._apply(batch, enrollment, outcome, now)

    def _apply(
        self, batch: Batch, enrollment: Enrollment, outcome: Outcome, now: datetime
    ) -> None:
        action = enrollment.current_action
        made = isinstance(outcome, TaskCreated) or (isinstance(outcome, SendResult)
                                                     and outcome.sent)
        if not enrollment.is_ongoing and not made:
            enrollment.abandon_current(now)  # finished meanwhile, and no email went out
        elif outcome is SKIPPED:
            enrollment.due_at = now  # the lease ran out before the send: due again at once
        elif isinstance(outcome, DeliveryError):
            action.attempts += 1
            if enrollment.current_step.is_email and action.attempts > self.policy.retry_budget:
                enrollment.block_current(FailureReason.UNKNOWN, now)
            else:
                enrollment.due_at = now + self.policy.backoff(action.attempts)
        elif isinstance(outcome, TaskCreated):
            enrollment.due_at = None  # the host has the task: the step waits for its event
        elif outcome.sent:
            enrollment.complete_current(now, batch.actor(enrollment).calendar)
        else:
            reason = outcome.failure_reason or FailureReason.UNKNOWN
            if reason is not FailureReason.UNKNOWN:
                # no email went out: the count taken at the claim (when the action
                # last changed, so updated_at) goes back
                limits.give_back(batch.ledger, batch.actor(enrollment), enrollment.updated_at)
            enrollment.block_current(reason, now)

    # the whole protocol in one pass (the simulated clock's advance, simple loops)

    def run_due(self) -> int:
        """Claim, deliver and record everything due now, one enrollment at a time (so
        a send's outcome, and the limit count it may give back, is known before the
        next send is counted); returns how many enrollments it took."""
        done = 0
        while True:
            claims, taken = self.claim(1)
            for claim in claims:
                self.record(claim, self.deliver(claim))
            if not taken:
                return done
            done += taken


class _Held(ExecutionObserver):
    """An observer that keeps what it is told, for `replay` once the transaction
    it was told in has committed (a claim run again reports once)."""

    def __init__(self) -> None:
        self.events: list[Callable[[ExecutionObserver], None]] = []

    def claimed(self, kind: str, *, latency: float | None, retry: bool, redelivery: bool) -> None:
        self.events.append(lambda observer: observer.claimed(
            kind, latency=latency, retry=retry, redelivery=redelivery))

    def delivered(self, kind: str, outcome: str, reason: str | None = None) -> None:
        self.events.append(lambda observer: observer.delivered(kind, outcome, reason))

    def replay(self, observer: ExecutionObserver) -> None:
        for event in self.events:
            event(observer)


def _label(outcome: Outcome) -> tuple[str, str | None]:
    """The observer's outcome label, and the failure reason of a failed send."""
    if outcome is SKIPPED:
        return "skipped", None
    if isinstance(outcome, DeliveryError):
        return "error", None
    if isinstance(outcome, TaskCreated):
        return "created", None
    if outcome.sent:
        return "sent", None
    return "failed", str(outcome.failure_reason or FailureReason.UNKNOWN)
