"""The use cases end to end on the in-memory store and a simulated clock."""

from datetime import UTC, datetime, timedelta

import pytest
from world import TUESDAY, World, email, task

from engine import (
    ActionStatus,
    DelayUnit,
    EmailReplied,
    EnrollmentState,
    ExecutionPolicy,
    FailureReason,
    FailureRule,
    FinishedReason,
    LimitPolicy,
    ResourceDeleted,
    ResourceType,
    SubscriptionCancelled,
    TaskCompleted,
    TaskDeleted,
)
from engine.app.ports import SendRequest, SendResult
from engine.errors import (
    AlreadyExists,
    ClockNotSimulated,
    DeliveryError,
    NotFound,
    ReachRequired,
    TransitionRefused,
    ValidationFailed,
)
from engine.runtime.bootstrap import in_memory

A, E = ActionStatus, EnrollmentState


def test_step_zero_runs_at_its_planned_instant_and_step_one_one_weekday_later() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 1)))
    e = w.get(enrollment_id).enrollment
    assert e.created_at == datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)
    assert e.actions[0].estimated_execute_at == TUESDAY
    assert e.actions[1].estimated_execute_at == TUESDAY + timedelta(days=1)
    assert e.actions[0].status is A.SCHEDULED  # nothing runs outside an advance
    w.engine.advance(seconds=1)
    e = w.get(enrollment_id).enrollment
    assert e.actions[0].status is A.COMPLETED
    assert e.actions[0].executed_at == datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)
    assert e.actions[0].estimated_execute_at is None
    assert e.current_step_position == 1
    # re-planned from the recorded execution time
    assert e.actions[1].estimated_execute_at == datetime(2020, 12, 16, 19, 58, 53, tzinfo=UTC)
    (sent,) = w.engine.outbox(w.account)
    assert sent.idempotency_key == f"{enrollment_id}:0:0"
    w.engine.advance(to=datetime(2020, 12, 17, tzinfo=UTC))
    e = w.get(enrollment_id).enrollment
    assert e.state is E.FINISHED and e.finished_reason is FinishedReason.ALL_STEPS_COMPLETED
    assert e.current_step_position == 1 and e.finished_actor_id is None


def test_a_failed_send_blocks_and_resume_sends_with_a_new_key() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 1)))
    w.engine.set_failure_rule(
        FailureRule(w.account, ResourceType.LEAD, 1, FailureReason.RECIPIENT_INVALID)
    )
    w.engine.advance(seconds=60)
    e = w.get(enrollment_id).enrollment
    assert e.state is E.BLOCKED
    assert e.current_action.status is A.BLOCKED
    assert e.current_action.failure_reason is FailureReason.RECIPIENT_INVALID
    w.engine.advance(seconds=2 * 3600)
    assert w.get(enrollment_id).overdue_position == 0  # blocked past the grace: overdue
    w.engine.clear_failure_rules(w.account)
    view = w.engine.update_enrollment_state(w.account, enrollment_id, "active", actor_id=w.actor)
    assert view.enrollment.state is E.ACTIVE
    assert view.enrollment.current_action.failure_reason is None
    assert view.enrollment.current_action.estimated_execute_at == w.engine.clock.now().replace(
        microsecond=0
    )
    w.engine.advance(seconds=1)
    (sent,) = w.engine.outbox(w.account)
    assert sent.idempotency_key == f"{enrollment_id}:0:1"


def test_same_state_is_a_no_op_and_other_transitions_are_refused() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 1)))
    before = w.get(enrollment_id).enrollment.updated_at
    w.engine.advance(seconds=5)
    view = w.engine.update_enrollment_state(w.account, enrollment_id, "active", actor_id=w.actor)
    assert view.enrollment.updated_at == before
    with pytest.raises(TransitionRefused) as refused:
        w.engine.update_enrollment_state(w.account, enrollment_id, "blocked", actor_id=w.actor)
    assert "'active'" in refused.value.message and refused.value.allowed == ("finished",)
    w.engine.update_enrollment_state(w.account, enrollment_id, "finished", actor_id=w.actor)
    w.engine.update_enrollment_state(w.account, enrollment_id, "finished", actor_id=w.actor)
    with pytest.raises(TransitionRefused) as refused:
        w.engine.update_enrollment_state(w.account, enrollment_id, "active", actor_id=w.actor)
    assert refused.value.allowed == ()


