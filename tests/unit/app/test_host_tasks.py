"""The task port through the library: a host that keeps its own tasks gets each task
step's task under the lease (claim, deliver, record), and reports it done or
deleted by its step. On the memory store and on SQLite."""

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from world import TUESDAY, email, task

from engine import (
    ActionStatus,
    EnrollmentState,
    ExecutionPolicy,
    FinishedReason,
    SimulatedClock,
    TaskCompleted,
    TaskDeleted,
    build,
)
from engine.adapters.storage.memory import MemoryStore
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.execution import SKIPPED
from engine.app.observer import ExecutionObserver
from engine.app.ports import Store, TaskCreated, TaskRequest
from engine.app.service import SequenceEngine
from engine.errors import DeliveryError, NotFound, ValidationFailed

A, E = ActionStatus, EnrollmentState


class Host:
    """An in-process host: keeps its tasks by idempotency key, as a receiver must."""

    def __init__(self) -> None:
        self.tasks: dict[str, tuple[int, TaskRequest]] = {}
        self.calls: list[TaskRequest] = []
        self.failures = 0  # the next creations that fail transiently
        self.lock = threading.Lock()

    def create(self, request: TaskRequest, now: datetime) -> TaskCreated:
        with self.lock:
            self.calls.append(request)
            if self.failures:
                self.failures -= 1
                raise DeliveryError("host down")
            if now >= request.lease_expires_at:
                raise DeliveryError("arrived after its lease")
            known = self.tasks.get(request.idempotency_key)
            if known is None:
                known = self.tasks[request.idempotency_key] = (5000 + len(self.tasks), request)
            return TaskCreated(known[0])


class Counting(ExecutionObserver):
    def __init__(self) -> None:
        self.claims: list[tuple[str, bool, bool]] = []
        self.outcomes: list[tuple[str, str]] = []

    def claimed(self, kind: str, *, latency: float | None, retry: bool, redelivery: bool) -> None:
        self.claims.append((kind, retry, redelivery))

    def delivered(self, kind: str, outcome: str, reason: str | None = None) -> None:
        self.outcomes.append((kind, outcome))


class HostWorld:
    def __init__(self, store: Store) -> None:
        self.host, self.observer = Host(), Counting()
        self.clock = SimulatedClock(TUESDAY)
        self.engine: SequenceEngine = build(store, self.clock, tasks=self.host,
                                            observer=self.observer)
        self.account = self.engine.create_account("acme").id
        self.actor = self.engine.create_user(self.account).id
        self.sequence = self.engine.create_sequence(
            self.account, name="s", creator_id=self.actor,
            steps=[task(0, 2, content="call them"), email(1, 0)]).id

    def enroll(self, resource_id: int = 1) -> int:
        return self.engine.enroll(self.account, sequence_id=self.sequence, resource_type="lead",
                                  resource_id=resource_id, actor_id=self.actor).enrollment.id

    def enrollment(self, enrollment_id: int):  # type: ignore[no-untyped-def]
        return self.engine.get_enrollment(self.account, enrollment_id).enrollment


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HostWorld]:
    store: Store = MemoryStore() if request.param == "memory" else SqliteStore(
        str(tmp_path / "host.db"))
    yield HostWorld(store)
    store.close()


def test_the_host_creates_the_task_once_and_its_id_is_kept(world: HostWorld) -> None:
    enrollment_id = world.enroll()
    world.engine.advance(seconds=2 * 3600 + 1)
    (request,) = world.host.calls
    assert request.idempotency_key == f"{enrollment_id}:0:0"
    assert (request.content, request.actor_id, request.resource_id) == ("call them",
                                                                        world.actor, 1)
    assert request.due_date == TUESDAY + timedelta(hours=2)
    assert request.lease_expires_at == TUESDAY + timedelta(hours=2) + ExecutionPolicy().lease
    e = world.enrollment(enrollment_id)
    assert e.current_action.status is A.IN_PROGRESS and e.current_action.task_id == 5000
    assert e.due_at is None  # waits for the host's event, never claimed again
    world.engine.advance(seconds=86400)
    assert len(world.host.calls) == 1
    assert world.engine.list_tasks(world.account) == []  # the engine keeps none itself
    assert world.observer.outcomes == [("task", "created")]


def test_completing_the_hosts_task_moves_on_and_a_repeat_changes_nothing(
    world: HostWorld,
) -> None:
    enrollment_id = world.enroll()
    world.engine.advance(seconds=2 * 3600 + 1)
    done = TaskCompleted(enrollment_id=enrollment_id, position=0)
    assert world.engine.handle(world.account, done) == []
    e = world.enrollment(enrollment_id)
    assert e.actions[0].status is A.COMPLETED and e.current_step_position == 1
    assert e.actions[0].executed_at == world.clock.now().replace(microsecond=0)
    world.engine.handle(world.account, done)  # the host retried its report
    assert world.enrollment(enrollment_id) == e
    world.engine.advance(seconds=1)  # step 1, an email with no delay
    finished = world.enrollment(enrollment_id)
    assert finished.state is E.FINISHED
    assert finished.finished_reason is FinishedReason.ALL_STEPS_COMPLETED


