"""The simulator's store reports an enrollment as it becomes blocked: once per block,
however often it is saved while blocked, and again after a resume when it blocks anew
(engine/runtime/simulation/observed_store.py)."""

from datetime import UTC, datetime, timedelta

from engine import (
    ActionType,
    DelayUnit,
    EnrollmentState,
    FailureReason,
    ResourceType,
    SequenceEngine,
    Step,
)
from engine.adapters.clocks import SimulatedClock
from engine.adapters.outbox import OutboxDelivery
from engine.app.ports import FailureRule
from engine.domain.enrollment import Enrollment
from engine.runtime.simulation.observed_store import ObservedStore

TUESDAY = datetime(2020, 12, 15, 19, 58, 53, 526_000, tzinfo=UTC)
EMAIL = Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 100, False)


def test_a_block_is_reported_once_and_again_after_a_resume() -> None:
    reported: list[tuple[int, EnrollmentState, int]] = []

    def on_blocked(enrollment: Enrollment) -> None:
        action = enrollment.current_action
        reported.append((enrollment.id, enrollment.state, action.generation))

    store = ObservedStore(lambda task: None, on_blocked)
    engine = SequenceEngine(store, SimulatedClock(TUESDAY), OutboxDelivery(store))
    account = engine.create_account("acme").id
    actor = engine.create_user(account).id
    sequence = engine.create_sequence(
        account, name="seq", steps=(EMAIL,), creator_id=actor).id
    engine.set_failure_rule(
        FailureRule(account, ResourceType.LEAD, 1, FailureReason.RECIPIENT_INVALID))
    blocked = engine.enroll(account, sequence_id=sequence, resource_type="lead",
                            resource_id=1, actor_id=actor).enrollment.id
    fine = engine.enroll(account, sequence_id=sequence, resource_type="lead",
                         resource_id=2, actor_id=actor).enrollment.id
    engine.advance(seconds=1)
    assert reported == [(blocked, EnrollmentState.BLOCKED, 0)]
    with store.unit_of_work() as uow:  # saved again, still blocked: no second report
        uow.save_enrollment(uow.get_enrollment(account, blocked))
    assert engine.get_enrollment(account, fine).enrollment.state is EnrollmentState.FINISHED
    assert len(reported) == 1
    engine.update_enrollment_state(account, blocked, EnrollmentState.ACTIVE, actor_id=actor)
    engine.advance(seconds=timedelta(days=7).total_seconds())
    assert reported == [(blocked, EnrollmentState.BLOCKED, 0),
                        (blocked, EnrollmentState.BLOCKED, 1)]
