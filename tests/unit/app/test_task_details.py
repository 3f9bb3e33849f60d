"""Task use cases down to the error detail (found by mutation testing: the HTTP tests
check these, but a refusal's code, field and resource are the library's contract too)."""

from datetime import UTC, datetime, timedelta

import pytest
from world import World, email, task

from engine import (
    ActionStatus,
    ExecutionPolicy,
    FailureReason,
    FailureRule,
    ResourceType,
    SubscriptionCancelled,
    in_memory,
)
from engine.errors import ErrorDetail, NotFound, TransitionRefused, ValidationFailed

A = ActionStatus


def started(*steps) -> tuple[World, int, int]:  # type: ignore[no-untyped-def]
    w = World()
    enrollment_id = w.enroll(w.sequence(*steps))
    w.engine.advance(seconds=1)
    (created,) = w.engine.list_tasks(w.account)
    return w, enrollment_id, created.id


def test_refused_task_updates_name_code_field_and_resource() -> None:
    w, _, task_id = started(task(0, 0), email(1, 1))
    with pytest.raises(ValidationFailed) as refused:
        w.engine.update_task(w.account, task_id, owner_id=999, resource_type="contact",
                             resource_id=5, content="changed")
    assert refused.value.resource == "task"
    assert refused.value.errors == (
        ErrorDetail("incorrect_value", "user 999 is not a user of this account",
                    "/data/owner_id"),
        ErrorDetail("incorrect_value", "a task cannot move to another resource (resource_type)",
                    "/data/resource_type"),
        ErrorDetail("incorrect_value", "a task cannot move to another resource (resource_id)",
                    "/data/resource_id"),
    )
    assert w.engine.get_task(w.account, task_id).content == "call"
    w.engine.update_task(w.account, task_id, completed=True)
    with pytest.raises(ValidationFailed) as reopen:
        w.engine.update_task(w.account, task_id, completed=False)
    assert reopen.value.resource == "task"
    (detail,) = reopen.value.errors
    assert detail.code == "incorrect_value"


def test_an_unknown_task_is_named_in_the_error() -> None:
    w = World()
    with pytest.raises(NotFound, match=r"^task 404 not found$") as missing:
        w.engine.get_task(w.account, 404)
    assert missing.value.resource == "task"


def test_content_is_kept_and_a_task_without_content_gets_an_empty_one() -> None:
    w, _, task_id = started(task(0, 0, content=""))
    assert w.engine.get_task(w.account, task_id).content == ""
    renamed = w.engine.update_task(w.account, task_id, content="called")
    assert (renamed.content, renamed.completed, renamed.completed_at) == ("called", False, None)
    assert w.engine.update_task(w.account, task_id, due_date=datetime(2021, 1, 4, tzinfo=UTC)
                                ).content == "called"


def test_reopening_an_open_task_changes_nothing() -> None:
    w, enrollment_id, task_id = started(task(0, 0), email(1, 1))
    before = w.get(enrollment_id).enrollment.actions[0].status
    assert not w.engine.update_task(w.account, task_id, completed=False).completed
    assert w.get(enrollment_id).enrollment.actions[0].status is before is A.IN_PROGRESS


def test_a_task_without_an_enrollment_can_be_reopened() -> None:
    # Completing a step task whose enrollment finished, then reopening it: allowed.
    w, enrollment_id, task_id = started(task(0, 0), email(1, 1))
    w.engine.update_enrollment_state(w.account, enrollment_id, "finished", actor_id=w.actor)
    w.engine.update_task(w.account, task_id, completed=True)
    assert not w.engine.update_task(w.account, task_id, completed=False).completed


def test_a_refused_state_change_names_the_enrollment_machine() -> None:
    w, enrollment_id, _ = started(task(0, 0))
    with pytest.raises(TransitionRefused, match=r"^enrollment cannot become blocked") as refused:
        w.engine.update_enrollment_state(w.account, enrollment_id, "blocked", actor_id=w.actor)
    assert refused.value.machine == "enrollment"


def test_losing_reach_turns_it_off() -> None:
    w, _, _ = started(task(0, 0))
    w.engine.handle(w.account, SubscriptionCancelled())
    assert w.engine.get_account(w.account).reach_enabled is False


def test_not_an_event() -> None:
    w = World()
    with pytest.raises(TypeError, match=r"^not an event: 'reply'$"):
        w.engine.handle(w.account, "reply")  # type: ignore[arg-type]


def test_the_email_grace_comes_from_the_policy() -> None:
    start = datetime(2020, 12, 15, 10, tzinfo=UTC)
    engine = in_memory(start, ExecutionPolicy(email_grace=timedelta(hours=3)))
    account = engine.create_account("acme").id
    actor = engine.create_user(account, weekmask="1111111").id
    sequence = engine.create_sequence(account, name="s", steps=[email(0, 0)],
                                      creator_id=actor).id
    engine.set_failure_rule(FailureRule(account, ResourceType.LEAD, 1, FailureReason.AUTH))
    enrollment = engine.enroll(account, sequence_id=sequence, resource_type="lead",
                               resource_id=1, actor_id=actor).enrollment.id
    engine.advance(seconds=2 * 3600)  # blocked, past the default hour of grace
    assert engine.get_enrollment(account, enrollment).overdue_position is None
    engine.advance(seconds=3600 + 1)
    assert engine.get_enrollment(account, enrollment).overdue_position == 0
