"""Behaviour a mutation run showed untested (issue 12): each test here kills a named
mutant, checked by applying the mutant by hand and watching the test fail."""

from datetime import UTC, datetime

from world import World, email

from engine import (
    ActionStatus,
    EnrollmentState,
    FailureReason,
    FailureRule,
    FinishedReason,
    ResourceDeleted,
    ResourceType,
)
from engine.app.enrollments import finish_ongoing_for_resource

A = ActionStatus


def test_only_a_manual_finish_records_the_actor() -> None:
    # Mutant: Enrollment.finish keeps `actor_id` whatever the reason.
    w = World()
    manual = w.enroll(w.sequence(email(0, 1)), resource_id=1)
    deleted = w.enroll(w.sequence(email(0, 1), name="other"), resource_id=2)
    with w.engine.store.unit_of_work() as uow:
        account = uow.get_account(w.account)
        assert account is not None
        now = w.engine.clock.now()
        finish_ongoing_for_resource(uow, now, account, resource_type=ResourceType.LEAD,
                                    resource_id=1, sequence_ids=None, actor_id=w.actor)
        finish_ongoing_for_resource(uow, now, account, resource_type=ResourceType.LEAD,
                                    resource_id=2, sequence_ids=None, actor_id=w.actor,
                                    reason=FinishedReason.RESOURCE_DELETED)
        uow.commit()
    assert w.get(manual).enrollment.finished_actor_id == w.actor
    gone = w.get(deleted).enrollment
    assert gone.finished_reason is FinishedReason.RESOURCE_DELETED
    assert gone.finished_actor_id is None


def test_finishing_a_blocked_enrollment_by_hand() -> None:
    # Mutant: the enrollment table loses (blocked, finish_manually) -> finished.
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 1)))
    w.engine.set_failure_rule(FailureRule(w.account, ResourceType.LEAD, 1, FailureReason.AUTH))
    w.engine.advance(seconds=60)
    assert w.get(enrollment_id).enrollment.state is EnrollmentState.BLOCKED
    view = w.engine.update_enrollment_state(w.account, enrollment_id, "finished",
                                            actor_id=w.actor)
    e = view.enrollment
    assert (e.state, e.finished_reason, e.finished_actor_id) == (
        EnrollmentState.FINISHED, FinishedReason.MANUAL, w.actor)
    assert [a.status for a in e.actions] == [A.CANCELLED, A.CANCELLED]
    assert e.actions[0].failure_reason is None and e.actions[0].estimated_execute_at is None
    assert e.due_at is None and e.finished_at == w.engine.clock.now().replace(microsecond=0)
    assert w.engine.handle(w.account, ResourceDeleted(ResourceType.LEAD, 1)) == []


def test_a_blocked_enrollment_finishes_for_outside_reasons_too() -> None:
    w = World(start=datetime(2020, 12, 15, 9, tzinfo=UTC))
    w.enroll(w.sequence(email(0, 0)))
    w.engine.set_failure_rule(FailureRule(w.account, ResourceType.LEAD, 1, FailureReason.AUTH))
    w.engine.advance(seconds=60)
    (view,) = w.engine.handle(w.account, ResourceDeleted(ResourceType.LEAD, 1))
    assert view.enrollment.finished_reason is FinishedReason.RESOURCE_DELETED
    assert view.enrollment.actions[0].status is A.CANCELLED
