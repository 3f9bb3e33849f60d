"""Refusals of the use cases, exact to the code, field and resource the Sell error
envelope shows (http-api.md section 2). Written against surviving mutants of
engine/app/tasks.py, service.py and catalog.py (docs/testing.md)."""

import pytest
from world import World, email, task

from engine import TaskCompleted, TaskDeleted
from engine.domain.sequence import STEP_ID_BASE
from engine.errors import NotFound, ValidationFailed


def test_an_event_for_a_step_that_is_no_task_step_is_refused_exactly() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), task(1, 1)))
    for position in (0, 2, -1):  # an email step, one past the last step, before the first
        with pytest.raises(ValidationFailed) as info:
            w.engine.handle(w.account, TaskCompleted(enrollment_id=enrollment_id,
                                                     position=position))
        assert info.value.resource == "event"
        assert [(d.code, d.message, d.field) for d in info.value.errors] == [(
            "incorrect_value",
            f"step {position} of enrollment {enrollment_id} is not a task step",
            "/data/position")]


def test_another_accounts_user_does_not_exist_for_an_account() -> None:
    w = World()
    other = w.engine.create_account("other").id
    stranger = w.engine.create_user(other, name="Stranger").id
    assert w.engine.get_account_user(w.account, w.actor).id == w.actor
    with pytest.raises(NotFound) as info:
        w.engine.get_account_user(w.account, stranger)
    assert (info.value.message, info.value.resource) == (f"user {stranger} not found", "user")
    assert [u.id for u in w.engine.list_users(w.account)] == [w.actor]
    assert [u.id for u in w.engine.list_users(other)] == [stranger]


def test_too_many_steps_in_an_update_are_refused_for_the_sequence() -> None:
    w = World()
    sequence_id = w.sequence(email(0, 0))
    steps = tuple(email(i, 0) for i in range(STEP_ID_BASE))
    with pytest.raises(ValidationFailed) as info:
        w.engine.update_sequence(w.account, sequence_id, steps=steps)
    assert info.value.resource == "sequence"
    assert [(d.code, d.field) for d in info.value.errors] == [("incorrect_value", "/data/steps")]


def test_deleting_the_task_of_an_engine_kept_step_deletes_the_engines_task() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(task(0, 0)))
    w.engine.run_due()
    task_id = w.get(enrollment_id).enrollment.actions[0].task_id
    assert task_id is not None and w.engine.get_task(w.account, task_id).id == task_id
    (view,) = w.engine.handle(w.account, TaskDeleted(enrollment_id=enrollment_id, position=0))
    assert view.enrollment.finished_reason == "task_deleted"
    with pytest.raises(NotFound):
        w.engine.get_task(w.account, task_id)
