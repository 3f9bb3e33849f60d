"""The five enrollment operations through SellClient, against our own server
(every test runs in-process and over a loopback socket)."""

from datetime import UTC, datetime

from http_world import START, TASK_STEPS
from sell_world import enroll_many

from engine import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    ResourceType,
    Step,
    UnsubscribeSettings,
)
from engine.adapters.sell import RemoteEnrollment, RemoteSequence

SEED_TIME = datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)


def test_create_maps_the_enrollment_to_typed_values(world, sell):
    sequence_id = world.sequence(name="Warm approach after webinar")
    created = sell.create_enrollment(sequence_id, ResourceType.LEAD, 12866615)
    assert isinstance(created, RemoteEnrollment)
    assert (created.actor_id, created.resource_type, created.resource_id) == (
        world.api.ids["user"], ResourceType.LEAD, 12866615)
    assert created.created_at == created.updated_at == SEED_TIME
    assert created.created_at.tzinfo is UTC
    assert created.sequence == RemoteSequence(
        id=sequence_id, name="Warm approach after webinar", steps_total=2,
        creator_id=world.api.ids["user"], created_at=SEED_TIME, updated_at=SEED_TIME,
        unsubscribe_settings=UnsubscribeSettings(True, "en-US"), steps=None)
    assert (created.state, created.current_step_position) == (EnrollmentState.ACTIVE, 0)
    assert created.is_ongoing and created.current_step is created.steps[0]
    first, second = created.steps
    assert first.step == Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9606, False)
    assert second.step == Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9607, False)
    assert (first.position, first.action_type, first.status) == (
        0, ActionType.AUTOMATED_EMAIL, ActionStatus.SCHEDULED)
    assert first.overdue is False
    assert first.action.estimated_execute_at == START  # to the millisecond
    assert second.action.estimated_execute_at == datetime(2020, 12, 16, 19, 58, 53, 526000,
                                                          tzinfo=UTC)
    assert (first.action.executed_at, first.action.failure_reason) == (None, None)
    assert (first.action.task_content, first.action.task_id) == (None, None)
    assert (created.finished_at, created.finished_reason, created.finished_actor_id) == (
        None, None, None)
    assert sell.get_enrollment(created.id) == created


def test_a_repeated_create_with_an_idempotency_key_is_one_enrollment(world, sell):
    sequence_id = world.sequence()
    first = sell.create_enrollment(sequence_id, "lead", 5, idempotency_key="k-5")
    again = sell.create_enrollment(sequence_id, "lead", 5, idempotency_key="k-5")
    assert again == first
    assert [e.id for e in sell.iter_enrollments()] == [first.id]


def test_create_for_a_colleague(world, sell):
    created = sell.create_enrollment(world.sequence(), "contact", 9,
                                     actor_id=world.api.ids["colleague"])
    assert (created.actor_id, created.resource_type) == (world.api.ids["colleague"],
                                                         ResourceType.CONTACT)


def test_list_pages_and_iterate_every_page(world):
    sequence_id = world.sequence()
    with world.client(record=True) as sell:
        ids = enroll_many(sell, sequence_id, range(1, 8))
        first = sell.list_enrollments(per_page=3)
        assert ([e.id for e in first], first.page, first.per_page, first.next_page) == (
            ids[:3], 1, 3, 2)
        last = sell.list_enrollments(page=3, per_page=3)
        assert ([e.id for e in last], last.next_page) == (ids[6:], None)
        assert len(last) == 1
        transport = world.recorder
        before = len(transport.requests)
        assert [e.id for e in sell.iter_enrollments(per_page=3)] == ids
        pages = [dict(r.url.params) for r in transport.requests[before:]]
        assert pages == [{"page": str(n), "per_page": "3"} for n in (1, 2, 3)]
        assert all(r.url.host == httpx_host(world) for r in transport.requests)
        before = len(transport.requests)
        assert len(list(sell.iter_enrollments(per_page=7))) == 7
        assert len(transport.requests) == before + 1  # no next_page link: no second request


def httpx_host(world) -> str:
    return world.base_url.split("//")[1].split(":")[0]


