"""A stateful test: random commands and events through the use cases, checked after
every step against the invariants and a small reference model of who is ongoing."""

from datetime import UTC, datetime

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from invariants import check_enrollment

from engine import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EmailReplied,
    EnrollmentState,
    FailureReason,
    FailureRule,
    FinishedReason,
    Page,
    ResourceDeleted,
    ResourceType,
    Step,
    TaskCompleted,
    TaskDeleted,
    in_memory,
)
from engine.errors import AlreadyExists, TransitionRefused

A = ActionStatus
START = datetime(2026, 3, 6, 15, 30, 0, 250_000, tzinfo=UTC)  # a Friday before a DST change
LEAD = ResourceType.LEAD

SEQUENCES = [
    (
        Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 1, False),
        Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 2, True),
        Step(2, 5, DelayUnit.HOURS, ActionType.TASK, task_content="call them"),
    ),
    (
        Step(0, 2, DelayUnit.HOURS, ActionType.TASK, task_content="research"),
        Step(1, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 3, False),
    ),
    (Step(0, 3, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 4, False),),
]

enrollment_index = st.integers(0, 30)
resource = st.integers(1, 4)


class Lifecycles(RuleBasedStateMachine):
    @initialize(
        zone=st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo"]),
        holidays=st.sampled_from([None, "US", "DE-BY"]),
        window=st.sampled_from([None, "09:00-17:00"]),
    )
    def setup(self, zone: str, holidays: str | None, window: str | None) -> None:
        self.engine = in_memory(start=START)
        self.account = self.engine.create_account("acme").id
        self.actor = self.engine.create_user(
            self.account, time_zone=zone, holidays=holidays, send_window=window
        ).id
        self.sequences = [
            self.engine.create_sequence(
                self.account, name=f"s{i}", steps=steps, creator_id=self.actor
            ).id
            for i, steps in enumerate(SEQUENCES)
        ]
        self.ids: list[int] = []
        self.ongoing: dict[tuple[int, int], int] = {}  # (resource, sequence) -> enrollment
        self.finished: dict[int, FinishedReason] = {}
        self.last_estimates: dict[tuple[int, int], datetime] = {}

    def _pick(self, index: int) -> int | None:
        return self.ids[index % len(self.ids)] if self.ids else None

    def _state(self, enrollment_id: int) -> EnrollmentState:
        return self.engine.get_enrollment(self.account, enrollment_id).enrollment.state

    def _forget(self, enrollment_id: int, reason: FinishedReason) -> None:
        self.finished.setdefault(enrollment_id, reason)
        for key, value in list(self.ongoing.items()):
            if value == enrollment_id:
                del self.ongoing[key]

    @rule(resource_id=resource, which=st.integers(0, len(SEQUENCES) - 1))
    def enroll(self, resource_id: int, which: int) -> None:
        key = (resource_id, self.sequences[which])
        try:
            view = self.engine.enroll(
                self.account,
                sequence_id=key[1],
                resource_type=LEAD,
                resource_id=resource_id,
                actor_id=self.actor,
            )
        except AlreadyExists:
            assert key in self.ongoing
            return
        assert key not in self.ongoing
        self.ids.append(view.enrollment.id)
        self.ongoing[key] = view.enrollment.id

    @rule(seconds=st.sampled_from([0, 1, 59 * 60, 3600, 6 * 3600, 86400, 3 * 86400]))
    def advance(self, seconds: int) -> None:
        self.engine.advance(seconds=seconds)

    @precondition(lambda self: self.ids)
    @rule(index=enrollment_index)
    def finish(self, index: int) -> None:
        enrollment_id = self._pick(index)
        assert enrollment_id is not None
        was = self._state(enrollment_id)
        view = self.engine.update_enrollment_state(
            self.account, enrollment_id, "finished", actor_id=self.actor
        )
        assert view.enrollment.state is EnrollmentState.FINISHED
        if was is not EnrollmentState.FINISHED:
            assert view.enrollment.finished_reason is FinishedReason.MANUAL
            self._forget(enrollment_id, FinishedReason.MANUAL)

    @precondition(lambda self: self.ids)
    @rule(index=enrollment_index)
    def resume(self, index: int) -> None:
        enrollment_id = self._pick(index)
        assert enrollment_id is not None
        was = self._state(enrollment_id)
        try:
            view = self.engine.update_enrollment_state(
                self.account, enrollment_id, "active", actor_id=self.actor
            )
        except TransitionRefused:
            assert was is EnrollmentState.FINISHED
            return
        assert was is not EnrollmentState.FINISHED
        assert view.enrollment.state is EnrollmentState.ACTIVE
        assert view.enrollment.current_action.status is not A.BLOCKED

    @rule(resource_id=resource, reason=st.sampled_from(list(FailureReason)))
    def fail_sends_to(self, resource_id: int, reason: FailureReason) -> None:
        self.engine.set_failure_rule(FailureRule(self.account, LEAD, resource_id, reason))

    @rule()
    def clear_failures(self) -> None:
        self.engine.clear_failure_rules(self.account)

    @precondition(lambda self: self.ids)
    @rule(index=enrollment_index)
    def reply(self, index: int) -> None:
        enrollment_id = self._pick(index)
        assert enrollment_id is not None
        was = self._state(enrollment_id)
        self.engine.handle(self.account, EmailReplied(enrollment_id))
        if was is not EnrollmentState.FINISHED:
            self._forget(enrollment_id, FinishedReason.REPLIED_TO_EMAIL)
        assert self._state(enrollment_id) is EnrollmentState.FINISHED

    @rule(resource_id=resource)
    def delete_resource(self, resource_id: int) -> None:
        self.engine.handle(self.account, ResourceDeleted(LEAD, resource_id))
        for (res, _), enrollment_id in list(self.ongoing.items()):
            if res == resource_id:
                self._forget(enrollment_id, FinishedReason.RESOURCE_DELETED)

    @rule(pick=st.integers(0, 20), delete=st.booleans())
    def act_on_a_task(self, pick: int, delete: bool) -> None:
        open_tasks = [t for t in self.engine.list_tasks(self.account) if not t.completed]
        if not open_tasks:
            return
        task = open_tasks[pick % len(open_tasks)]
        owner = task.enrollment_id
        step_was_waiting = owner is not None and (
            (e := self.engine.get_enrollment(self.account, owner).enrollment).is_ongoing
            and e.current_action.task_id == task.id
        )
        if delete:
            self.engine.handle(self.account, TaskDeleted(task.id))
            if step_was_waiting and owner is not None:
                assert self._state(owner) is EnrollmentState.FINISHED
                self._forget(owner, FinishedReason.TASK_DELETED)
        else:
            self.engine.handle(self.account, TaskCompleted(task.id))
            assert self.engine.get_task(self.account, task.id).completed

    @invariant()
    def invariants_hold(self) -> None:
        if not hasattr(self, "engine"):
            return
        actor = self.engine.get_user(self.actor)
        for view in self.engine.list_enrollments(self.account, page=Page(size=100)):
            e = view.enrollment
            check_enrollment(e, actor.calendar)
            if e.id in self.finished:
                assert e.state is EnrollmentState.FINISHED
                if e.finished_reason is not self.finished[e.id]:
                    # only a run-to-completion can beat the model to it
                    assert e.finished_reason is FinishedReason.ALL_STEPS_COMPLETED
            elif e.state is EnrollmentState.FINISHED:
                assert e.finished_reason is FinishedReason.ALL_STEPS_COMPLETED
                self._forget(e.id, FinishedReason.ALL_STEPS_COMPLETED)
            for position, action in enumerate(e.actions):
                key = (e.id, position)
                if action.status is A.SCHEDULED and action.estimated_execute_at is not None:
                    self.last_estimates[key] = action.estimated_execute_at
                elif action.executed_at is not None and key in self.last_estimates:
                    # no step runs before its estimated time (recorded to the second)
                    assert action.executed_at >= self.last_estimates[key].replace(microsecond=0)
        keys = [m.idempotency_key for m in self.engine.outbox(self.account)]
        assert len(keys) == len(set(keys)), "an email was sent twice"

    @invariant()
    def one_ongoing_per_resource_and_sequence(self) -> None:
        if not hasattr(self, "engine"):
            return
        seen: set[tuple[int, int]] = set()
        for view in self.engine.list_enrollments(self.account, page=Page(size=100)):
            e = view.enrollment
            if e.is_ongoing:
                key = (e.resource_id, e.sequence_id)
                assert key not in seen
                seen.add(key)


Lifecycles.TestCase.settings = settings(
    max_examples=3 * settings.default.max_examples // 2,  # 150 on the `ci` profile
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLifecycles = Lifecycles.TestCase