def test_manual_finish_cancels_pending_actions_and_records_the_actor() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 1)))
    w.engine.advance(seconds=3600)
    view = w.engine.update_enrollment_state(w.account, enrollment_id, "finished", actor_id=w.actor)
    e = view.enrollment
    assert [a.status for a in e.actions] == [A.COMPLETED, A.CANCELLED]
    assert e.actions[1].estimated_execute_at is None
    assert e.finished_reason is FinishedReason.MANUAL and e.finished_actor_id == w.actor
    assert e.current_step_position == 1
    assert e.finished_at == w.engine.clock.now().replace(microsecond=0)


def test_one_ongoing_enrollment_per_resource_and_sequence() -> None:
    w = World()
    sequence_id = w.sequence(email(0, 0))
    first = w.enroll(sequence_id)
    with pytest.raises(AlreadyExists) as exists:
        w.enroll(sequence_id)
    assert exists.value.errors[0].code == "already_exists"
    w.enroll(sequence_id, resource_id=2)  # another resource is fine
    w.engine.update_enrollment_state(w.account, first, "finished", actor_id=w.actor)
    w.enroll(sequence_id)  # and so is a new one once the first has finished


def test_unknown_sequence_and_foreign_actor_are_reported_together() -> None:
    w = World()
    other = w.engine.create_account("other").id
    stranger = w.engine.create_user(other).id
    with pytest.raises(ValidationFailed) as failed:
        w.engine.enroll(
            w.account, sequence_id=999, resource_type="lead", resource_id=1, actor_id=stranger
        )
    assert [d.field for d in failed.value.errors] == ["/data/sequence_id", "/data/actor_id"]
    assert w.engine.list_enrollments(w.account) == []


def test_accounts_never_see_each_other() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    other = w.engine.create_account("other").id
    with pytest.raises(NotFound):
        w.engine.get_enrollment(other, enrollment_id)
    assert w.engine.list_enrollments(other) == []


def test_task_step_creates_a_task_and_completing_it_moves_on() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(task(0, 2, content="call the lead"), email(1, 0)))
    w.engine.advance(seconds=2 * 3600 + 1)
    e = w.get(enrollment_id).enrollment
    assert e.current_action.status is A.IN_PROGRESS
    (created,) = w.engine.list_tasks(w.account)
    assert e.current_action.task_id == created.id
    assert created.content == "call the lead"
    assert created.due_date == TUESDAY + timedelta(hours=2)
    assert created.owner_id == w.actor and created.resource_id == 1
    w.engine.handle(w.account, TaskCompleted(created.id))
    e = w.get(enrollment_id).enrollment
    assert e.actions[0].status is A.COMPLETED
    assert e.actions[0].executed_at == w.engine.clock.now().replace(microsecond=0)
    assert e.current_step_position == 1


def test_task_overdue_after_the_end_of_its_local_day() -> None:
    w = World(time_zone="America/New_York")
    enrollment_id = w.enroll(w.sequence(task(0, 0)))
    w.engine.advance(seconds=1)
    assert w.get(enrollment_id).overdue_position is None
    w.engine.advance(to=datetime(2020, 12, 16, 4, 59, tzinfo=UTC))  # 23:59 New York
    assert w.get(enrollment_id).overdue_position is None
    w.engine.advance(to=datetime(2020, 12, 16, 5, 0, 1, tzinfo=UTC))
    assert w.get(enrollment_id).overdue_position == 0


