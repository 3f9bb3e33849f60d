"""PostgreSQL only: the fenced claims of engine/app/execution.py on real transactions.

Two workers claim at once (SKIP LOCKED: neither waits, none is claimed twice),
a claim rolled back leaves the work due, and a worker whose lease was taken
over can neither renew it nor record under it.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from contract_samples import STEPS, T0, enrollment, reading, write
from test_postgres_store import Background, wait_until, waiting_sessions

from engine import SimulatedClock, build
from engine.adapters.outbox import OutboxDelivery
from engine.adapters.storage.postgres import PostgresStore
from engine.app import limits
from engine.app.execution import Executor
from engine.app.limits import SendLedger
from engine.app.observer import ExecutionObserver
from engine.app.policy import ExecutionPolicy
from engine.app.ports import EnrollmentFilter, Lease, Page, SendRequest, SendResult, UnitOfWork
from engine.domain.enums import ActionStatus, EnrollmentState, FailureReason

LEASE = timedelta(minutes=5)


@pytest.fixture
def pg(pg_url: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_url) as store:
        yield store


def claim(store: PostgresStore, worker: str, now: datetime = T0, limit: int = 10,
          ) -> list[Lease]:
    with store.unit_of_work() as uow:
        taken = uow.claim_due(worker, now, now + LEASE, limit)
        uow.commit()
    return [lease for _, lease in taken]


def test_claims_take_due_work_in_order_and_move_it_to_the_lease_expiry(
    pg: PostgresStore,
) -> None:
    write(pg, enrollment(32, due_at=T0 - timedelta(hours=1)), enrollment(31, due_at=T0),
          enrollment(30, due_at=T0), enrollment(33, due_at=T0 + timedelta(seconds=1)))
    with pg.unit_of_work() as uow:
        taken = uow.claim_due("w1", T0, T0 + LEASE, 10)
        uow.commit()
    assert [(e.id, lease.seq) for e, lease in taken] == [(32, 1), (30, 1), (31, 1)]
    assert all(e.due_at == T0 + LEASE and lease.until == T0 + LEASE for e, lease in taken)
    assert all(lease.worker == "w1" and lease.account_id == 1 for _, lease in taken)
    with reading(pg) as uow:
        assert [e.id for e in uow.due_enrollments(T0, 10)] == []
        assert uow.next_due_at() == T0 + timedelta(seconds=1)


def test_two_workers_claiming_at_once_neither_waits_and_they_share_the_work(
    pg: PostgresStore,
) -> None:
    write(pg, *(enrollment(30 + i, due_at=T0 + timedelta(seconds=i)) for i in range(5)))
    with pg.unit_of_work() as first:
        mine = [e.id for e, _ in first.claim_due("w1", T0 + LEASE, T0 + 2 * LEASE, 3)]
        # the first is still open: the second skips the rows it holds, without waiting
        second = Background(lambda: claim(pg, "w2", T0 + LEASE))
        theirs = [lease.enrollment_id for lease in second.result()]
        first.commit()
    assert mine == [30, 31, 32] and theirs == [33, 34]


def test_claimers_lock_send_counters_in_key_order_so_they_cannot_deadlock(
    pg: PostgresStore, pg_url: str,
) -> None:
    """The first holds counter a and then wants b; the second wants b and a. Locked in
    the order asked, the second would hold b while waiting for a: a deadlock (one of
    them aborted). In key order the second waits for a holding nothing."""
    a, b = ("account", 1, T0.date()), ("actor", 10, T0.date())
    with pg.unit_of_work() as first:
        ledger = SendLedger(first)
        ledger.lock([a])

        def second_claimer() -> int:
            with pg.unit_of_work() as uow:
                theirs = SendLedger(uow)
                theirs.lock([b, a])
                theirs.add(b, 1)
                theirs.flush()
                uow.commit()
                return theirs.count(b)

        second = Background(second_claimer)
        wait_until(lambda: waiting_sessions(pg_url) == 1, "the second claimer waits")
        ledger.lock([b])  # a deadlock here if the second held b
        ledger.add(b, 1)
        ledger.flush()
        first.commit()
    assert second.result() == 2


def test_a_claim_rolled_back_leaves_the_work_due_and_its_token_unused(pg: PostgresStore) -> None:
    write(pg, enrollment(30, due_at=T0))
    with pg.unit_of_work() as uow:
        assert len(uow.claim_due("w1", T0, T0 + LEASE, 10)) == 1
    with reading(pg) as uow:
        assert [e.id for e in uow.due_enrollments(T0, 10)] == [30]
    assert [lease.seq for lease in claim(pg, "w2")] == [1]


def test_a_lease_taken_over_cannot_be_renewed_or_recorded(pg: PostgresStore) -> None:
    write(pg, enrollment(30, due_at=T0), enrollment(31, due_at=T0))
    old = claim(pg, "w1")
    late = T0 + LEASE  # w1 paused past its lease: the work is due again
    with pg.unit_of_work() as uow:
        new = [lease for _, lease in uow.claim_due("w2", late, late + LEASE, 1)]
        uow.commit()
    assert [(lease.enrollment_id, lease.seq) for lease in new] == [(30, 2)]
    with pg.unit_of_work() as uow:
        renewed = uow.renew_leases(old, late + 2 * LEASE)
        uow.commit()
    assert [(lease.enrollment_id, lease.until) for lease in renewed] == [
        (31, late + 2 * LEASE)]  # 31 was never taken over: w1 still holds it
    with reading(pg) as uow:
        assert uow.lease_holds(new[0], late) is True
        assert uow.lease_holds(old[0], late) is False
        assert uow.lease_holds(renewed[0], late) is True
        assert uow.next_due_at() == late + LEASE  # 30 under w2's lease; 31 pushed later
    with pg.unit_of_work() as uow:
        assert uow.release_lease(old[0]) is False  # w1's outcome for 30 is refused
        assert uow.release_lease(new[0]) is True
        assert uow.release_lease(new[0]) is False  # once
        uow.commit()
    with reading(pg) as uow:
        assert uow.lease_holds(new[0], late) is False
    assert [lease.seq for lease in claim(pg, "w3", late + LEASE)] == [3]  # the token kept going


def test_a_lease_ends_with_its_expiry_or_its_enrollment(pg: PostgresStore) -> None:
    write(pg, enrollment(30, due_at=T0), enrollment(31, due_at=T0))
    first, second = claim(pg, "w1")
    with reading(pg) as uow:
        assert uow.lease_holds(first, T0 + LEASE - timedelta(microseconds=1)) is True
        assert uow.lease_holds(first, T0 + LEASE) is False
    write(pg, enrollment(31, state=EnrollmentState.FINISHED, due_at=T0 + LEASE))
    with reading(pg) as uow:
        assert uow.lease_holds(second, T0) is False


def test_saving_an_enrollment_leaves_its_claim_alone(pg: PostgresStore) -> None:
    write(pg, enrollment(30, due_at=T0))
    (lease,) = claim(pg, "w1")
    write(pg, enrollment(30, due_at=T0 + LEASE))  # the dispatch saves it in its own way
    with reading(pg) as uow:
        assert uow.lease_holds(lease, T0) is True
    with pg.unit_of_work() as uow:
        assert uow.release_lease(lease) is True
        uow.commit()


def test_releasing_a_lease_locks_the_row_until_the_outcome_commits(
    pg: PostgresStore,
) -> None:
    write(pg, enrollment(30, due_at=T0))
    (lease,) = claim(pg, "w1")
    with pg.unit_of_work() as recorder:
        assert recorder.release_lease(lease) is True
        # due again (a lease expiry), but held by the recording transaction: skipped
        with pg.unit_of_work() as other:
            assert other.claim_due("w2", T0 + LEASE, T0 + 2 * LEASE, 10) == []
        recorder.commit()


def test_renewing_nothing_is_nothing(pg: PostgresStore) -> None:
    with pg.unit_of_work() as uow:
        assert uow.renew_leases([], T0) == []


class Interfering:
    """The outbox, but the claim's first send lets another transaction count `room`
    sends on the account's day (as a claimer beside this one would) before it goes on."""

    def __init__(self, store: PostgresStore, account: int, day: date, room: int) -> None:
        self.outbox, self.store, self.key = OutboxDelivery(store), store, (account, day)
        self.room, self.sends = room, 0

    def send(self, request: SendRequest, now: object) -> SendResult:
        raise AssertionError("the claim makes in-store sends itself")

    def send_within(self, uow: UnitOfWork, request: SendRequest, now: datetime) -> SendResult:
        self.sends += 1
        if self.room:
            with self.store.unit_of_work() as other:  # its own connection and transaction
                other.add_send(limits.ACCOUNT_SCOPE, *self.key, self.room)
                other.commit()
            self.room = 0
        return self.outbox.send_within(uow, request, now)


