"""PostgreSQL only: transactions, locking (no lost updates at READ COMMITTED), errors.

Where a test checks that one transaction waits for another, it does not sleep:
it looks in pg_locks for the waiting session, then lets the first one commit.
"""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from contract_samples import T0, account, enrollment, message, reading, sequence, user, write
from contract_samples import wait_until as wait_until

from engine.adapters.storage.errors import StorageConflict, StorageError
from engine.adapters.storage.postgres import PostgresStore
from engine.app.ports import Page
from engine.domain.enums import ResourceType
from engine.runtime.settings import open_store


@pytest.fixture
def pg(pg_url: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_url) as store:
        yield store


def waiting_sessions(url: str) -> int:
    """How many sessions of this database wait for a lock right now."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a "
                           "ON a.pid = l.pid WHERE NOT l.granted AND a.datname = "
                           "current_database()").fetchone()
    assert row is not None
    return int(row[0])



class Background:
    """Runs `work` in a thread; `result()` joins it and re-raises what it raised."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.value: Any = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.value = work()
            except BaseException as error:  # re-raised in result()
                self.error = error

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def result(self) -> Any:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error
        return self.value


# -- transactions ---------------------------------------------------------------------


def test_leaving_without_commit_writes_nothing(pg: PostgresStore) -> None:
    with pg.unit_of_work() as uow:
        assert uow.next_id("enrollment") == 1
        uow.save_account(account())
        uow.save_enrollment(enrollment(due_at=T0))
        uow.add_outbox_message(message("30:0:0"))
    with reading(pg) as uow:
        assert uow.get_account(1) is None
        assert uow.next_due_at() is None
        assert uow.list_outbox(1, Page()) == []
        assert uow.next_id("enrollment") == 1


def test_a_rolled_back_step_list_is_stored_again(pg: PostgresStore) -> None:
    with pg.unit_of_work() as uow:
        uow.save_sequence(sequence())
    write(pg, enrollment())
    with reading(pg) as uow:
        assert uow.get_enrollment(1, 30) == enrollment()


def test_read_only_units_read_beside_a_writer_and_refuse_writes(pg: PostgresStore) -> None:
    write(pg, account())
    with pg.unit_of_work() as writer:
        writer.save_account(account(1, "renamed"))  # not committed: holds the row lock

        def read() -> object:
            with pg.unit_of_work(read_only=True) as uow:
                seen = uow.get_account(1)
                with pytest.raises(RuntimeError, match="read-only"):
                    uow.save_account(account(2))
                return seen

        assert Background(read).result() == account()
        writer.commit()


def test_a_read_only_unit_sees_one_snapshot(pg: PostgresStore) -> None:
    write(pg, account())
    with pg.unit_of_work(read_only=True) as uow:
        assert uow.get_account(1) == account()
        write(pg, account(1, "renamed"))
        assert uow.get_account(1) == account()  # REPEATABLE READ: as it was at the start


# -- no lost updates ---------------------------------------------------------------------


def _increment(store: PostgresStore, times: int) -> None:
    for _ in range(times):
        with store.unit_of_work() as uow:
            e = uow.get_enrollment(1, 30)
            assert e is not None
            time.sleep(0)  # let the other writer run between our read and our write
            e.actions[0].attempts += 1
            uow.save_enrollment(e)
            uow.add_send("actor", 10, T0.date())
            uow.commit()


@pytest.mark.parametrize("stores", ["one store, two threads", "two stores"])
def test_concurrent_read_modify_write_never_loses_an_update(pg_url: str, stores: str) -> None:
    times = 60
    first = PostgresStore(pg_url)
    second = first if stores.startswith("one") else PostgresStore(pg_url)
    try:
        write(first, enrollment(30))
        runs = [Background(lambda s=s: _increment(s, times)) for s in (first, second)]
        for run in runs:
            run.result()
        with reading(first) as uow:
            e = uow.get_enrollment(1, 30)
            assert e is not None and e.actions[0].attempts == 2 * times
            assert uow.count_sends("actor", 10, T0.date()) == 2 * times
    finally:
        first.close()
        second.close()


WORKER = """
import sys
from engine.adapters.storage.postgres import PostgresStore
from test_postgres_store import _increment
with PostgresStore(sys.argv[1]) as store:
    _increment(store, int(sys.argv[2]))
"""


def test_two_processes_never_lose_an_update(pg: PostgresStore, pg_url: str) -> None:
    times = 40
    write(pg, enrollment(30))
    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent.parent), str(here),
                                                        str(here.parent)])}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, pg_url, str(times)], env=env,
                                stderr=subprocess.PIPE) for _ in range(2)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()
    with reading(pg) as uow:
        e = uow.get_enrollment(1, 30)
        assert e is not None and e.actions[0].attempts == 2 * times


def test_a_second_create_for_one_resource_waits_and_sees_the_first(
    pg: PostgresStore, pg_url: str,
) -> None:
    lead = (ResourceType.LEAD, 7)
    with pg.unit_of_work() as first:
        assert first.ongoing_enrollments(1, resource=lead, sequence_ids=[20]) == []
        first.save_enrollment(enrollment(30))

        def second_check() -> list[int]:
            with pg.unit_of_work() as uow:
                return [e.id for e in uow.ongoing_enrollments(1, resource=lead,
                                                              sequence_ids=[20])]

        second = Background(second_check)
        wait_until(lambda: waiting_sessions(pg_url) == 1, "the second create waits")
        first.commit()
    assert second.result() == [30]