def test_deleting_the_hosts_task_finishes_the_enrollment(world: HostWorld) -> None:
    enrollment_id = world.enroll()
    world.engine.advance(seconds=2 * 3600 + 1)
    (view,) = world.engine.handle(world.account,
                                  TaskDeleted(enrollment_id=enrollment_id, position=0))
    assert view.enrollment.finished_reason is FinishedReason.TASK_DELETED
    assert [a.status for a in world.enrollment(enrollment_id).actions] == [A.CANCELLED] * 2


def test_events_that_name_no_task_step_are_refused(world: HostWorld) -> None:
    enrollment_id = world.enroll()
    with pytest.raises(ValidationFailed, match="not a task step"):
        world.engine.handle(world.account, TaskCompleted(enrollment_id=enrollment_id,
                                                         position=1))
    with pytest.raises(ValidationFailed, match="not a task step"):
        world.engine.handle(world.account, TaskDeleted(enrollment_id=enrollment_id,
                                                       position=7))
    with pytest.raises(NotFound):
        world.engine.handle(world.account, TaskCompleted(enrollment_id=999, position=0))
    # a task not created yet: nothing to complete, nothing changes
    assert world.engine.handle(world.account, TaskCompleted(enrollment_id=enrollment_id,
                                                            position=0)) == []
    assert world.enrollment(enrollment_id).actions[0].status is A.SCHEDULED
    # the whole message, as a host reads it (kills events._name_the_task's "XX...XX")
    with pytest.raises(ValueError, match=r"^name the task by task_id, or by its step: "
                       r"enrollment_id and position$"):
        TaskCompleted(enrollment_id=enrollment_id)


def test_a_transient_failure_is_retried_with_the_same_key_and_never_blocks(
    world: HostWorld,
) -> None:
    enrollment_id = world.enroll()
    world.host.failures = 8  # past the email retry budget of 5
    world.engine.advance(seconds=2 * 3600 + 1)
    e = world.enrollment(enrollment_id)
    assert e.current_action.attempts == 1 and e.state is E.ACTIVE
    world.engine.advance(seconds=2 * 86400)
    e = world.enrollment(enrollment_id)
    assert e.current_action.task_id == 5000 and e.state is E.ACTIVE
    assert len(world.host.calls) == 9
    assert {r.idempotency_key for r in world.host.calls} == {f"{enrollment_id}:0:0"}
    assert world.observer.claims.count(("task", True, False)) == 8  # retries


def test_no_task_is_created_for_an_enrollment_finished_after_the_claim(
    world: HostWorld,
) -> None:
    enrollment_id = world.enroll()
    world.clock.set(TUESDAY + timedelta(hours=3))
    executor = world.engine.executor("w1")
    (claim,), _ = executor.claim(10)
    world.engine.update_enrollment_state(world.account, enrollment_id, "finished",
                                         actor_id=world.actor)
    assert executor.deliver(claim) is SKIPPED
    assert executor.record(claim, SKIPPED)
    assert world.host.calls == []
    e = world.enrollment(enrollment_id)
    assert e.actions[0].status is A.CANCELLED and e.due_at is None


def test_a_vanished_workers_task_is_redelivered_with_its_key_and_made_once(
    world: HostWorld,
) -> None:
    enrollment_id = world.enroll()
    world.clock.set(TUESDAY + timedelta(hours=3))
    dead = world.engine.executor("dead")
    (claim,), _ = dead.claim(10)
    assert dead.deliver(claim) == TaskCreated(5000)  # ... and it dies before recording
    world.clock.set(world.clock.now() + ExecutionPolicy().lease)
    assert world.engine.run_due() == 1
    assert [r.idempotency_key for r in world.host.calls] == [f"{enrollment_id}:0:0"] * 2
    assert len(world.host.tasks) == 1
    assert world.enrollment(enrollment_id).current_action.task_id == 5000
    assert world.observer.claims == [("task", False, False), ("task", False, True)]
    assert dead.record(claim, TaskCreated(5000)) is False  # its lease is gone


def test_the_engines_own_task_follows_a_step_named_event() -> None:
    """Without a task port the engine keeps the task; an event naming the step
    completes that task too, so task and step never disagree."""
    engine = build(MemoryStore(), SimulatedClock(TUESDAY))
    account = engine.create_account("a").id
    actor = engine.create_user(account).id
    sequence = engine.create_sequence(account, name="s", creator_id=actor,
                                      steps=[task(0, 0)]).id
    enrollment_id = engine.enroll(account, sequence_id=sequence, resource_type="lead",
                                  resource_id=1, actor_id=actor).enrollment.id
    engine.advance(seconds=1)
    (own,) = engine.list_tasks(account)
    (finished,) = engine.handle(account, TaskCompleted(enrollment_id=enrollment_id, position=0))
    assert finished.enrollment.finished_reason is FinishedReason.ALL_STEPS_COMPLETED
    assert engine.get_task(account, own.id).completed


def test_a_task_completed_before_its_creation_is_recorded_still_counts(
    world: HostWorld,
) -> None:
    enrollment_id = world.enroll()
    world.clock.set(TUESDAY + timedelta(hours=3))
    executor = world.engine.executor("w")
    (claim,), _ = executor.claim(10)
    created = executor.deliver(claim)
    world.engine.handle(world.account, TaskCompleted(enrollment_id=enrollment_id, position=0))
    assert executor.record(claim, created)
    e = world.enrollment(enrollment_id)
    assert e.actions[0].status is A.COMPLETED and e.actions[0].task_id == 5000
    assert e.current_step_position == 1