class Told(ExecutionObserver):
    def __init__(self) -> None:
        self.claims, self.deliveries = 0, Counter[str]()

    def claimed(self, kind: str, *, latency: float | None, retry: bool, redelivery: bool) -> None:
        self.claims += 1

    def delivered(self, kind: str, outcome: str, reason: str | None = None) -> None:
        self.deliveries[outcome] += 1


class NotingReads:
    """The store, noting whether each read of send counters locked them."""

    def __init__(self, store: PostgresStore) -> None:
        self.store, self.reads = store, list[str]()

    def unit_of_work(self, *, read_only: bool = False) -> "NotingReads":
        self.uow = self.store.unit_of_work(read_only=read_only)
        return self

    def __enter__(self) -> "NotingReads":
        self.uow.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self.uow.__exit__(*exc)

    def count_sends_many(self, keys: list[Any], *, lock: bool = True) -> list[int]:
        self.reads.append("locked" if lock else "unlocked")
        return self.uow.count_sends_many(keys, lock=lock)

    def __getattr__(self, name: str) -> Any:  # the open unit of work's, else the store's
        uow = self.__dict__.get("uow")
        return getattr(uow if hasattr(uow, name) else self.store, name)


def test_a_claim_whose_room_was_taken_meanwhile_keeps_nothing_and_runs_again_locked(
    pg: PostgresStore,
) -> None:
    """Quota 5, four due, a claim of three: it reads 0 unlocked and counts 3;
    meanwhile another transaction counts 4. Its commit would make 7: it is rolled
    back whole (no outbox row, no lease kept) and runs again, once, with the counter
    locked from the start, which sends one and blocks two; the fourth stays due. The
    observer hears of the second run only. Kills Executor.claim's mutants of the run
    again (its limit, `send_in_store`, `optimistic=True`, arguments dropped),
    `Batch(uow, )` in _claim (optimistic again), and _claim's `_dispatch(..., None)`
    and `_make_in(..., None)` (the observer told before the commit)."""
    engine = build(pg, SimulatedClock(T0))
    account = engine.create_account("a", daily_email_quota=5).id
    actor = engine.create_user(account, daily_email_limit=10_000).id
    sequence = engine.create_sequence(account, name="s", steps=[STEPS[0]], creator_id=actor).id
    for resource in range(1, 5):
        engine.enroll(account, sequence_id=sequence, resource_type="lead",
                      resource_id=resource, actor_id=actor)
    now = T0 + timedelta(days=7)
    delivery, told, noting = Interfering(pg, account, now.date(), room=4), Told(), NotingReads(pg)
    executor = Executor(noting, delivery, ExecutionPolicy(),  # type: ignore[arg-type]
                        SimulatedClock(now), "w", observer=told)
    assert executor.claim(3, send_in_store=True) == ([], 3)
    assert noting.reads == ["unlocked", "locked"]
    assert delivery.sends == 3 + 1  # three in the rolled-back run, one in the second
    assert told.claims == 3 and told.deliveries == Counter(sent=1)
    with reading(pg) as uow:
        assert len(uow.list_outbox(account, Page(1, 100))) == 1
        assert uow.count_sends(limits.ACCOUNT_SCOPE, account, now.date()) == 5
        ends = Counter(
            "finished" if e.state is EnrollmentState.FINISHED
            else e.current_action.failure_reason or e.current_action.status
            for e in uow.list_enrollments(account, EnrollmentFilter(), Page(1, 100)))
    assert ends == Counter({"finished": 1, FailureReason.QUOTA_EXCEEDED: 2,
                            ActionStatus.SCHEDULED: 1})
