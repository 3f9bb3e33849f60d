"""Contract: the scheduler's claims (engine/app/execution.py, steps 1-3), on every backend.

A claim leases due rows to one worker with a fencing token; renewal, the check
before a send and the release that opens a record all hold only for the
current token."""

import threading
from datetime import datetime, timedelta

from contract_samples import T0, enrollment, ids, reading, write

from engine.app.ports import Lease, Store
from engine.domain.enums import EnrollmentState

H = timedelta(hours=1)
LEASE = timedelta(minutes=5)


def claim(store: Store, worker: str, now: datetime = T0, limit: int = 10) -> list[Lease]:
    with store.unit_of_work() as uow:
        taken = uow.claim_due(worker, now, now + LEASE, limit)
        for e, _ in taken:
            uow.save_enrollment(e)  # what the executor does after dispatching
        uow.commit()
    return [lease for _, lease in taken]


def test_a_claim_leases_due_rows_earliest_first_and_moves_them_to_the_lease_end(
    store: Store,
) -> None:
    write(store, enrollment(30, due_at=T0 + H), enrollment(31, due_at=T0),
          enrollment(32, 2, due_at=T0 + H), enrollment(33, due_at=T0 + 3 * H))
    with store.unit_of_work() as uow:
        taken = uow.claim_due("w1", T0 + 2 * H, T0 + 2 * H + LEASE, 10)
        for e, _ in taken:
            uow.save_enrollment(e)
        uow.commit()
    assert [(e.id, e.due_at) for e, _ in taken] == [
        (31, T0 + 2 * H + LEASE), (30, T0 + 2 * H + LEASE), (32, T0 + 2 * H + LEASE)]
    assert [(lease.enrollment_id, lease.account_id, lease.worker, lease.seq, lease.until)
            for _, lease in taken] == [
        (31, 1, "w1", 1, T0 + 2 * H + LEASE), (30, 1, "w1", 1, T0 + 2 * H + LEASE),
        (32, 2, "w1", 1, T0 + 2 * H + LEASE)]
    with reading(store) as uow:
        assert ids(uow.due_enrollments(T0 + 2 * H, 10)) == []  # leased: not due until it ends
        assert uow.next_due_at() == T0 + 2 * H + LEASE  # the lease's end
        assert ids(uow.due_enrollments(T0 + 2 * H + LEASE, 10)) == [30, 31, 32]


def test_the_claim_respects_its_limit(store: Store) -> None:
    write(store, *(enrollment(30 + i, due_at=T0 + i * H) for i in range(5)))
    assert [lease.enrollment_id for lease in claim(store, "w1", T0 + 9 * H, limit=2)] == [30, 31]


def test_every_claim_of_a_row_gets_a_higher_token(store: Store) -> None:
    write(store, enrollment(30, due_at=T0))
    (first,) = claim(store, "w1", T0)
    (second,) = claim(store, "w2", T0 + LEASE)  # the first lease ran out
    assert (first.seq, second.seq) == (1, 2)
    with store.unit_of_work() as uow:
        assert uow.release_lease(second)
        uow.commit()
    (third,) = claim(store, "w1", T0 + 2 * LEASE)
    assert third.seq == 3  # never reset, not even by a release


def test_a_lease_holds_only_for_its_token_before_its_end_while_the_enrollment_runs(
    store: Store,
) -> None:
    write(store, enrollment(30, due_at=T0), enrollment(31, due_at=T0))
    first, other = claim(store, "w1", T0)
    with reading(store) as uow:
        assert uow.lease_holds(first, T0 + LEASE - timedelta(microseconds=1))
        assert not uow.lease_holds(first, T0 + LEASE)  # expired
        forged = Lease(first.enrollment_id, 1, "w2", first.seq, first.until)
        assert not uow.lease_holds(forged, T0)
    write(store, enrollment(31, state=EnrollmentState.FINISHED, due_at=T0 + LEASE))
    with reading(store) as uow:
        assert not uow.lease_holds(other, T0)  # finished: nothing may be sent


def test_a_taken_over_lease_cannot_be_renewed_checked_or_released(store: Store) -> None:
    write(store, enrollment(30, due_at=T0), enrollment(31, due_at=T0))
    stale, kept = claim(store, "w1", T0)
    write(store, enrollment(30, due_at=T0))  # due again (as a lease that ran out is)
    (fresh,) = claim(store, "w2", T0 + timedelta(seconds=1))
    assert fresh.enrollment_id == 30 and fresh.seq == stale.seq + 1
    later = T0 + 2 * LEASE
    with store.unit_of_work() as uow:
        renewed = uow.renew_leases([stale, kept], later)
        assert not uow.release_lease(stale)
        uow.commit()
    assert [(lease.enrollment_id, lease.until) for lease in renewed] == [(31, later)]
    with reading(store) as uow:
        assert not uow.lease_holds(stale, T0)
        assert uow.lease_holds(fresh, T0 + LEASE)
        assert uow.lease_holds(renewed[0], later - timedelta(seconds=1))
        assert uow.next_due_at() == fresh.until  # the renewal moved only 31, to `later`


def test_a_released_lease_is_over(store: Store) -> None:
    write(store, enrollment(30, due_at=T0))
    (lease,) = claim(store, "w1", T0)
    with store.unit_of_work() as uow:
        assert uow.release_lease(lease)
        assert not uow.release_lease(lease)  # once
        assert uow.renew_leases([lease], T0 + H) == []
        uow.commit()
    with reading(store) as uow:
        assert not uow.lease_holds(lease, T0)


def test_leases_ended_by_the_transaction_that_took_them_are_over(store: Store) -> None:
    write(store, enrollment(30, due_at=T0), enrollment(31, due_at=T0), enrollment(32, due_at=T0))
    with store.unit_of_work() as uow:
        taken = uow.claim_due("w1", T0, T0 + LEASE, 10)
        for e, _ in taken:
            uow.save_enrollment(e)
        uow.end_leases([lease for e, lease in taken if e.id != 31])
        uow.end_leases([])
        uow.commit()
    with reading(store) as uow:
        assert [uow.lease_holds(lease, T0) for _, lease in taken] == [False, True, False]
        assert [e.due_at for e in uow.due_enrollments(T0 + LEASE, 10)] == [T0 + LEASE] * 3


def test_saving_an_enrollment_keeps_its_claim(store: Store) -> None:
    write(store, enrollment(30, due_at=T0))
    (lease,) = claim(store, "w1", T0)
    write(store, enrollment(30, due_at=T0 + LEASE))  # e.g. an HTTP finish of the same row
    with reading(store) as uow:
        assert uow.lease_holds(lease, T0)


def test_two_workers_claiming_at_once_never_share_a_row(store: Store) -> None:
    write(store, *(enrollment(30 + i, due_at=T0) for i in range(40)))
    taken: dict[str, list[Lease]] = {}
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        start.wait()
        got: list[Lease] = []
        while batch := claim(store, name, T0, limit=3):
            got += batch
        taken[name] = got

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [lease.enrollment_id for leases in taken.values() for lease in leases]
    assert sorted(claimed) == list(range(30, 70))  # each once
