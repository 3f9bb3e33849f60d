"""Daily sending limits: the actor's per local day, the account's per UTC day.

A send is counted when it is claimed, so concurrent workers cannot overshoot; a
send that fails for a known reason gives its count back (no email went out),
on the day it was counted (semantics.md section 3).
"""

from datetime import UTC, date, datetime, time, timedelta

from engine.app.policy import ExecutionPolicy
from engine.app.ports import UnitOfWork
from engine.domain.account import Account, User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import FailureReason, LimitPolicy
from engine.timeline import next_business_day_start, roll_forward

ACTOR_SCOPE, ACCOUNT_SCOPE = "actor", "account"


def _days(actor: User, at: datetime) -> tuple[tuple[str, int, date], ...]:
    return (
        (ACTOR_SCOPE, actor.id, actor.calendar.local_date(at)),
        (ACCOUNT_SCOPE, actor.account_id, at.date()),
    )


def take_send(
    uow: UnitOfWork, actor: User, account: Account, now: datetime
) -> FailureReason | None:
    """Count an email against the actor's and the account's day, or say which limit it
    is over (and count nothing)."""
    actor_day, account_day = _days(actor, now)
    if uow.count_sends(*actor_day) >= actor.daily_email_limit:
        return FailureReason.SENDOUT_LIMITED
    if uow.count_sends(*account_day) >= account.daily_email_quota:
        return FailureReason.QUOTA_EXCEEDED
    uow.add_send(*actor_day)
    uow.add_send(*account_day)
    return None


def give_back(uow: UnitOfWork, actor: User, counted_at: datetime) -> None:
    for day in _days(actor, counted_at):
        uow.add_send(*day, delta=-1)


def limit_reached(
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
