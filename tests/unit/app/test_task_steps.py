"""A task and its step never disagree (semantics.md 6; issue 7, items 10 and 11)."""

from datetime import UTC, datetime, timedelta

import pytest
from world import TUESDAY, World, email, task

from engine import ActionStatus, DelayUnit, EnrollmentState, TaskCompleted
from engine.errors import ValidationFailed
from engine.timeline import calendar_for, plan, task_overdue

A = ActionStatus


def overdue_pair(w: World, enrollment_id: int) -> tuple[bool, bool]:
    """(the step's overdue, the task's overdue) as the reader sees them now."""
    view = w.get(enrollment_id)
    (found,) = w.engine.list_tasks(w.account)
    owner = w.engine.get_user(found.owner_id).calendar
    task_late = not found.completed and task_overdue(w.engine.clock.now(), found.due_date, owner)
    return view.overdue_position == view.enrollment.current_step_position, task_late


def test_moving_the_due_date_moves_the_step_and_replans_the_next_ones() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(task(0, 0), email(1, 1, DelayUnit.WEEKDAYS)))
    w.engine.advance(seconds=1)
    (created,) = w.engine.list_tasks(w.account)
    later = datetime(2020, 12, 22, 15, 0, tzinfo=UTC)  # a week on, a Tuesday
    w.engine.update_task(w.account, created.id, due_date=later)
    e = w.get(enrollment_id).enrollment
    assert e.actions[0].status is A.IN_PROGRESS
    assert e.actions[0].estimated_execute_at == later
    assert e.actions[1].estimated_execute_at == datetime(2020, 12, 23, 15, 0, tzinfo=UTC)
    # The next day the task is not overdue, and neither is the step.
    w.engine.advance(to=datetime(2020, 12, 17, 12, tzinfo=UTC))
    assert overdue_pair(w, enrollment_id) == (False, False)
    w.engine.advance(to=datetime(2020, 12, 23, 0, 0, 1, tzinfo=UTC))
    assert overdue_pair(w, enrollment_id) == (True, True)


def test_overdue_of_a_task_step_follows_the_task_owner_calendar() -> None:
    w = World()  # the actor is on UTC
    enrollment_id = w.enroll(w.sequence(task(0, 0)))
    w.engine.advance(seconds=1)
    (created,) = w.engine.list_tasks(w.account)
    tokyo = w.engine.create_user(w.account, time_zone="Asia/Tokyo").id
    w.engine.update_task(w.account, created.id, owner_id=tokyo)
    # Due Tuesday 19:58Z, which is Wednesday 04:58 in Tokyo: the UTC day ends at
    # 00:00Z, Tokyo's Wednesday only at 15:00Z.
    w.engine.advance(to=datetime(2020, 12, 16, 0, 0, 1, tzinfo=UTC))
    assert overdue_pair(w, enrollment_id) == (False, False)  # on UTC the step would be late
    w.engine.advance(to=datetime(2020, 12, 16, 15, 0, 1, tzinfo=UTC))
    assert overdue_pair(w, enrollment_id) == (True, True)


def test_moving_the_due_date_of_a_task_whose_step_is_done_changes_no_enrollment() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(task(0, 0), email(1, 1)))
    w.engine.advance(seconds=1)
    (created,) = w.engine.list_tasks(w.account)
    w.engine.handle(w.account, TaskCompleted(created.id))
    before = w.get(enrollment_id).enrollment
    planned = before.actions[1].estimated_execute_at
    w.engine.update_task(w.account, created.id, due_date=TUESDAY + timedelta(days=30))
    after = w.get(enrollment_id).enrollment
    assert after.actions[1].estimated_execute_at == planned
    assert after.actions[0].estimated_execute_at is None


def test_a_task_that_moved_its_enrollment_on_cannot_be_reopened() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(task(0, 0), email(1, 1)))
    w.engine.advance(seconds=1)
    (created,) = w.engine.list_tasks(w.account)
    w.engine.update_task(w.account, created.id, completed=True)
    with pytest.raises(ValidationFailed) as refused:
        w.engine.update_task(w.account, created.id, completed=False, content="again")
    (detail,) = refused.value.errors
    assert detail.field == "/data/completed"
    assert "cannot be reopened" in detail.message
    assert w.engine.get_task(w.account, created.id).completed
    assert w.engine.get_task(w.account, created.id).content == "call"  # nothing changed
    assert w.get(enrollment_id).enrollment.actions[0].status is A.COMPLETED
    # Completing it again is a no-op that succeeds.
    assert w.engine.update_task(w.account, created.id, completed=True).completed


def test_the_last_task_that_finished_its_enrollment_cannot_be_reopened() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(task(0, 0)))
    w.engine.advance(seconds=1)
    (created,) = w.engine.list_tasks(w.account)
    w.engine.update_task(w.account, created.id, completed=True)
    assert w.get(enrollment_id).enrollment.state is EnrollmentState.FINISHED
    with pytest.raises(ValidationFailed):
        w.engine.update_task(w.account, created.id, completed=False)


def test_a_task_of_a_finished_enrollment_is_edited_like_any_task() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(task(0, 0), email(1, 1)))
    w.engine.advance(seconds=1)
    (created,) = w.engine.list_tasks(w.account)
    w.engine.update_enrollment_state(w.account, enrollment_id, "finished", actor_id=w.actor)
    finished = w.get(enrollment_id).enrollment
    moved = TUESDAY + timedelta(days=3)
    w.engine.update_task(w.account, created.id, completed=True, due_date=moved)
    reopened = w.engine.update_task(w.account, created.id, completed=False)
    assert (reopened.completed, reopened.completed_at, reopened.due_date) == (False, None, moved)
    after = w.get(enrollment_id).enrollment
    assert after == finished
    assert [a.status for a in after.actions] == [A.CANCELLED, A.CANCELLED]


def test_the_step_plan_of_a_moved_task_uses_the_actor_calendar_for_the_next_steps() -> None:
    w = World(time_zone="Europe/Warsaw", holidays="PL")
    enrollment_id = w.enroll(w.sequence(task(0, 0), email(1, 2)))
    w.engine.advance(seconds=1)
    (created,) = w.engine.list_tasks(w.account)
    moved = datetime(2020, 12, 23, 9, tzinfo=UTC)  # Wednesday; Christmas follows
    w.engine.update_task(w.account, created.id, due_date=moved)
    calendar = calendar_for("Europe/Warsaw", "PL")
    e = w.get(enrollment_id).enrollment
    assert e.actions[1].estimated_execute_at == plan(moved, 2, DelayUnit.WEEKDAYS, calendar)
    assert e.actions[1].estimated_execute_at == datetime(2020, 12, 28, 9, tzinfo=UTC)
