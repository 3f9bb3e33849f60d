"""examples/host_backend end to end: the engine embedded as a library, the host's own
emails and tasks in its own tables, both ports implemented by the host."""

import time
from datetime import UTC, datetime
from pathlib import Path

from engine import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EnrollmentState,
    FinishedReason,
    SimulatedClock,
    Step,
    SystemClock,
)
from engine.runtime.scheduler import Scheduler
from examples.host_backend.host import HostBackend

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STEPS = [
    Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 101, False),
    Step(1, 2, DelayUnit.HOURS, ActionType.TASK, task_content="Call the lead"),
    Step(2, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 102, True),
]


def test_the_host_gets_each_email_and_task_once_and_its_events_drive_the_sequence(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock(MONDAY)
    host = HostBackend(str(tmp_path / "crm.db"), clock)
    try:
        engine = host.engine
        account = engine.create_account("Acme").id
        rep = engine.create_user(account).id
        sequence = engine.create_sequence(account, name="s", creator_id=rep, steps=STEPS).id
        called, ignored = (engine.enroll(account, sequence_id=sequence, resource_type="lead",
                                         resource_id=lead, actor_id=rep).enrollment.id
                           for lead in (1, 2))
        engine.advance(seconds=60)
        assert host.emails() == [(f"{called}:0:0", called, 101), (f"{ignored}:0:0", ignored, 101)]
        assert host.tasks() == []
        engine.advance(seconds=3 * 3600)
        tasks = host.tasks()
        assert [(t.enrollment_id, t.position, t.content, t.status) for t in tasks] == [
            (called, 1, "Call the lead", "open"), (ignored, 1, "Call the lead", "open")]
        step = engine.get_enrollment(account, called).enrollment.actions[1]
        assert step.status is ActionStatus.IN_PROGRESS and step.task_id == tasks[0].id
        engine.advance(seconds=3 * 86400)  # nothing moves while the tasks are open
        assert len(host.emails()) == 2 and len(host.tasks()) == 2

        host.complete_task(tasks[0].id)
        host.complete_task(tasks[0].id)  # reported twice: the second changes nothing
        moved = engine.get_enrollment(account, called).enrollment
        assert moved.actions[1].status is ActionStatus.COMPLETED
        assert moved.current_step_position == 2
        engine.advance(seconds=2 * 86400)
        assert host.emails()[-1] == (f"{called}:2:0", called, 102)
        done = engine.get_enrollment(account, called).enrollment
        assert done.state is EnrollmentState.FINISHED
        assert done.finished_reason is FinishedReason.ALL_STEPS_COMPLETED

        host.delete_task(tasks[1].id)
        gone = engine.get_enrollment(account, ignored).enrollment
        assert gone.finished_reason is FinishedReason.TASK_DELETED
        assert [t.status for t in host.tasks()] == ["done", "deleted"]
        engine.advance(seconds=7 * 86400)
        assert len(host.emails()) == 3  # no email for the finished one
    finally:
        host.close()


def test_two_scheduler_workers_give_the_host_every_email_and_task_once(tmp_path: Path) -> None:
    """The same host on the system clock, with two scheduler workers of two threads
    each: due work reaches the host exactly once, with no lock across a delivery."""
    host = HostBackend(str(tmp_path / "busy.db"), SystemClock())
    schedulers = [Scheduler(host.engine, concurrency=2, max_idle=0.05) for _ in range(2)]
    try:
        engine = host.engine
        account = engine.create_account("Acme").id
        rep = engine.create_user(account, daily_email_limit=1000).id
        now = [Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 101, False),
               Step(1, 0, DelayUnit.HOURS, ActionType.TASK, task_content="Call")]
        sequence = engine.create_sequence(account, name="now", creator_id=rep, steps=now).id
        for lead in range(1, 41):
            engine.enroll(account, sequence_id=sequence, resource_type="lead",
                          resource_id=lead, actor_id=rep)
        for scheduler in schedulers:
            scheduler.start()
        deadline = time.monotonic() + 60
        while len(host.tasks()) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)  # real workers on the system clock: wait for them
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    try:
        keys = [key for key, _, _ in host.emails()]
        assert len(keys) == len(set(keys)) == 40
        tasks = host.tasks()
        assert len(tasks) == 40 and len({t.enrollment_id for t in tasks}) == 40
        for task in tasks:
            action = engine.get_enrollment(account, task.enrollment_id).enrollment.actions[1]
            assert action.task_id == task.id and action.status is ActionStatus.IN_PROGRESS
    finally:
        host.close()
