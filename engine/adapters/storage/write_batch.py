"""Group commit: the concurrent writes of one process share one transaction and its COMMIT.

A SQLite commit writes every page the transaction changed to the WAL (the
enrollments table, its three indexes, the id allocator: one 4 KiB frame each),
and only one writer runs at a time anyway. So instead of queueing for the write
lock and committing one by one, writers hand their work (a function of a unit
of work) to a WriteBatcher. The first to arrive leads: it takes every job waiting
(its own among them, up to `max_batch`), runs them one after the other in one
transaction, commits once, then wakes each job's thread with its own outcome.
Jobs that arrive meanwhile wait for the next batch, which the first of them leads
(the leader hands over; it never serves for longer than one batch, so its own
answer is not held up by a steady stream of others).

Each job is isolated: one that raises (a refused command, a bug) gets its own
exception, changes nothing, and the others in its batch commit. A refused command
has changed nothing (use cases check everything before they change anything), so
jobs first run without savepoints and such a failure costs nothing; a job that
fails after changing something (the transaction's change count moved) has the
whole transaction rolled back, and the others run again, each in a savepoint
that is rolled back if it fails. So a job may run twice: it must act only
through its unit of work. Nobody gets an answer before the COMMIT
that makes their write durable; if that COMMIT (or anything outside a job)
fails, every job of the batch without an error of its own gets a StorageError
(nothing of theirs was kept). Jobs run in the order they arrived, so ids handed
out in a batch rise in that order and commit together.
"""

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, Protocol, TypeVar

from engine.adapters.storage.errors import StorageError

T = TypeVar("T")
MAX_BATCH = 64  # jobs per transaction: bounds the leader's wait and each job's latency


class Savepoints(Protocol):
    """What a batch needs of its unit of work: a savepoint around each job (one at a
    time: savepoint, then release or roll back to it)."""

    def write_mark(self) -> int | None:
        """Changes made so far (any count that moves with every change), beginning the
        write transaction if it has not begun; None if the database rolled it back."""
    def savepoint(self) -> None: ...
    def release_savepoint(self) -> None: ...
    def rollback_to_savepoint(self) -> None: ...
    def commit(self) -> None: ...


class Job(Generic[T]):
    """One caller's work, its outcome, and the lock its caller sleeps on until then."""

    __slots__ = ("_wake", "error", "lead", "result", "work")

    def __init__(self, work: Callable[[Any], T]) -> None:
        self.work = work
        self.result: T | None = None
        self.error: BaseException | None = None
        self.lead = False  # woken to lead the next batch, not with an outcome
        self._wake = threading.Lock()
        self._wake.acquire()

    def wait(self) -> None:
        self._wake.acquire()

    def wake(self) -> None:
        self._wake.release()

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class WriteBatcher:
    """`run(work)` as if in a transaction of its own, committed with whatever else is
    waiting. `open_unit` opens a write unit of work (a context manager) on the
    leader's thread."""

    def __init__(self, open_unit: Callable[[], AbstractContextManager[Savepoints]],
                 max_batch: int = MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("a write batch needs max_batch >= 1")
        self._open_unit, self.max_batch = open_unit, max_batch
        self._mutex = threading.Lock()
        self._queue: list[Job[Any]] = []
        self._leading = False

    def run(self, work: Callable[[Any], T]) -> T:
        job: Job[T] = Job(work)
        with self._mutex:
            self._queue.append(job)
            leads = not self._leading
            self._leading = True
        if not leads:
            job.wait()
            if not job.lead:
                return job.outcome()
        self._lead()
        return job.outcome()

    def _lead(self) -> None:
        """Run one batch, then hand over to the first job still waiting, or stand down.
        This thread's job is the batch's first: it found nobody leading (so nothing
        queued), or it was first in the queue when the leader before it handed over."""
        with self._mutex:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        try:
            self._run(batch)
        finally:
            with self._mutex:
                successor = self._queue[0] if self._queue else None
                self._leading = successor is not None
            if successor is not None:
                successor.lead = True
                successor.wake()
            for job in batch[1:]:
                job.wake()

    def _run(self, batch: list[Job[Any]]) -> None:
        isolate = False  # first try without savepoints: a job that fails mostly wrote nothing
        while True:
            try:
                with self._open_unit() as uow:
                    if not _attempt_all(batch, uow, isolate):
                        # a job failed after writing: roll everything back (leaving the
                        # unit without commit) and run the others again, each isolated
                        isolate = True
                        for job in batch:
                            job.result = None
                        if all(job.error is not None for job in batch):
                            return
                        continue
                    if any(job.error is None for job in batch):
                        uow.commit()
                    return  # (a unit left without commit rolls back)
            except BaseException as failure:  # nothing of this batch was kept
                for job in batch:
                    if job.error is None:
                        job.result = None
                        job.error = _shared(failure) if len(batch) > 1 else failure
                return


def _attempt_all(batch: list[Job[Any]], uow: Savepoints, isolate: bool) -> bool:
    """Run each job not failed yet; False when one failed after changing something
    (only without `isolate`: with it, each job runs in a savepoint and one that fails
    is rolled back to it)."""
    for job in batch:
        if job.error is not None:
            continue
        if isolate:
            uow.savepoint()
            if _attempt(job, uow):
                uow.release_savepoint()
            else:
                uow.rollback_to_savepoint()
            continue
        before = uow.write_mark()
        if before is None:  # never run a job outside the batch's transaction
            raise StorageError("the database rolled the batch's transaction back")
        if not _attempt(job, uow) and uow.write_mark() != before:
            return False
    return True


def _attempt(job: Job[Any], uow: Savepoints) -> bool:
    try:
        job.result = job.work(uow)
    except BaseException as error:
        job.error = error
        return False
    return True


def _shared(failure: BaseException) -> BaseException:
    """The batch's failure as one job's own exception (never one object raised on
    several threads at once)."""
    if isinstance(failure, StorageError):
        copy = StorageError(str(failure))
        copy.__cause__ = failure
        return copy
    return failure
