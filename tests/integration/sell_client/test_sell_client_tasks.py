"""Sequences and tasks through SellClient, against our own server."""

from datetime import UTC, datetime

import pytest
from http_world import EMAIL_STEPS, TASK_STEPS

from engine import ActionStatus, ActionType, DelayUnit, EnrollmentState, FinishedReason, Step
from engine.adapters.sell import RemoteTask, SellNotFound, SellValidationError

DUE = datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)  # step 0's instant: the task is made
NOW_PLUS_1 = datetime(2020, 12, 15, 19, 58, 54, tzinfo=UTC)  # after advance(1)


def test_sequences_with_their_steps(world, sell):
    ids = [world.sequence(name=f"S{n}") for n in range(5)]
    world.sequence(TASK_STEPS, name="Tasks")
    page = sell.list_sequences(per_page=2)
    assert [s.name for s in page] == ["S0", "S1"] and page.next_page == 2
    every = list(sell.iter_sequences(per_page=2))
    assert [s.name for s in every] == ["S0", "S1", "S2", "S3", "S4", "Tasks"]
    one = sell.get_sequence(ids[0])
    assert one == every[0]
    assert one.steps_total == len(EMAIL_STEPS) == len(one.steps or ())
    assert every[-1].steps == (
        Step(0, 0, DelayUnit.HOURS, ActionType.TASK, task_content="Call them"),
        Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 7, True),
    )
    with pytest.raises(SellNotFound):
        sell.get_sequence(10**9)


def test_sequences_by_name_sorted_with_step_ids(world, sell):
    first = world.sequence(name="Welcome sequence")
    world.advance(60)
    world.sequence(name="Other")
    world.advance(60)
    second = world.sequence(TASK_STEPS, name="Welcome sequence")
    found = sell.list_sequences(name="Welcome sequence", sort_by="created_at:desc")
    assert [s.id for s in found] == [second, first]
    assert found.items[0].step_ids == (second * 1000, second * 1000 + 1)
    assert sell.get_sequence(first).step_ids == (first * 1000, first * 1000 + 1)
    assert [s.name for s in sell.iter_sequences(sort_by="name", per_page=1)] == [
        "Other", "Welcome sequence", "Welcome sequence"]


def started_task(world, sell, resource_id: int) -> tuple[int, RemoteTask]:
    enrollment = sell.create_enrollment(world.sequence(TASK_STEPS), "lead", resource_id)
    world.advance(1)
    [task] = sell.list_tasks(resource_type="lead", resource_id=resource_id)
    return enrollment.id, task


def test_list_get_and_complete_a_task(world, sell):
    enrollment_id, task = started_task(world, sell, 8)
    assert isinstance(task, RemoteTask)
    assert (task.content, task.completed, task.completed_at, task.overdue) == (
        "Call them", False, None, False)
    assert (task.resource_type, task.resource_id) == ("lead", 8)
    assert task.owner_id == task.creator_id == world.api.ids["user"]
    assert task.created_at == task.updated_at == DUE and task.due_date is not None
    assert sell.get_task(task.id) == task
    assert list(sell.iter_tasks(completed=False)) == [task]
    done = sell.complete_task(task.id)
    assert (done.completed, done.completed_at) == (True, NOW_PLUS_1)
    assert list(sell.iter_tasks(completed=False)) == []
    assert list(sell.iter_tasks(completed=True, ids=[task.id])) == [done]
    enrollment = sell.get_enrollment(enrollment_id)
    assert enrollment.steps[0].status is ActionStatus.COMPLETED
    assert enrollment.current_step_position == 1


def test_update_a_task(world, sell):
    _, task = started_task(world, sell, 8)
    due = datetime(2021, 1, 4, 10, 0, tzinfo=UTC)
    moved = sell.update_task(task.id, content="Call them back", due_date=due,
                             remind_at=datetime(2021, 1, 4, 9, 30, tzinfo=UTC))
    assert (moved.content, moved.due_date, moved.remind_at) == (
        "Call them back", due, datetime(2021, 1, 4, 9, 30, tzinfo=UTC))
    with pytest.raises(SellValidationError) as refused:
        sell.update_task(task.id, completed="yes", color="red")
    assert {(e.code, e.field) for e in refused.value.errors} == {
        ("invalid_type", "/data/completed"), ("unknown", "/data/color")}
    with pytest.raises(ValueError):
        sell.update_task(task.id)


def test_delete_a_task_finishes_its_enrollment(world, sell):
    enrollment_id, task = started_task(world, sell, 9)
    assert sell.delete_task(task.id) is None
    with pytest.raises(SellNotFound) as gone:
        sell.get_task(task.id)
    assert gone.value.http_status == 404
    with pytest.raises(SellNotFound):
        sell.delete_task(task.id)
    finished = sell.get_enrollment(enrollment_id)
    assert finished.state is EnrollmentState.FINISHED
    assert finished.finished_reason is FinishedReason.TASK_DELETED
    assert finished.steps[0].status is ActionStatus.CANCELLED
