"""SQLite's group commit (engine/adapters/storage/write_batch.py): concurrent creates
of one process share a transaction and its COMMIT, and still each get their own
answer; a job that fails is rolled back alone; a COMMIT that fails fails its whole
batch and keeps nothing; nobody hears of success before the COMMIT."""

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from contract_samples import wait_until

from engine.adapters.clocks import SimulatedClock
from engine.adapters.storage.errors import StorageError
from engine.adapters.storage.memory import MemoryStore
from engine.adapters.storage.sqlite import SqliteStore
from engine.adapters.storage.sqlite_unit import SqliteUnitOfWork
from engine.adapters.storage.write_batch import WriteBatcher
from engine.app import enrollments
from engine.app.service import SequenceEngine
from engine.domain.enums import ActionType, DelayUnit, ResourceType
from engine.domain.sequence import Step
from engine.errors import AlreadyExists, ValidationFailed
from engine.runtime.bootstrap import build

STEPS = [Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 1),
         Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 2)]


class World:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = SqliteStore(str(path))
        self.engine = build(self.store, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
        self.account = self.engine.create_account("batched").id
        self.actor = self.engine.create_user(self.account).id
        self.sequence = self.engine.create_sequence(
            self.account, name="s", steps=STEPS, creator_id=self.actor).id
        self.commits: list[str] = []

    def enroll(self, resource: int, sequence: int | None = None) -> int:
        view = self.engine.enroll(self.account, sequence_id=sequence or self.sequence,
                                  resource_type="lead", resource_id=resource,
                                  actor_id=self.actor)
        assert view.enrollment.resource_id == resource
        return view.enrollment.id

    def stored(self) -> dict[int, int]:
        """resource id -> enrollment id, as committed (read by a connection of its own)."""
        conn = sqlite3.connect(self.path)
        try:
            return dict(conn.execute("SELECT resource_id, id FROM enrollments").fetchall())
        finally:
            conn.close()

    def count_commits(self) -> None:
        acquire = self.store.acquire

        def traced() -> sqlite3.Connection:
            conn = acquire()
            conn.set_trace_callback(
                lambda text: self.commits.append(text) if text == "COMMIT" else None)
            return conn

        self.store.acquire = traced  # type: ignore[method-assign]

    def queued(self) -> int:
        return len(self.store._batcher._queue)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    found = World(tmp_path / "batch.db")
    yield found
    found.store.close()



class Queued:
    """Hands jobs to the store one at a time, each queued before the next is sent, while
    the test holds the store's write lock: the first leads (and waits for the lock),
    the rest wait in arrival order, and all of them form the next batch."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.pool = ThreadPoolExecutor(max_workers=16)
        self.futures: list[Any] = []
        world.store.write_lock.acquire()

    def send(self, work: Callable[[], Any], queued_after: int) -> None:
        self.futures.append(self.pool.submit(work))
        if queued_after == 0:  # the leader, once it has taken its own batch of one
            wait_until(lambda: self.world.store._batcher._leading
                       and self.world.queued() == 0, "the first job leads")
        else:
            wait_until(lambda: self.world.queued() >= queued_after, "the job is queued")

    def outcomes(self) -> list[Any]:
        self.world.store.write_lock.release()
        found = []
        for future in self.futures:
            error = future.exception(timeout=30)
            found.append(error if error is not None else future.result())
        self.pool.shutdown()
        return found


def test_concurrent_creates_each_get_their_own_enrollment(world: World) -> None:
    resources = range(1, 401)
    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(world.enroll, resources))
    assert sorted(ids) == list(range(1, 401))  # none lost, none twice, none skipped
    assert world.stored() == dict(zip(resources, ids, strict=True))


def test_a_batch_commits_once_and_a_refused_create_changes_nothing(world: World) -> None:
    world.count_commits()
    queue = Queued(world)
    queue.send(lambda: world.enroll(1), queued_after=0)  # leads: a batch of its own
    queue.send(lambda: world.enroll(2), queued_after=1)
    queue.send(lambda: world.enroll(2), queued_after=2)  # the one before holds resource 2
    queue.send(lambda: world.enroll(3, sequence=999), queued_after=3)  # no such sequence
    queue.send(lambda: world.enroll(4), queued_after=4)
    first, second, twice, unknown, fourth = queue.outcomes()
    assert (first, second, fourth) == (1, 2, 3)
    assert isinstance(twice, AlreadyExists)
    assert isinstance(unknown, ValidationFailed)
    assert world.commits == ["COMMIT", "COMMIT"]  # the leader's, then everyone else's
    assert world.stored() == {1: 1, 2: 2, 4: 3}


def test_a_job_that_fails_after_writing_is_rolled_back_alone(world: World) -> None:
    def create_then_fail(uow: SqliteUnitOfWork) -> None:
        account = uow.get_account(world.account)
        assert account is not None
        enrollments.create_enrollment(
            uow, world.engine.clock.now(), account, sequence_id=world.sequence,
            resource_type=ResourceType.LEAD, resource_id=2, actor_id=world.actor)
        raise RuntimeError("a bug after the insert")

    world.count_commits()
    queue = Queued(world)
    queue.send(lambda: world.enroll(1), queued_after=0)
    queue.send(lambda: world.enroll(3), queued_after=1)  # runs, is rolled back, runs again
    queue.send(lambda: world.store.run_batched(create_then_fail), queued_after=2)
    queue.send(lambda: world.enroll(3), queued_after=3)  # refused, in its savepoint
    queue.send(lambda: world.enroll(4), queued_after=4)
    first, third, failed, twice, fourth = queue.outcomes()
    assert isinstance(failed, RuntimeError) and str(failed) == "a bug after the insert"
    assert isinstance(twice, AlreadyExists)
    # the failed job's id was rolled back with its insert: the ids have no gap
    assert (first, third, fourth) == (1, 2, 3)
    assert world.stored() == {1: 1, 3: 2, 4: 3}
    assert world.commits == ["COMMIT", "COMMIT"]
    assert world.enroll(2) == 4  # and the store goes on as before


def test_a_job_that_fails_after_taking_an_id_leaves_no_gap(world: World) -> None:
    """An enrollment id is read once a transaction and counted on (sqlite_unit.py,
    _next_enrollment_id): a job that took one and failed has changed the count, so the
    batch runs again without it, and the next job gets that id."""
    def take_then_fail(uow: SqliteUnitOfWork) -> None:
        uow.next_id("enrollment")
        raise RuntimeError("a bug after the id")

    queue = Queued(world)
    queue.send(lambda: world.enroll(1), queued_after=0)
    queue.send(lambda: world.enroll(3), queued_after=1)
    queue.send(lambda: world.store.run_batched(take_then_fail), queued_after=2)
    queue.send(lambda: world.enroll(4), queued_after=3)
    first, third, failed, fourth = queue.outcomes()
    assert isinstance(failed, RuntimeError)
    assert (first, third, fourth) == (1, 2, 3)
    assert world.stored() == {1: 1, 3: 2, 4: 3}
    assert world.enroll(2) == 4


def test_a_failed_commit_fails_every_job_of_its_batch_and_keeps_nothing(
    world: World,
) -> None:
    def dangling(uow: SqliteUnitOfWork) -> None:
        """A foreign key checked at COMMIT (deferred), and broken: the COMMIT fails."""
        conn = uow._begin(True)
        conn.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute("UPDATE enrollments SET steps_id = 999 WHERE id = 1")

    queue = Queued(world)
    queue.send(lambda: world.enroll(1), queued_after=0)  # committed alone, first
    queue.send(lambda: world.enroll(2), queued_after=1)
    queue.send(lambda: world.store.run_batched(dangling), queued_after=2)
    queue.send(lambda: world.enroll(3), queued_after=3)
    first, second, broken, third = queue.outcomes()
    assert first == 1
    for failed in (second, broken, third):
        assert isinstance(failed, StorageError) and "FOREIGN KEY" in str(failed)
    assert len({id(second), id(broken), id(third)}) == 3  # each its own exception
    assert world.stored() == {1: 1}
    assert world.enroll(2) == 2  # nothing was kept, not even the ids


def test_nobody_hears_of_success_before_the_commit(world: World) -> None:
    """A create's answer waits for its batch's COMMIT: by the time a thread has its id,
    another connection (which sees only what is committed) finds the enrollment."""

    def enroll_and_look(resource: int) -> bool:
        enrollment_id = world.enroll(resource)
        return world.stored().get(resource) == enrollment_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(enroll_and_look, range(1, 41)))


def test_the_leader_hands_over_and_every_job_runs_once(world: World) -> None:
    """Batches of at most 3 under 12 threads: each job runs once and gets its own
    result, the ids it took rise with no gap, and the batches are many, small ones."""
    world.store._batcher = WriteBatcher(world.store.unit_of_work, max_batch=3)
    world.count_commits()

    def job(_: int) -> int:
        return world.store.run_batched(lambda uow: uow.next_id("counted"))

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(job, range(300)))
    assert sorted(results) == list(range(1, 301))
    assert 100 <= len(world.commits) <= 300


def test_a_batch_needs_room_for_one_job() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        WriteBatcher(lambda: None, max_batch=0)  # type: ignore[arg-type,return-value]


def test_one_engine_commit_callback_per_create(world: World) -> None:
    calls: list[int] = []
    engine = SequenceEngine(world.store, world.engine.clock, world.engine.delivery,
                            on_commit=lambda: calls.append(1))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda r: engine.enroll(world.account, sequence_id=world.sequence,
                                              resource_type="lead", resource_id=r,
                                              actor_id=world.actor), range(1, 25)))
    assert len(calls) == 24
    with pytest.raises(AlreadyExists):
        engine.enroll(world.account, sequence_id=world.sequence, resource_type="lead",
                      resource_id=1, actor_id=world.actor)
    assert len(calls) == 24


def test_a_store_without_batches_creates_in_a_transaction_of_its_own() -> None:
    """SequenceEngine._write's other branch: the in-memory store has no run_batched."""
    calls: list[int] = []
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    engine = build(MemoryStore(), clock, on_commit=lambda: calls.append(1))
    account = engine.create_account("plain").id
    actor = engine.create_user(account).id
    sequence = engine.create_sequence(account, name="s", steps=STEPS, creator_id=actor).id
    calls.clear()
    view = engine.enroll(account, sequence_id=sequence, resource_type="lead", resource_id=7,
                         actor_id=actor)
    assert (view.enrollment.id, view.enrollment.resource_id, calls) == (1, 7, [1])
    with pytest.raises(AlreadyExists):
        engine.enroll(account, sequence_id=sequence, resource_type="lead", resource_id=7,
                      actor_id=actor)
    assert calls == [1]  # a refused create commits nothing


CREATOR = """
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from engine.adapters.clocks import SimulatedClock
from engine.adapters.storage.sqlite import SqliteStore
from engine.errors import AlreadyExists
from engine.runtime.bootstrap import build

path, account, sequence, actor = sys.argv[1], *map(int, sys.argv[2:5])
store = SqliteStore(path)
engine = build(store, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))


def create(resource: int) -> str:
    try:
        engine.enroll(account, sequence_id=sequence, resource_type="lead",
                      resource_id=resource, actor_id=actor)
    except AlreadyExists:
        return "refused"
    return "created"


with ThreadPoolExecutor(max_workers=6) as pool:
    print(",".join(pool.map(create, range(1, 61))))
store.close()
"""


def test_two_processes_batching_creates_never_enroll_a_resource_twice(world: World) -> None:
    """Two processes, six threads each, both creating resources 1..60: each process
    batches its own creates, and BEGIN IMMEDIATE orders the batches of the two, so
    every resource gets exactly one enrollment and each is answered created once."""
    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent.parent), str(here)])}
    args = [str(world.path), str(world.account), str(world.sequence), str(world.actor)]
    workers = [subprocess.Popen([sys.executable, "-c", CREATOR, *args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    answers = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        answers.append(out.strip().split(","))
    for first, second in zip(*answers, strict=True):
        assert sorted([first, second]) == ["created", "refused"]
    stored = world.stored()
    assert sorted(stored) == list(range(1, 61))
    assert sorted(stored.values()) == list(range(1, 61))
