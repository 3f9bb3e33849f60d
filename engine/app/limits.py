"""Daily sending limits: the actor's per local day, the account's per UTC day.

A send is counted when it is claimed, so concurrent workers cannot overshoot; a
send that fails for a known reason gives its count back (no email went out),
on the day it was counted (semantics.md section 3).

One transaction touches its counters through a SendLedger, which reads each
counter once and writes the sum of its changes at the end, always in key order:
two transactions that lock counters in one global order never wait on each other
in a cycle.

A claim's batch `prepare`s its counters. When each has room for every send the
batch could count on it (the common case, far from a limit), they are read
without a lock and the increments are made by `flush`, the last statement before
the COMMIT, which reads the new totals back under the row lock: a total past its
limit means another claim took the room meanwhile, and `SendCountRaced` rolls
the whole transaction back, to be run again the exact way. So the counter rows,
shared by every claimer of an account, are locked for the length of a commit
rather than of the whole claim, and claimers do not take turns. Near a limit
(or when a counter is asked for outside `prepare`) the counters are locked when
read, before any is counted: the check and the count cannot be split.
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


def caps(actor: User, account: Account, at: datetime) -> tuple[tuple[Key, int], ...]:
    """`days`, each with its limit."""
    actor_day, account_day = days(actor, at)
    return (actor_day, actor.daily_email_limit), (account_day, account.daily_email_quota)


class SendCountRaced(Exception):
    """An unlocked count went stale: another transaction took the room this one
    counted on. Nothing is kept (the transaction is rolled back): run it again with
    the counters locked (`SendLedger(uow, optimistic=False)`)."""


class SendLedger:
    """The send counters of one transaction: `prepare` (or `lock`) them first, all at
    once, in key order; then check and count; `flush` writes the changes, in key
    order. `optimistic=False`: `prepare` always locks."""

    def __init__(self, uow: UnitOfWork, *, optimistic: bool = True) -> None:
        self.uow, self.optimistic = uow, optimistic
        self.read: dict[Key, int] = {}
        self.changes: Counter[Key] = Counter()
        self.unlocked: dict[Key, int] = {}  # the counters read unlocked, with their limits

    def prepare(self, wanted: Iterable[tuple[Key, int]]) -> None:
        """The counters a batch may count against, one (key, limit) per send it may
        count: read unlocked when each has room for all of them, else locked."""
        need = Counter(wanted)
        keys = sorted({key for key, _ in need} - self.read.keys())
        if not (self.optimistic and keys):
            self.lock(keys)
            return
        counts = dict(zip(keys, self.uow.count_sends_many(keys, lock=False), strict=True))
        if any(counts[key] + n > limit for (key, limit), n in need.items() if key in counts):
            self.lock(keys)  # near a limit: the exact way, locked before any is counted
            return
        self.read.update(counts)
        self.unlocked.update((key, limit) for key, limit in need if key in counts)

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
        """Write the changes, in key order. If some were counted on counters read
        unlocked, all go in one statement, which returns the new totals: one past its
        limit raises SendCountRaced. Call it last before the commit, so those rows
        stay locked the least time."""
        changes = sorted((key, delta) for key, delta in self.changes.items() if delta)
        if any(delta > 0 and key in self.unlocked for key, delta in changes):
            totals = self.uow.add_sends([key for key, _ in changes],
                                        [delta for _, delta in changes])
            if any(delta > 0 and key in self.unlocked and total > self.unlocked[key]
                   for (key, delta), total in zip(changes, totals, strict=True)):
                raise SendCountRaced("a send counter passed its limit: run again, locked")
        else:
            for key, delta in changes:
                self.uow.add_send(*key, delta=delta)
        for key, delta in changes:
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
