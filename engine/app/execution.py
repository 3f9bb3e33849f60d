"""Running due work: claim, send, record, fenced by a lease.

The protocol (semantics.md invariant 6; the crash tests in tests/integration/
scheduler cite these steps by number):

1. Claim, in one transaction. `claim_due` leases due enrollments to a worker:
   each lease has an expiry and a fencing token (`claim_seq`, one higher on
   every claim), and the enrollment's due_at becomes the expiry, so the claim of
   a worker that vanished comes due again by itself. Task steps and sending
   limits are settled right there; an email step goes in_progress, is counted
   against the limits, and becomes a Claim.
2. Send, with no transaction and no lock held. Immediately before the send, the
   lease is read again: same token, not expired, enrollment not finished. If
   not, nothing is sent. The send carries the step's stable idempotency key and
   the lease's expiry (`lease_expires_at`), so the receiver can de-duplicate and
   can refuse a send that arrives after the lease ran out. While sends run, the
   worker renews its leases; `renew` says which ones it still holds.
3. Record, in one transaction, which first releases the lease: only the holder
   of the current token gets past that, so a stale worker's outcome changes
   nothing. A send skipped in step 2 is recorded too: an enrollment that
   finished meanwhile has the send abandoned, any other comes due again at once.

What this guarantees: every send is delivered at least once per idempotency
key (a worker that dies after sending and before recording is re-delivered
after its lease, with the same key), no send starts after its worker lost the
lease or its enrollment finished, and each outcome is recorded exactly once.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from engine.app import limits
from engine.app.policy import ExecutionPolicy
from engine.app.ports import Clock, EmailDelivery, Lease, SendRequest, SendResult, Store, UnitOfWork
from engine.app.tasks import create_step_task
from engine.domain.account import User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus, FailureReason
from engine.errors import DeliveryError


class Skipped(Enum):
    """The send did not happen: the lease was lost or the enrollment finished."""

    SKIPPED = "skipped"


SKIPPED = Skipped.SKIPPED
Outcome = SendResult | DeliveryError | Skipped


@dataclass(frozen=True, slots=True)
class Claim:
    lease: Lease
    request: SendRequest


class Executor:
    """One worker's side of the protocol, on an injected store, delivery and clock.

    Every phase reads the clock when it runs: a batch has no single `now`."""

    def __init__(
        self,
        store: Store,
        delivery: EmailDelivery,
        policy: ExecutionPolicy,
        clock: Clock,
        worker: str,
    ) -> None:
        self.store, self.delivery, self.policy = store, delivery, policy
        self.clock, self.worker = clock, worker

    # 1. claim

    def claim(self, limit: int) -> tuple[list[Claim], int]:
        """Lease up to `limit` due enrollments; returns the email sends to make, and how
        many enrollments were taken (task steps and limits are settled at once)."""
        now = self.clock.now()
        claims = []
        with self.store.unit_of_work() as uow:
            taken = uow.claim_due(self.worker, now, now + self.policy.lease, limit)
            for enrollment, lease in taken:
                claim = self._dispatch(uow, enrollment, lease, now)
                if claim is None:
                    uow.release_lease(lease)
                else:
                    claims.append(claim)
                uow.save_enrollment(enrollment)
            uow.commit()
        return claims, len(taken)

    def _dispatch(
        self, uow: UnitOfWork, enrollment: Enrollment, lease: Lease, now: datetime
    ) -> Claim | None:
        step, action = enrollment.current_step, enrollment.current_action
        if not enrollment.is_ongoing:
            # it finished while a send was under way and that worker never reported
            # back: sending now would mail a finished enrollment, so it is abandoned
            enrollment.abandon_current(now)
            return None
        if not step.is_email:
            enrollment.begin_current(now)
            action.task_id = create_step_task(uow, enrollment, step, action, now)
            return None
        if action.status is ActionStatus.SCHEDULED:
            actor = uow.get_user(enrollment.actor_id)
            account = uow.get_account(enrollment.account_id)
            assert actor is not None and account is not None, "an enrollment outlived its actor"
            over = limits.over_limit(uow, actor, account, now)
            if over is not None:
                limits.limit_reached(enrollment, actor, over, self.policy, now)
                return None
            enrollment.begin_current(now)
            limits.count_send(uow, actor, now)
        # a fresh send, a retry that came due, or a dead worker's send: (re)deliver
        enrollment.due_at = lease.until
        return Claim(
            lease,
            SendRequest(
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
            ),
        )

    # 2. send

    def still_held(self, lease: Lease) -> bool:
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.lease_holds(lease, self.clock.now())

    def deliver(self, claim: Claim) -> Outcome:
        """Send under the lease, or not at all; never raises for a transient failure."""
        if not self.still_held(claim.lease):
            return SKIPPED
        try:
            return self.delivery.send(claim.request, self.clock.now())
        except DeliveryError as error:
            return error

    def renew(self, leases: list[Lease]) -> list[Lease]:
        """Extend the leases this worker still holds; the ones missing were lost."""
        if not leases:
            return []
        until = self.clock.now() + self.policy.lease
        with self.store.unit_of_work() as uow:
            held = uow.renew_leases(leases, until)
            uow.commit()
        return held

    # 3. record

    def record(self, claim: Claim, outcome: Outcome) -> bool:
        """Apply the outcome if the lease is still this worker's; False if it was lost."""
        now = self.clock.now()
        request = claim.request
        with self.store.unit_of_work() as uow:
            if not uow.release_lease(claim.lease):
                return False  # taken over: the new holder owns this send now
            enrollment = uow.get_enrollment(request.account_id, request.enrollment_id)
            assert enrollment is not None, "enrollments are never deleted"
            action = enrollment.current_action
            if (
                enrollment.current_step_position == request.position
                and action.status is ActionStatus.IN_PROGRESS
            ):
                self._apply(uow, enrollment, outcome, now)
                uow.save_enrollment(enrollment)
            uow.commit()
        return True

    def _apply(
        self, uow: UnitOfWork, enrollment: Enrollment, outcome: Outcome, now: datetime
    ) -> None:
        action = enrollment.current_action
        if not enrollment.is_ongoing and not (isinstance(outcome, SendResult) and outcome.sent):
            enrollment.abandon_current(now)  # finished meanwhile, and no email went out
        elif outcome is SKIPPED:
            enrollment.due_at = now  # the lease ran out before the send: due again at once
        elif isinstance(outcome, DeliveryError):
            action.attempts += 1
            if action.attempts > self.policy.retry_budget:
                enrollment.block_current(FailureReason.UNKNOWN, now)
            else:
                enrollment.due_at = now + self.policy.backoff(action.attempts)
        elif outcome.sent:
            enrollment.complete_current(now, self._actor(uow, enrollment).calendar)
        else:
            reason = outcome.failure_reason or FailureReason.UNKNOWN
            if reason is not FailureReason.UNKNOWN:
                # no email went out: the count taken at the claim (when the action
                # last changed, so updated_at) goes back
                limits.give_back(uow, self._actor(uow, enrollment), enrollment.updated_at)
            enrollment.block_current(reason, now)

    @staticmethod
    def _actor(uow: UnitOfWork, enrollment: Enrollment) -> User:
        actor = uow.get_user(enrollment.actor_id)
        assert actor is not None, "an enrollment outlived its actor"
        return actor

    # the whole protocol in one pass (the simulated clock's advance, simple loops)

    def run_due(self) -> int:
        """Claim, send and record everything due now, one enrollment at a time (so a
        send's outcome, and the limit count it may give back, is known before the next
        send is counted); returns how many enrollments it took."""
        done = 0
        while True:
            claims, taken = self.claim(1)
            for claim in claims:
                self.record(claim, self.deliver(claim))
            if not taken:
                return done
            done += taken
