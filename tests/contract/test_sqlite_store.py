"""SQLite only: transactions, durability, concurrent writers, migrations, errors, plans."""

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from contract_samples import (
    STEPS,
    T0,
    account,
    enrollment,
    message,
    reading,
    sequence,
    write,
)

from engine.adapters.clocks import SimulatedClock
from engine.adapters.storage import sqlite_database
from engine.adapters.storage.errors import StorageError
from engine.adapters.storage.named_sql import Migration
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.ports import Page
from engine.runtime.bootstrap import build
from engine.wire import sequence_data


def raw(path: str) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def rows(path: str, sql: str) -> list[tuple[object, ...]]:
    conn = raw(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# -- transactions ---------------------------------------------------------------------


def test_leaving_without_commit_writes_nothing(sqlite_store: SqliteStore) -> None:
    with sqlite_store.unit_of_work() as uow:
        assert uow.next_id("enrollment") == 1
        uow.save_account(account())
        uow.save_enrollment(enrollment(due_at=T0))
        uow.add_outbox_message(message("30:0:0"))
    with reading(sqlite_store) as uow:
        assert uow.get_account(1) is None
        assert uow.get_enrollment(1, 30) is None
        assert uow.next_due_at() is None
        assert uow.list_outbox(1, Page()) == []
        assert uow.next_id("enrollment") == 1


def test_an_exception_rolls_back_and_propagates(sqlite_store: SqliteStore) -> None:
    with pytest.raises(ZeroDivisionError), sqlite_store.unit_of_work() as uow:
        uow.save_account(account())
        _ = 1 / 0
    with reading(sqlite_store) as uow:
        assert uow.get_account(1) is None


def test_work_after_a_commit_is_a_new_transaction(sqlite_store: SqliteStore) -> None:
    with sqlite_store.unit_of_work() as uow:
        uow.save_account(account(1))
        uow.commit()
        uow.save_account(account(2))
    with reading(sqlite_store) as uow:
        assert uow.get_account(1) == account(1)
        assert uow.get_account(2) is None


def test_a_due_claim_that_is_not_committed_leaves_the_work_due(
    sqlite_store: SqliteStore,
) -> None:
    write(sqlite_store, enrollment(30, due_at=T0))
    with sqlite_store.unit_of_work() as uow:
        ((claimed, lease),) = uow.claim_due("w1", T0, T0 + timedelta(minutes=5), 10)
        uow.save_enrollment(claimed)
    with reading(sqlite_store) as uow:
        assert [e.id for e in uow.due_enrollments(T0, 10)] == [30]
        assert not uow.lease_holds(lease, T0)


def test_step_lists_added_by_a_rolled_back_unit_are_forgotten(
    sqlite_store: SqliteStore,
) -> None:
    with sqlite_store.unit_of_work() as uow:
        uow.save_sequence(sequence())
    write(sqlite_store, enrollment())  # the same steps: must be stored again, not assumed
    with reading(sqlite_store) as uow:
        assert uow.get_enrollment(1, 30) == enrollment()


def test_steps_are_stored_once_and_shared(sqlite_store: SqliteStore) -> None:
    write(sqlite_store, sequence(), enrollment(30), enrollment(31))
    assert rows(sqlite_store.path, "SELECT count(*) FROM step_lists") == [(1,)]
    with reading(sqlite_store) as uow:
        first, second = uow.get_enrollment(1, 30), uow.get_enrollment(1, 31)
    assert first is not None and second is not None and first.steps is second.steps


def test_a_unit_of_work_cannot_nest_on_one_thread(sqlite_store: SqliteStore) -> None:
    with sqlite_store.unit_of_work(), pytest.raises(RuntimeError, match="already open"):
        sqlite_store.unit_of_work().__enter__()
    with reading(sqlite_store) as uow:  # and the thread is free again afterwards
        assert uow.get_account(1) is None


def test_a_unit_of_work_outside_its_block_refuses(sqlite_store: SqliteStore) -> None:
    with pytest.raises(RuntimeError, match="with"):
        sqlite_store.unit_of_work().get_account(1)


def test_read_only_units_read_beside_a_writer_and_refuse_writes(
    sqlite_store: SqliteStore,
) -> None:
    write(sqlite_store, account())
    seen: list[object] = []
    with sqlite_store.unit_of_work() as writer:
        writer.save_account(account(1, "renamed"))  # holds the write lock, not committed

        def read() -> None:
            with sqlite_store.unit_of_work(read_only=True) as uow:
                seen.append(uow.get_account(1))
                with pytest.raises(RuntimeError, match="read-only"):
                    uow.save_account(account(2))

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=5)
        writer.commit()
    assert seen == [account()]


# -- durability, migrations ------------------------------------------------------------


