"""Running due work: the current step of every enrollment whose time has come.

A send happens in three moves so that it is exactly once in effect across
crashes and workers: claim (one transaction: the action goes in_progress and
the enrollment is leased until now + lease), deliver (outside any transaction,
with the step's idempotency key), record (a second transaction applies the
outcome if the claim still stands). A worker that dies between claim and
record leaves the lease to expire; the next claim re-delivers with the same
key, which the delivery treats as the same send.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from engine.app.policy import ExecutionPolicy
from engine.app.ports import EmailDelivery, SendRequest, SendResult, Store, UnitOfWork
from engine.app.tasks import create_step_task
from engine.domain.account import Account, User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus, FailureReason, LimitPolicy
from engine.errors import DeliveryError
from engine.timeline import next_business_day_start, roll_forward

ACTOR_SCOPE, ACCOUNT_SCOPE = "actor", "account"


@dataclass(frozen=True, slots=True)
class Claim:
    request: SendRequest


def run_due(store: Store, delivery: EmailDelivery, policy: ExecutionPolicy, now: datetime) -> int:
    """Execute every piece of work due at `now`; returns how many enrollments it touched."""
    touched = 0
    while True:
        claims, batch = claim_due(store, policy, now)
        touched += batch
        for claim in claims:
            outcome: SendResult | DeliveryError
            try:
                outcome = delivery.send(claim.request, now)
            except DeliveryError as error:
                outcome = error
            record_outcome(store, policy, claim.request, outcome, now)
        if batch < policy.batch_size:
            return touched


def claim_due(store: Store, policy: ExecutionPolicy, now: datetime) -> tuple[list[Claim], int]:
    claims: list[Claim] = []
    with store.unit_of_work() as uow:
        due = uow.due_enrollments(now, policy.batch_size)
        for enrollment in due:
            claim = _dispatch(uow, policy, enrollment, now)
            if claim is not None:
                claims.append(claim)
            uow.save_enrollment(enrollment)
        uow.commit()
    return claims, len(due)


def _dispatch(
    uow: UnitOfWork, policy: ExecutionPolicy, enrollment: Enrollment, now: datetime
) -> Claim | None:
    step, action = enrollment.current_step, enrollment.current_action
    actor = uow.get_user(enrollment.actor_id)
    account = uow.get_account(enrollment.account_id)
    assert actor is not None and account is not None, "an enrollment outlived its actor"
    if not enrollment.is_ongoing:
        # finished while a send was under way and its worker never reported back:
        # sending it now would mail a finished enrollment, so the send is abandoned
        enrollment.abandon_current(now)
        return None
    if not step.is_email:
        enrollment.begin_current(now)
        action.task_id = create_step_task(uow, enrollment, step, action, now)
        return None
    if action.status is ActionStatus.SCHEDULED:
        over = _over_limit(uow, actor, account, now)
        if over is not None:
            _limit_reached(enrollment, actor, over, policy, now)
            return None
        enrollment.begin_current(now)
        _count_send(uow, actor, account, now)
    # a fresh claim, or a lease that expired / a retry that came due: (re)deliver
    enrollment.due_at = now + policy.lease
    return Claim(
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
        )
    )


def record_outcome(
    store: Store,
    policy: ExecutionPolicy,
    request: SendRequest,
    outcome: SendResult | DeliveryError,
    now: datetime,
) -> None:
    with store.unit_of_work() as uow:
        enrollment = uow.get_enrollment(request.account_id, request.enrollment_id)
        if (
            enrollment is None
            or enrollment.current_step_position != request.position
            or enrollment.current_action.status is not ActionStatus.IN_PROGRESS
            or enrollment.idempotency_key() != request.idempotency_key
        ):
            return  # the claim no longer stands; someone else recorded it
        action = enrollment.current_action
        if isinstance(outcome, DeliveryError):
            action.attempts += 1
            if not enrollment.is_ongoing:
                enrollment.abandon_current(now)
            elif action.attempts > policy.retry_budget:
                enrollment.block_current(FailureReason.UNKNOWN, now)
            else:
                enrollment.due_at = now + policy.backoff(action.attempts)
        elif outcome.sent:
            actor = uow.get_user(enrollment.actor_id)
            assert actor is not None
            enrollment.complete_current(now, actor.calendar)
        else:
            enrollment.block_current(outcome.failure_reason or FailureReason.UNKNOWN, now)
        uow.save_enrollment(enrollment)
        uow.commit()


def _local_day(actor: User, now: datetime) -> date:
    return actor.calendar.local_date(now)


def _over_limit(
    uow: UnitOfWork, actor: User, account: Account, now: datetime
) -> FailureReason | None:
    if uow.count_sends(ACTOR_SCOPE, actor.id, _local_day(actor, now)) >= actor.daily_email_limit:
        return FailureReason.SENDOUT_LIMITED
    if uow.count_sends(ACCOUNT_SCOPE, account.id, now.date()) >= account.daily_email_quota:
        return FailureReason.QUOTA_EXCEEDED
    return None


def _count_send(uow: UnitOfWork, actor: User, account: Account, now: datetime) -> None:
    uow.add_send(ACTOR_SCOPE, actor.id, _local_day(actor, now))
    uow.add_send(ACCOUNT_SCOPE, account.id, now.date())


def _limit_reached(
    enrollment: Enrollment,
    actor: User,
    reason: FailureReason,
    policy: ExecutionPolicy,
    now: datetime,
) -> None:
    if policy.limit_policy is LimitPolicy.BLOCK:
        enrollment.begin_current(now)
        enrollment.block_current(reason, now)
        return
    # defer: stay scheduled (and show as overdue) until the limit's next day opens
    calendar = actor.calendar
    resume_at = next_business_day_start(now, calendar)
    if reason is FailureReason.QUOTA_EXCEEDED:
        next_utc_day = datetime.combine(now.date() + timedelta(days=1), time(), UTC)
        resume_at = max(resume_at, roll_forward(next_utc_day, calendar))
    enrollment.due_at = resume_at