def test_iterate_with_filters(world, sell):
    first, second = world.sequence(), world.sequence()
    enroll_many(sell, first, range(1, 6))
    mine = enroll_many(sell, second, [2, 3])
    found = list(sell.iter_enrollments(resource_type="lead", resource_ids=[2, 3],
                                       sequence_id=second, per_page=1))
    assert [e.id for e in found] == mine
    assert len(list(sell.iter_enrollments(ids=[*mine, 10**9], per_page=2))) == 2
    sell.finish_enrollment(mine[0])
    assert [e.id for e in sell.iter_enrollments(state=EnrollmentState.FINISHED)] == mine[:1]
    assert list(sell.iter_enrollments(resource_type="contact")) == []


def test_finish(world, sell):
    created = sell.create_enrollment(world.sequence(), "lead", 5)
    world.advance(1)  # step 0 is sent
    finished = sell.finish_enrollment(created.id)
    assert finished.state is EnrollmentState.FINISHED and not finished.is_ongoing
    assert finished.finished_reason is FinishedReason.MANUAL
    assert finished.finished_actor_id == world.api.ids["user"]
    assert finished.finished_at == datetime(2020, 12, 15, 19, 58, 54, tzinfo=UTC)
    assert [s.status for s in finished.steps] == [ActionStatus.COMPLETED,
                                                  ActionStatus.CANCELLED]
    assert finished.steps[0].action.executed_at == SEED_TIME
    assert finished.steps[1].action.estimated_execute_at is None
    assert sell.get_enrollment(created.id) == finished


def test_resume_a_blocked_enrollment(world, sell):
    world.fail_sends_to(31, "recipient_invalid")
    created = sell.create_enrollment(world.sequence(), "lead", 31)
    world.advance(1)
    blocked = sell.get_enrollment(created.id)
    assert blocked.state is EnrollmentState.BLOCKED
    assert blocked.steps[0].status is ActionStatus.BLOCKED
    assert blocked.steps[0].action.failure_reason is FailureReason.RECIPIENT_INVALID
    world.clear_failures()
    world.advance(60)
    resumed = sell.resume_enrollment(created.id)
    assert resumed.state is EnrollmentState.ACTIVE
    assert resumed.steps[0].status is ActionStatus.SCHEDULED
    assert resumed.steps[0].action.failure_reason is None
    resumed_at = datetime(2020, 12, 15, 19, 59, 54, tzinfo=UTC)  # planned from the resume
    assert resumed.updated_at == resumed.steps[0].action.estimated_execute_at == resumed_at
    world.advance(1)
    sent = sell.get_enrollment(created.id)
    assert sent.steps[0].status is ActionStatus.COMPLETED
    assert sent.current_step_position == 1
    assert sent.steps[0].action.executed_at == resumed_at  # at its own due instant


def test_finish_ongoing_for_resource_with_sequence_ids(world, sell):
    a, b, c = world.sequence(name="A"), world.sequence(name="B"), world.sequence(name="C")
    in_a, in_b, in_c = (sell.create_enrollment(s, "lead", 5).id for s in (a, b, c))
    other_lead = sell.create_enrollment(a, "lead", 6).id
    finished = sell.finish_ongoing_for_resource("lead", 5, sequence_ids=[a, b])
    assert isinstance(finished, tuple)
    assert [(e.id, e.sequence.id) for e in finished] == [(in_a, a), (in_b, b)]
    assert all(e.finished_reason is FinishedReason.MANUAL for e in finished)
    assert sell.get_enrollment(in_c).is_ongoing
    assert sell.get_enrollment(other_lead).is_ongoing
    rest = sell.finish_ongoing_for_resource(ResourceType.LEAD, 5)
    assert [e.id for e in rest] == [in_c]
    assert sell.finish_ongoing_for_resource("lead", 5) == ()


def test_a_task_step_shows_its_task(world, sell):
    created = sell.create_enrollment(world.sequence(TASK_STEPS), "lead", 8)
    assert created.steps[0].step == Step(0, 0, DelayUnit.HOURS, ActionType.TASK,
                                         task_content="Call them")
    assert created.steps[0].action.task_content == "Call them"
    assert created.steps[0].action.task_id is None
    world.advance(1)
    step = sell.get_enrollment(created.id).steps[0]
    assert step.status is ActionStatus.IN_PROGRESS
    [task] = sell.list_tasks(resource_type="lead", resource_id=8)
    assert step.action.task_id == task.id