def test_a_restart_loses_nothing_committed(tmp_path: Path) -> None:
    path = str(tmp_path / "durable.db")
    with SqliteStore(path) as store:
        write(store, account(), sequence(), enrollment(due_at=T0))
        with store.unit_of_work() as uow:
            assert uow.next_id("enrollment") == 31
            uow.add_outbox_message(message("30:0:0"))
            uow.commit()
    with SqliteStore(f"sqlite:///{path}") as store, reading(store) as uow:
        assert uow.get_account(1) == account()
        assert uow.get_sequence(1, 20) == sequence()
        assert uow.get_enrollment(1, 30) == enrollment(due_at=T0)
        assert uow.next_due_at() == T0
        assert uow.list_outbox(1, Page()) == [message("30:0:0")]
        assert uow.next_id("enrollment") == 32


def test_migrating_again_is_harmless(sqlite_store: SqliteStore) -> None:
    write(sqlite_store, account())
    latest = len(sqlite_database.schema())
    assert sqlite_store.migrate() == latest
    assert sqlite_store.migrate() == latest
    assert rows(sqlite_store.path, "SELECT version FROM schema_version") == [
        (n,) for n in range(1, latest + 1)]
    with reading(sqlite_store) as uow:
        assert uow.get_account(1) == account()


def test_a_later_version_applies_only_its_new_steps(sqlite_store: SqliteStore) -> None:
    write(sqlite_store, account())
    shipped = sqlite_database.schema()
    n = len(shipped) + 1
    later = (*shipped,
             Migration(n, "add account notes", "ALTER TABLE accounts ADD COLUMN notes TEXT;\n"
                       "CREATE INDEX accounts_by_name ON accounts (name);"))
    conn = sqlite_database.connect(
        sqlite_store.path, busy_timeout=1, synchronous="NORMAL", wal_autocheckpoint=100
    )
    try:
        assert sqlite_database.migrate(conn, later) == n
        assert sqlite_database.migrate(conn, later) == n
    finally:
        conn.close()
    assert rows(sqlite_store.path, "SELECT version, description FROM schema_version")[-1] == (
        n, "add account notes")
    with reading(sqlite_store) as uow:
        assert uow.get_account(1) == account()


def test_a_database_newer_than_the_engine_is_refused(sqlite_store: SqliteStore) -> None:
    conn = raw(sqlite_store.path)
    conn.execute("INSERT INTO schema_version VALUES (99, 'from the future')")
    conn.close()
    with pytest.raises(StorageError, match="version 99"):
        sqlite_store.migrate()


def test_the_connection_is_set_up(sqlite_store: SqliteStore) -> None:
    conn = sqlite_store.acquire()
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 100
    finally:
        sqlite_store.release(conn)


def test_the_wal_autocheckpoint_is_the_store_s_choice(tmp_path: Path) -> None:
    with SqliteStore(str(tmp_path / "a.db"), wal_autocheckpoint=1000) as store:
        conn = store.acquire()
        try:
            assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        finally:
            store.release(conn)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "100"])
def test_a_bad_wal_autocheckpoint_is_refused_before_any_file(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ValueError, match="wal_autocheckpoint"):
        SqliteStore(str(tmp_path / "a.db"), wal_autocheckpoint=bad)  # type: ignore[arg-type]
    assert not (tmp_path / "a.db").exists()


@pytest.mark.parametrize("form", ["plain", "relative-url", "absolute-url"])
def test_paths_and_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    monkeypatch.chdir(tmp_path)
    given = {"plain": str(tmp_path / "a.db"), "relative-url": "sqlite:///a.db",
             "absolute-url": f"sqlite:///{tmp_path}/a.db"}[form]
    with SqliteStore(given) as store:
        write(store, account())
    assert (tmp_path / "a.db").exists()


@pytest.mark.parametrize("bad", [":memory:", "sqlite:///:memory:", "sqlite://host/x.db", ""])
def test_not_a_database_file(bad: str) -> None:
    with pytest.raises(ValueError):
        SqliteStore(bad)


# -- errors ---------------------------------------------------------------------------


def test_database_errors_become_storage_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as missing:
        SqliteStore(str(tmp_path / "no" / "such" / "dir.db"))
    assert (missing.value.status, missing.value.code) == (503, "storage_unavailable")
    assert isinstance(missing.value.__cause__, sqlite3.Error)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError):
        SqliteStore(str(garbage))


def test_a_lock_held_past_the_busy_timeout_is_a_storage_error(tmp_path: Path) -> None:
    path = str(tmp_path / "locked.db")
    with SqliteStore(path, busy_timeout=0.05) as store:
        other = raw(path)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StorageError, match="locked"), store.unit_of_work() as uow:
                uow.get_account(1)
            other.execute("ROLLBACK")
        finally:
            other.close()
        with reading(store) as uow:  # the pool recovered
            assert uow.get_account(1) is None


def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "closed.db"))
    store.close()
    store.close()
    with pytest.raises(StorageError, match="closed"), store.unit_of_work():
        pass


# -- concurrent writers -------------------------------------------------------------------