def test_a_chosen_id_and_an_allocated_one_never_collide(pg: PostgresStore, pg_url: str) -> None:
    with pg.unit_of_work() as uow:
        assert [uow.next_id("enrollment") for _ in range(4)] == [1, 2, 3, 4]
        uow.commit()
    with pg.unit_of_work() as chooser:
        assert chooser.id_taken("enrollment", 5) is False
        chooser.save_enrollment(enrollment(5))

        def allocate() -> int:
            with pg.unit_of_work() as uow:
                found = uow.next_id("enrollment")
                uow.commit()
                return found

        allocator = Background(allocate)
        wait_until(lambda: waiting_sessions(pg_url) == 1, "next_id waits for the chooser")
        chooser.commit()
    assert allocator.result() == 6


def test_two_callers_choosing_one_id_cannot_both_have_it(pg: PostgresStore, pg_url: str) -> None:
    with pg.unit_of_work() as first:
        assert first.id_taken("account", 50) is False
        first.save_account(account(50))

        def choose() -> bool:
            with pg.unit_of_work() as uow:
                return uow.id_taken("account", 50)

        second = Background(choose)
        wait_until(lambda: waiting_sessions(pg_url) == 1, "the second chooser waits")
        first.commit()
    assert second.result() is True


def test_a_limit_check_waits_for_the_send_that_may_reach_it(
    pg: PostgresStore, pg_url: str,
) -> None:
    day = T0.date()
    with pg.unit_of_work() as first:
        assert first.count_sends("actor", 10, day) == 0
        first.add_send("actor", 10, day)

        def count() -> int:
            with pg.unit_of_work() as uow:
                return uow.count_sends("actor", 10, day)

        second = Background(count)
        wait_until(lambda: waiting_sessions(pg_url) == 1, "the second count waits")
        first.commit()
    assert second.result() == 1


# -- errors -----------------------------------------------------------------------------


def test_a_lock_held_past_the_lock_timeout_is_a_conflict(pg_url: str) -> None:
    with PostgresStore(pg_url, lock_timeout=0.1) as store:
        write(store, enrollment(30))
        with store.unit_of_work() as holder:
            assert holder.get_enrollment(1, 30) is not None  # FOR UPDATE

            def take() -> object:
                with store.unit_of_work() as uow:
                    return uow.get_enrollment(1, 30)

            with pytest.raises(StorageConflict, match="lock timeout") as raised:
                Background(take).result()
        assert (raised.value.status, raised.value.code) == (503, "storage_conflict")
        assert isinstance(raised.value.__cause__, psycopg.errors.LockNotAvailable)
        with reading(store) as uow:  # the pool recovered
            assert uow.get_enrollment(1, 30) == enrollment(30)


def test_a_deadlock_is_a_conflict(pg: PostgresStore) -> None:
    write(pg, user(10), user(11))
    barrier = threading.Barrier(2, timeout=10)

    def rename(first: int, second: int) -> None:
        with pg.unit_of_work() as uow:
            one = uow.get_user(first)  # FOR SHARE
            barrier.wait()
            assert one is not None
            one.name = "x"
            uow.save_user(one)  # waits for the other's share lock: a deadlock
            uow.commit()

    runs = [Background(lambda: rename(10, 10)), Background(lambda: rename(10, 10))]
    outcomes = []
    for run in runs:
        try:
            run.result()
            outcomes.append("committed")
        except StorageConflict:
            outcomes.append("conflict")
    assert sorted(outcomes) == ["committed", "conflict"]


def test_unreachable_servers_and_closed_stores_are_storage_errors(pg_url: str) -> None:
    with pytest.raises(StorageError, match="connecting to PostgreSQL"):
        PostgresStore("postgresql://postgres@127.0.0.1:1/nothing", connect_timeout=2)
    store = PostgresStore(pg_url)
    store.close()
    store.close()
    with pytest.raises(StorageError, match="closed"), store.unit_of_work():
        pass


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_open_store_takes_postgres_urls(pg_url: str, scheme: str) -> None:
    store = open_store(pg_url.replace("postgresql", scheme, 1))
    try:
        assert isinstance(store, PostgresStore)
        write(store, account())
        with reading(store) as uow:
            assert uow.get_account(1) == account()
    finally:
        store.close()


@pytest.mark.parametrize("bad", ["Seq", "a-b", "x" * 60, ""])
def test_schema_names_are_checked(pg_url: str, bad: str) -> None:
    with pytest.raises(ValueError, match="schema name"):
        PostgresStore(pg_url, schema=bad)


# -- the indexes the scheduler relies on -------------------------------------------------

PLANS: dict[str, tuple[str, dict[str, object]]] = {
    "due_enrollments": ("enrollments_due", {"now": T0, "limit": 10}),
    "claim_due": ("enrollments_due", {"now": T0, "limit": 10, "worker": "w", "until": T0}),
    "ongoing_for_resource": ("enrollments_ongoing", {
        "account_id": 1, "resource_type": "lead", "resource_id": 7, "sequence_ids": None,
        "actor_id": None}),
}


@pytest.mark.parametrize("name", list(PLANS))
def test_queries_can_use_their_index(pg: PostgresStore, name: str) -> None:
    index, params = PLANS[name]
    conn = pg.acquire()
    try:
        conn.execute("BEGIN")
        conn.execute("SET LOCAL enable_seqscan = off")  # an empty table would be scanned
        plan = conn.execute(("EXPLAIN " + pg.sql_locked[name]).encode(), params).fetchall()
        conn.execute("ROLLBACK")
    finally:
        pg.release(conn)
    text = "\n".join(row[0] for row in plan)
    assert index in text, text