def test_deleting_the_step_task_finishes_the_enrollment() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(task(0, 0), email(1, 1)))
    w.engine.advance(seconds=1)
    (created,) = w.engine.list_tasks(w.account)
    w.engine.handle(w.account, TaskDeleted(created.id))
    e = w.get(enrollment_id).enrollment
    assert e.finished_reason is FinishedReason.TASK_DELETED
    assert [a.status for a in e.actions] == [A.CANCELLED, A.CANCELLED]
    with pytest.raises(NotFound):
        w.engine.get_task(w.account, created.id)


def test_reply_resource_deletion_and_lost_subscription_finish_enrollments() -> None:
    w = World()
    s1, s2 = w.sequence(email(0, 1)), w.sequence(email(0, 1), name="two")
    a, b, c = w.enroll(s1, 1), w.enroll(s2, 1), w.enroll(s1, 2)
    w.engine.handle(w.account, EmailReplied(a))
    assert w.get(a).enrollment.finished_reason is FinishedReason.REPLIED_TO_EMAIL
    finished = w.engine.handle(w.account, ResourceDeleted(ResourceType.LEAD, 1))
    assert [v.enrollment.id for v in finished] == [b]
    assert w.get(b).enrollment.finished_reason is FinishedReason.RESOURCE_DELETED
    w.engine.handle(w.account, SubscriptionCancelled())
    with pytest.raises(ReachRequired):
        w.get(c)
    assert w.engine.store.unit_of_work().get_enrollment(w.account, c).finished_reason is (  # type: ignore[union-attr]
        FinishedReason.SUBSCRIPTION_CANCELLED
    )


def test_finish_ongoing_for_resource_by_sequence_ids() -> None:
    w = World()
    s1, s2 = w.sequence(email(0, 1)), w.sequence(email(0, 1), name="two")
    a, b = w.enroll(s1, 5), w.enroll(s2, 5)
    done = w.engine.finish_ongoing_for_resource(
        w.account, resource_type="lead", resource_id=5, sequence_ids=[s2], actor_id=w.actor
    )
    assert [v.enrollment.id for v in done] == [b]
    assert w.get(a).enrollment.is_ongoing
    done = w.engine.finish_ongoing_for_resource(
        w.account, resource_type="lead", resource_id=5, sequence_ids=[], actor_id=w.actor
    )
    assert [v.enrollment.id for v in done] == [a]


def test_the_daily_limit_blocks_by_default() -> None:
    w = World(daily_email_limit=2)
    sequence_id = w.sequence(email(0, 0))
    ids = [w.enroll(sequence_id, resource_id=r) for r in (1, 2, 3)]
    w.engine.advance(seconds=1)
    states = [w.get(i).enrollment for i in ids]
    assert [e.state for e in states] == [E.FINISHED, E.FINISHED, E.BLOCKED]
    assert states[2].current_action.failure_reason is FailureReason.SENDOUT_LIMITED


def test_the_account_quota_blocks_with_quota_exceeded() -> None:
    engine = in_memory(start=TUESDAY)
    account = engine.create_account("small", daily_email_quota=1).id
    actor = engine.create_user(account).id
    sequence_id = engine.create_sequence(
        account, name="s", steps=[email(0, 0)], creator_id=actor
    ).id
    ids = [
        engine.enroll(
            account, sequence_id=sequence_id, resource_type="lead", resource_id=r, actor_id=actor
        ).enrollment.id
        for r in (1, 2)
    ]
    engine.advance(seconds=1)
    blocked = engine.get_enrollment(account, ids[1]).enrollment
    assert blocked.current_action.failure_reason is FailureReason.QUOTA_EXCEEDED