def _increment(store: SqliteStore, times: int) -> None:
    for _ in range(times):
        with store.unit_of_work() as uow:
            e = uow.get_enrollment(1, 30)
            assert e is not None
            time.sleep(0)  # let the other writer run between our read and our write
            e.actions[0].attempts += 1
            uow.save_enrollment(e)
            uow.add_send("actor", 10, T0.date())
            uow.commit()


def _race(stores: list[SqliteStore], times: int) -> None:
    errors: list[BaseException] = []

    def run(store: SqliteStore) -> None:
        try:
            _increment(store, times)
        except BaseException as error:  # reported below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []


@pytest.mark.parametrize("stores", ["one store, two threads", "two stores (as two processes)"])
def test_concurrent_read_modify_write_never_loses_an_update(tmp_path: Path, stores: str) -> None:
    path, times = str(tmp_path / "race.db"), 100
    first = SqliteStore(path)
    second = first if stores.startswith("one") else SqliteStore(path)
    try:
        write(first, enrollment(30))
        _race([first, second], times)
        with reading(first) as uow:
            e = uow.get_enrollment(1, 30)
            assert e is not None and e.actions[0].attempts == 2 * times
            assert uow.count_sends("actor", 10, T0.date()) == 2 * times
    finally:
        first.close()
        second.close()


# -- the indexes the scheduler relies on -------------------------------------------------------

PLANS: dict[str, tuple[str, Callable[[], dict[str, object]]]] = {
    "due_enrollments": ("enrollments_due", lambda: {"now": 0, "limit": 10}),
    "next_due_at": ("enrollments_due", dict),
    "count_due": ("enrollments_due", lambda: {"now": 0}),
    "claim_due": ("enrollments_due", lambda: {"now": 0, "limit": 10, "worker": "w",
                                              "until": 1}),
    "ongoing_for_resource": ("enrollments_ongoing", lambda: {
        "account_id": 1, "resource_type": "lead", "resource_id": 7, "sequence_ids": None,
        "actor_id": None}),
    "list_enrollments by id asc": ("enrollments_by_account", lambda: LIST_ENROLLMENTS),
    "list_enrollments by id desc": ("enrollments_by_account", lambda: LIST_ENROLLMENTS),
}
LIST_ENROLLMENTS = {"account_id": 1, "ids": None, "resource_ids": None, "resource_type": None,
                    "sequence_id": None, "state": None, "limit": 25, "offset": 0}


@pytest.mark.parametrize("name", list(PLANS))
def test_queries_use_their_index(sqlite_store: SqliteStore, name: str) -> None:
    index, params = PLANS[name]
    conn = sqlite_store.acquire()
    try:
        plan = conn.execute("EXPLAIN QUERY PLAN " + sqlite_store.sql[name], params()).fetchall()
    finally:
        sqlite_store.release(conn)
    details = " | ".join(str(row["detail"]) for row in plan)
    assert f"INDEX {index}" in details, details
    assert "SCAN e " not in details + " ", details
    assert "TEMP B-TREE" not in details, details  # a page by id is read off the index


WORKER = """
import sys
from engine.adapters.storage.sqlite import SqliteStore
from test_sqlite_store import _increment
with SqliteStore(sys.argv[1]) as store:
    _increment(store, int(sys.argv[2]))
"""


def test_two_processes_never_lose_an_update(tmp_path: Path) -> None:
    path, times = str(tmp_path / "processes.db"), 50
    with SqliteStore(path) as store:
        write(store, enrollment(30))
    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent.parent), str(here)])}
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, path, str(times)], env=env,
                         stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=60)
        assert worker.returncode == 0, stderr.decode()
    with SqliteStore(path) as store, reading(store) as uow:
        e = uow.get_enrollment(1, 30)
        assert e is not None and e.actions[0].attempts == 2 * times


def test_step_ids_survive_a_restart(tmp_path: Path) -> None:
    """Step ids are derived from the sequence id and position: the same after the
    database is reopened, and after an edit wherever a position survives."""
    def step_ids(store: SqliteStore, sequence_id: int) -> list[int]:
        engine = build(store, SimulatedClock(T0))
        items = sequence_data(engine.get_sequence(1, sequence_id))["steps"]["items"]
        return [item["data"]["id"] for item in items]

    path = str(tmp_path / "restart.db")
    with SqliteStore(path) as store:
        engine = build(store, SimulatedClock(T0))
        engine.create_account("acme", account_id=1)
        engine.create_user(1, user_id=10)
        made = engine.create_sequence(1, name="s", steps=STEPS, creator_id=10).id
        before = step_ids(store, made)
    with SqliteStore(path) as store:
        assert step_ids(store, made) == before == [made * 1000, made * 1000 + 1, made * 1000 + 2]
        build(store, SimulatedClock(T0)).update_sequence(1, made, steps=STEPS[:2])
    with SqliteStore(path) as store:
        assert step_ids(store, made) == before[:2]
