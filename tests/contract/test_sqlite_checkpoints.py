"""SqliteStore's WAL checkpoints (engine/adapters/storage/sqlite.py, Checkpoints): its
connections never checkpoint inside a COMMIT; the writer whose commit takes the rows
written past `checkpoint_rows` checkpoints once it released the write lock, and a
write batch's leader once it answered its batch. What a checkpoint moved is seen in
a copy of the database file alone, without its WAL."""

import shutil
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from contract_samples import wait_until

from engine.adapters.clocks import SimulatedClock
from engine.adapters.storage.sqlite import SqliteStore
from engine.adapters.storage.sqlite_unit import SqliteUnitOfWork
from engine.adapters.storage.write_batch import WriteBatcher
from engine.runtime.bootstrap import build


def checkpointed(path: Path, tmp_path: Path, table: str = "accounts") -> int:
    """Rows of `table` in the database file itself (what checkpoints moved out of the
    WAL), read from a copy of the file alone."""
    copy = tmp_path / "file-alone.db"
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:  # not even the schema was checkpointed
        return 0
    finally:
        conn.close()


def test_no_checkpoint_inside_a_commit_and_one_past_the_threshold(tmp_path: Path) -> None:
    """1,500 commits leave SQLite's own threshold (1000 WAL pages) far behind and stay in
    the WAL; the commit that takes the count past `checkpoint_rows` moves them all."""
    path = tmp_path / "db.sqlite"
    store = SqliteStore(str(path), checkpoint_rows=10**9)
    engine = build(store, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    try:
        for n in range(1500):
            engine.create_account(f"a{n}")
        assert checkpointed(path, tmp_path) == 0
        store.checkpoint_rows = 1
        engine.create_account("past the threshold")
        assert checkpointed(path, tmp_path) == 1501
    finally:
        store.close()


def test_reads_and_rollbacks_count_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = SqliteStore(str(path), checkpoint_rows=1)
    engine = build(store, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    try:
        account = engine.create_account("first").id  # checkpointed
        written = store._written
        with store.unit_of_work(read_only=True) as uow:
            uow.get_account(account)
            uow.commit()
        with store.unit_of_work() as uow:  # left without commit: rolled back
            uow.get_account(account)
        assert store._written == written and not store._checkpoint_due
    finally:
        store.close()


def test_a_batch_leader_checkpoints_after_answering_its_batch(tmp_path: Path) -> None:
    """A batch of two: the leader's checkpoint runs on its own thread, after the other
    job has its answer, and moves both writes into the database file."""
    path = tmp_path / "db.sqlite"
    store = SqliteStore(str(path), checkpoint_rows=1)
    engine = build(store, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    engine.create_account("batched")  # a commit of its own: checkpointed
    queued, blocked, answered = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[str, bool]] = []

    first_done = threading.Event()

    def after_batch() -> None:
        leader = threading.current_thread().name
        if leader == "second":  # (a checkpoint running already would make it skip)
            assert first_done.wait(5)
        store.checkpoint_if_due()
        first_done.set()
        # the second batch's leader: had "third" not been woken first, it would wait here
        # 5 s in vain
        seen.append((leader, leader == "second" and answered.wait(5)))

    store._batcher = WriteBatcher(lambda: SqliteUnitOfWork(store, checkpoints=False),
                                  after_batch=after_batch)

    def add(name: str) -> Any:
        def work(uow: SqliteUnitOfWork) -> int:
            if name == "first":  # leads a batch of its own until the others queue
                blocked.set()
                assert queued.wait(5)
            return uow.next_id(name)  # a row of its own in id_allocator
        return work

    results: dict[str, int] = {}

    def run(name: str) -> None:
        results[name] = store.run_batched(add(name))
        if name == "third":
            answered.set()

    threads = {name: threading.Thread(target=run, args=(name,), name=name)
               for name in ("first", "second", "third")}
    try:
        threads["first"].start()
        assert blocked.wait(5)
        threads["second"].start()  # the first took its batch: the queue was empty
        wait_until(lambda: len(store._batcher._queue) == 1, "second queues")
        threads["third"].start()
        wait_until(lambda: len(store._batcher._queue) == 2, "third queues")
        queued.set()
        for thread in threads.values():
            thread.join(5)
        assert sorted(results) == ["first", "second", "third"]
        # "second" led the batch of second and third, and checkpointed once third had
        # its answer: every job's row is in the database file
        assert sorted(seen) == [("first", False), ("second", True)]
        jobs_rows = "id_allocator WHERE kind IN ('first', 'second', 'third')"
        assert checkpointed(path, tmp_path, jobs_rows) == 3
    finally:
        store.close()


def test_a_store_needs_a_positive_checkpoint_threshold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="checkpoint_rows"):
        SqliteStore(str(tmp_path / "db.sqlite"), checkpoint_rows=0)
