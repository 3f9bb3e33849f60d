"""Library callers may pass plain strings where enums are expected (issue 7, item 14):
every backend sees the same coerced values, and a string that is no member is refused
with the same clear error before any store is touched."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from engine.adapters.clocks import SimulatedClock
from engine.app.ports import FailureRule, Page, Store
from engine.app.service import SequenceEngine
from engine.domain.enums import (
    ActionType,
    DelayUnit,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    ResourceType,
)
from engine.domain.events import ResourceDeleted
from engine.domain.sequence import Step
from engine.errors import ValidationFailed
from engine.runtime.bootstrap import build

MONDAY = datetime(2020, 6, 22, 12, 59, 57, tzinfo=UTC)


@pytest.fixture
def engine(store: Store) -> Iterator[SequenceEngine]:
    yield build(store, SimulatedClock(MONDAY))


def test_failure_rule_and_resource_deleted_take_plain_strings(engine: SequenceEngine) -> None:
    account = engine.create_account("acme").id
    actor = engine.create_user(account).id
    steps = (Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1),
             Step(1, 10, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 2))
    sequence = engine.create_sequence(account, name="s", steps=steps, creator_id=actor).id
    for resource_id in (1, 2):
        engine.enroll(account, sequence_id=sequence, resource_type="lead",
                      resource_id=resource_id, actor_id=actor)
    engine.set_failure_rule(FailureRule(account, "lead", 1, "recipient_invalid"))  # type: ignore[arg-type]
    with engine.store.unit_of_work(read_only=True) as uow:
        (rule,) = uow.failure_rules(account)
    assert rule.resource_type is ResourceType.LEAD
    assert rule.failure_reason is FailureReason.RECIPIENT_INVALID
    engine.advance(seconds=1)
    first, _ = sorted(engine.list_enrollments(account, page=Page(size=10)),
                           key=lambda view: view.enrollment.resource_id)
    assert first.enrollment.state is EnrollmentState.BLOCKED
    assert first.enrollment.actions[0].failure_reason is FailureReason.RECIPIENT_INVALID
    finished = engine.handle(account, ResourceDeleted("lead", 2))  # type: ignore[arg-type]
    assert [view.enrollment.finished_reason for view in finished] == [
        FinishedReason.RESOURCE_DELETED]


@pytest.mark.parametrize("bad", ["leads", "LEAD", 3, None])
def test_strings_that_are_no_member_are_refused_alike(engine: SequenceEngine, bad: object) -> None:
    account = engine.create_account("acme").id
    with pytest.raises(ValidationFailed, match="resource_type must be one of lead, contact"):
        engine.set_failure_rule(FailureRule(account, bad, 1, "auth"))  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="failure_reason must be one of unknown") as bad:
        FailureRule(account, "lead", 1, "bounced")  # type: ignore[arg-type]
    (detail,) = bad.value.errors
    assert (detail.code, detail.field) == ("incorrect_value", "failure_reason")
    with pytest.raises(ValidationFailed, match="resource_type must be one of"):
        engine.handle(account, ResourceDeleted(bad, 1))  # type: ignore[arg-type]
    with engine.store.unit_of_work(read_only=True) as uow:
        assert uow.failure_rules(account) == []
