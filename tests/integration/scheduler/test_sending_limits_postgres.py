"""The daily sending limit is exact on PostgreSQL with claimers side by side.

A claim far from its limits reads the send counters unlocked and adds its sends
at the end, checking the new totals under the row lock (limits.SendLedger): a
claim that finds another took the room meanwhile is rolled back and runs again
with the counters locked. Never more sends than the limit, and the room that
is there is used. (One claim whose room is taken meanwhile, step by step:
tests/contract/test_postgres_claims.py.)"""

import threading
from collections import Counter
from datetime import timedelta

from test_exactly_once import START
from test_exactly_once_postgres import run_all

from engine import ActionType, DelayUnit, Page, SimulatedClock, Step, build
from engine.adapters.outbox import OutboxDelivery
from engine.adapters.storage.postgres import PostgresStore
from engine.app import limits
from engine.app.execution import Executor
from engine.app.policy import ExecutionPolicy
from engine.app.ports import EnrollmentFilter
from engine.domain.enums import ActionStatus, EnrollmentState, FailureReason

NOW = START + timedelta(seconds=1)
EMAIL = Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1, False)


def prepare(url: str, enrollments: int, quota: int, actors: int = 4) -> int:
    """An account with this daily quota, actors without a limit of their own, and
    `enrollments` one-email enrollments due at NOW."""
    with PostgresStore(url) as store:
        engine = build(store, SimulatedClock(START))
        account = engine.create_account("a", daily_email_quota=quota).id
        users = [engine.create_user(account, daily_email_limit=10_000).id for _ in range(actors)]
        sequence = engine.create_sequence(account, name="s", steps=[EMAIL],
                                          creator_id=users[0]).id
        for resource in range(1, enrollments + 1):
            engine.enroll(account, sequence_id=sequence, resource_type="lead",
                          resource_id=resource, actor_id=users[resource % actors])
    return account


def outcome(store: PostgresStore, account: int) -> tuple[int, int, Counter[object]]:
    """Outbox rows, the account's counter for NOW's day, and how the enrollments
    ended: finished, or blocked for a reason."""
    with store.unit_of_work(read_only=True) as uow:
        sent = len(uow.list_outbox(account, Page(1, 1000)))
        counted = uow.count_sends(limits.ACCOUNT_SCOPE, account, NOW.date())
        ends: Counter[object] = Counter()
        for enrollment in uow.list_enrollments(account, EnrollmentFilter(), Page(1, 1000)):
            action = enrollment.current_action
            ends["finished" if enrollment.state is EnrollmentState.FINISHED
                 else action.failure_reason if action.status is ActionStatus.BLOCKED
                 else action.status] += 1
    return sent, counted, ends


def test_four_claimers_near_the_account_quota_send_exactly_the_quota(pg_url: str) -> None:
    """Four claimers of ten take 60 due emails against a quota of 25: all four start
    far from it (0 + 10 <= 25), so at least one finds the room gone at its commit."""
    account = prepare(pg_url, 60, quota=25)
    stores = [PostgresStore(pg_url, migrate_schema=False) for _ in range(4)]
    try:
        start = threading.Barrier(4)

        def claimer(store: PostgresStore) -> None:
            executor = Executor(store, OutboxDelivery(store), ExecutionPolicy(),
                                SimulatedClock(NOW), f"w{id(store)}")
            start.wait()
            while executor.claim(10, send_in_store=True)[1]:
                pass

        run_all([lambda s=store: claimer(s) for store in stores])
        sent, counted, ends = outcome(stores[0], account)
        assert (sent, counted) == (25, 25)
        assert ends["finished"] == 25
        assert ends[FailureReason.QUOTA_EXCEEDED] == 35
    finally:
        for store in stores:
            store.close()
