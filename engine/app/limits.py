"""Daily sending limits: the actor's per local day, the account's per UTC day.

A send is counted when it is claimed, so concurrent workers cannot overshoot; a
send that fails for a known reason gives its count back (no email went out),
on the day it was counted (semantics.md section 3).

One transaction touches its counters through a SendLedger, which reads (and, in
a write unit, locks) each counter once and writes the sum of its changes at the
end, always in key order: two transactions that lock counters in one global
order never wait on each other in a cycle, so claimers need not take turns.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from engine.app.policy import ExecutionPolicy
from engine.app.ports import UnitOfWork
from engine.domain.account import Account, User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import FailureReason, LimitPolicy
from engine.timeline import next_business_day_start, roll_forward

ACTOR_SCOPE, ACCOUNT_SCOPE = "actor", "account"


Key = tuple[str, int, date]  # (scope, owner id, day): one counter


def days(actor: User, at: datetime) -> tuple[Key, Key]:
    """The counters a send by `actor` at `at` counts against: the actor's, the account's."""
    return (
        (ACTOR_SCOPE, actor.id, actor.calendar.local_date(at)),
        (ACCOUNT_SCOPE, actor.account_id, at.date()),
    )


class SendLedger:
    """The send counters of one transaction: `lock` them first (all at once, in key
    order), then check and count; `flush` writes the changes, in key order."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.read: dict[Key, int] = {}
        self.changes: Counter[Key] = Counter()

    def lock(self, keys: Iterable[Key]) -> None:
        wanted = sorted(set(keys) - self.read.keys())
        self.read.update(zip(wanted, self.uow.count_sends_many(wanted), strict=True))

    def count(self, key: Key) -> int:
        if key not in self.read:
            self.lock([key])  # not locked up front: still correct, in a rarer order
        return self.read[key] + self.changes[key]

    def add(self, key: Key, delta: int) -> None:
        self.changes[key] += delta

    def flush(self) -> None:
        for key, delta in sorted(self.changes.items()):
            if delta:
                self.uow.add_send(*key, delta=delta)
        for key, delta in self.changes.items():
            if key in self.read:
                self.read[key] += delta
        self.changes.clear()


def take_send(
    ledger: SendLedger, actor: User, account: Account, now: datetime
) -> FailureReason | None:
    """Count an email against the actor's and the account's day, or say which limit it
    is over (and count nothing)."""
    actor_day, account_day = days(actor, now)
    if ledger.count(actor_day) >= actor.daily_email_limit:
        return FailureReason.SENDOUT_LIMITED
    if ledger.count(account_day) >= account.daily_email_quota:
        return FailureReason.QUOTA_EXCEEDED
    ledger.add(actor_day, 1)
    ledger.add(account_day, 1)
    return None


def give_back(ledger: SendLedger, actor: User, counted_at: datetime) -> None:
    for day in days(actor, counted_at):
        ledger.add(day, -1)


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