def test_the_defer_policy_waits_for_the_next_business_day() -> None:
    w = World(daily_email_limit=1, send_window="09:00-17:00")
    w.engine.policy = ExecutionPolicy(limit_policy=LimitPolicy.DEFER)
    sequence_id = w.sequence(email(0, 0))
    first, second = w.enroll(sequence_id, 1), w.enroll(sequence_id, 2)
    w.engine.advance(to=datetime(2020, 12, 16, 9, 0, 0, 1000, tzinfo=UTC))
    assert w.get(first).enrollment.state is E.FINISHED
    e = w.get(second).enrollment
    assert e.current_action.status is A.SCHEDULED and e.due_at == datetime(
        2020, 12, 17, 9, 0, tzinfo=UTC
    )
    assert w.get(second).overdue_position is None  # within the hour of grace
    w.engine.advance(to=datetime(2020, 12, 16, 10, 0, 1, tzinfo=UTC))
    assert w.get(second).overdue_position == 0
    w.engine.advance(to=datetime(2020, 12, 17, 9, 0, 1, tzinfo=UTC))
    assert w.get(second).enrollment.state is E.FINISHED


class Flaky:
    """A delivery that fails transiently `failures` times, then sends."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, []

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        self.calls.append((request.idempotency_key, now))
        if len(self.calls) <= self.failures:
            raise DeliveryError("timeout")
        return SendResult(True)


def test_transient_errors_are_retried_with_backoff_under_the_same_key() -> None:
    w = World()
    flaky = Flaky(2)
    w.engine.delivery = flaky
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    w.engine.advance(seconds=600)
    assert [key for key, _ in flaky.calls] == [f"{enrollment_id}:0:0"] * 3
    gaps = [b - a for (_, a), (_, b) in zip(flaky.calls, flaky.calls[1:], strict=False)]
    assert gaps == [timedelta(seconds=30), timedelta(seconds=60)]
    assert w.get(enrollment_id).enrollment.state is E.FINISHED


def test_after_the_retry_budget_the_send_blocks_with_unknown() -> None:
    w = World()
    w.engine.delivery = Flaky(100)
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    w.engine.advance(seconds=86400)
    e = w.get(enrollment_id).enrollment
    assert e.state is E.BLOCKED and e.current_action.failure_reason is FailureReason.UNKNOWN
    assert len(w.engine.delivery.calls) == w.engine.policy.retry_budget + 1


def test_a_crashed_claim_is_redelivered_after_its_lease_with_the_same_key() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    now = w.engine.clock.now()
    claims, _ = w.engine.executor("dead").claim(10)  # this worker dies here
    assert len(claims) == 1
    w.engine.advance(seconds=60)
    assert w.engine.outbox(w.account) == []  # still leased
    w.engine.advance(seconds=w.engine.policy.lease.total_seconds())
    (sent,) = w.engine.outbox(w.account)
    assert sent.idempotency_key == claims[0].request.idempotency_key
    # the dead worker's late delivery is the same send: recorded once
    w.engine.delivery.send(claims[0].request, now)
    assert len(w.engine.outbox(w.account)) == 1
    assert w.get(enrollment_id).enrollment.state is E.FINISHED


def test_changing_the_calendar_replans_pending_steps() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 3)))
    w.engine.advance(seconds=1)
    before = w.get(enrollment_id).enrollment.actions[1].estimated_execute_at
    assert before == datetime(2020, 12, 18, 19, 58, 53, tzinfo=UTC)  # Friday
    w.engine.update_user(w.actor, holidays="US", time_zone="America/New_York")
    after = w.get(enrollment_id).enrollment.actions[1].estimated_execute_at
    # 14:58 New York on Tue + 3 weekdays = Fri; Christmas is later, so the wall time holds
    assert after == datetime(2020, 12, 18, 19, 58, 53, tzinfo=UTC)
    w.engine.update_user(w.actor, weekmask="1010100")  # Mon, Wed, Fri
    assert w.get(enrollment_id).enrollment.actions[1].estimated_execute_at == datetime(
        2020, 12, 23, 19, 58, 53, tzinfo=UTC
    )
    with pytest.raises(ValidationFailed):
        w.engine.update_user(w.actor, time_zone="Mars/Olympus")
    assert w.engine.get_user(w.actor).time_zone == "America/New_York"


def test_editing_a_sequence_never_changes_running_enrollments() -> None:
    w = World()
    sequence_id = w.sequence(email(0, 0), email(1, 1))
    enrollment_id = w.enroll(sequence_id)
    w.engine.update_sequence(w.account, sequence_id, name="renamed", steps=[email(0, 5)])
    view = w.get(enrollment_id)
    assert len(view.enrollment.steps) == 2 and view.sequence.name == "renamed"
    assert view.sequence.steps_total == 1


def test_the_system_clock_cannot_be_advanced() -> None:
    engine = in_memory()
    with pytest.raises(ClockNotSimulated):
        engine.advance(seconds=1)


def test_time_never_moves_back() -> None:
    w = World()
    with pytest.raises(ValidationFailed):
        w.engine.advance(to=TUESDAY - timedelta(seconds=1))


def test_a_weekend_start_plans_step_zero_on_monday() -> None:
    saturday = datetime(2026, 5, 23, 10, 0, tzinfo=UTC)
    w = World(start=saturday)
    e = w.get(w.enroll(w.sequence(email(0, 0), email(1, 1, DelayUnit.WEEKDAYS)))).enrollment
    # Monday 2026-05-25 is not a holiday without a calendar
    assert e.actions[0].estimated_execute_at == datetime(2026, 5, 25, 10, 0, tzinfo=UTC)
    assert e.actions[1].estimated_execute_at == datetime(2026, 5, 26, 10, 0, tzinfo=UTC)


def test_finishing_during_a_send_keeps_its_confirmed_outcome() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 1)))
    now = w.engine.clock.now()
    worker = w.engine.executor("w1")
    (claim,), _ = worker.claim(10)
    outcome = w.engine.delivery.send(claim.request, now)  # the send is under way ...
    w.engine.update_enrollment_state(w.account, enrollment_id, "finished", actor_id=w.actor)
    e = w.get(enrollment_id).enrollment  # ... when the enrollment finishes
    assert [a.status for a in e.actions] == [A.IN_PROGRESS, A.CANCELLED]
    assert worker.record(claim, outcome)
    e = w.get(enrollment_id).enrollment
    assert [a.status for a in e.actions] == [A.COMPLETED, A.CANCELLED]
    assert e.state is E.FINISHED and e.finished_reason is FinishedReason.MANUAL
    assert e.current_step_position == 0 and e.due_at is None


def test_a_send_whose_worker_died_after_the_finish_is_abandoned() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    w.engine.executor("dead").claim(10)  # this worker dies here
    w.engine.update_enrollment_state(w.account, enrollment_id, "finished", actor_id=w.actor)
    w.engine.advance(seconds=w.engine.policy.lease.total_seconds() + 1)
    e = w.get(enrollment_id).enrollment
    assert e.actions[0].status is A.CANCELLED and e.due_at is None
    assert w.engine.outbox(w.account) == []


def test_a_chosen_id_that_exists_in_any_account_is_refused() -> None:
    w = World()
    sequence_id = w.sequence(email(0, 0))
    enrollment_id = w.enroll(sequence_id)
    other = w.engine.create_account("other").id
    other_actor = w.engine.create_user(other).id
    with pytest.raises(AlreadyExists):
        w.engine.create_sequence(other, name="x", steps=[], creator_id=other_actor,
                                 sequence_id=sequence_id)
    theirs = w.engine.create_sequence(other, name="x", steps=[email(0, 0)],
                                      creator_id=other_actor).id
    with pytest.raises(AlreadyExists):
        w.engine.enroll(other, sequence_id=theirs, resource_type="lead", resource_id=1,
                        actor_id=other_actor, enrollment_id=enrollment_id)
    with pytest.raises(AlreadyExists):
        w.engine.create_account("again", account_id=w.account)
    assert w.get(enrollment_id).enrollment.account_id == w.account
