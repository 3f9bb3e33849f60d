"""views.overdue_from: the instant from which overdue_position names the current step
(GET one's memo keeps a body while `now` stays on the side of it the body was judged
on, engine/adapters/http/fast_get.py). Checked against overdue_position itself on
every enrollment a simulation leaves (emails and tasks, every state), a microsecond
either side of the instant and far from it."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.app.views import overdue_from, overdue_position
from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus, ActionType, DelayUnit, ResourceType
from engine.domain.sequence import Step
from engine.runtime.simulation.runner import Simulation
from engine.runtime.simulation.scenario import load_scenario
from engine.timeline import EMAIL_GRACE, calendar_for

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "scenarios"
TICK = timedelta(microseconds=1)


def a_task_step_just_started() -> Enrollment:
    steps = (Step(0, 2, DelayUnit.HOURS, ActionType.TASK, task_content="Call them"),)
    return Enrollment.start(id=1, account_id=1, actor_id=1, sequence_id=1,
                            resource_type=ResourceType.LEAD, resource_id=1, steps=steps,
                            now=datetime(2026, 5, 20, 15, tzinfo=UTC),
                            calendar=calendar_for("America/New_York"))


def test_overdue_from_is_where_overdue_position_turns() -> None:
    simulation = Simulation(load_scenario(EXAMPLES / "two_reps.yaml"), enrollments=150, seed=2)
    simulation.run()
    store, now = simulation.store, simulation.engine.clock.now()
    kinds: set[tuple[bool, bool]] = set()
    found = sorted(store.enrollments.values(), key=lambda e: e.id)
    new_york = calendar_for("America/New_York")
    for enrollment, calendar in [*((e, store.users[e.actor_id].calendar) for e in found),
                                 (a_task_step_just_started(), new_york)]:
        for grace in (EMAIL_GRACE, timedelta(0)):
            first = overdue_from(enrollment, calendar, grace)
            probes = [now, now - timedelta(days=400), now + timedelta(days=400)]
            if first is not None:
                probes += [first - TICK, first, first + TICK]
            for at in probes:
                late = overdue_position(enrollment, calendar, at, grace)
                expected = first is not None and at >= first
                assert late == (enrollment.current_step_position if expected else None)
            kinds.add((enrollment.current_step.is_email, first is None))
    assert kinds == {(True, True), (True, False), (False, True), (False, False)}


def test_an_enrollment_without_steps_is_never_overdue() -> None:
    empty = Enrollment.__new__(Enrollment)
    empty.steps, empty.actions = (), []
    assert overdue_from(empty, calendar_for(), EMAIL_GRACE) is None


def test_a_task_step_turns_overdue_at_the_end_of_its_local_day() -> None:
    first = overdue_from(a_task_step_just_started(), calendar_for("America/New_York"),
                         EMAIL_GRACE)
    assert first == datetime(2026, 5, 21, 4, tzinfo=UTC)  # local midnight after 13:00 EDT


def an_email_step_just_started() -> Enrollment:
    steps = (Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9606),)
    return Enrollment.start(id=2, account_id=1, actor_id=1, sequence_id=1,
                            resource_type=ResourceType.LEAD, resource_id=2, steps=steps,
                            now=datetime(2026, 5, 20, 15, tzinfo=UTC), calendar=calendar_for())


@pytest.mark.parametrize("status", [ActionStatus.COMPLETED, ActionStatus.CANCELLED,
                                    ActionStatus.BLOCKED])
@pytest.mark.parametrize("make", [an_email_step_just_started, a_task_step_just_started])
def test_a_step_without_work_left_never_turns_overdue(make, status) -> None:
    """A current step done or cancelled keeps its estimated instant but has no work
    left: no instant makes it overdue (a blocked one: an email's still can be)."""
    enrollment = make()
    enrollment.actions[0].status = status
    assert enrollment.actions[0].estimated_execute_at is not None
    calendar, far = calendar_for(), datetime(2036, 1, 1, tzinfo=UTC)
    late_from = overdue_from(enrollment, calendar, EMAIL_GRACE)
    can_be_late = status is ActionStatus.BLOCKED and enrollment.current_step.is_email
    assert (late_from is not None) is can_be_late
    assert (overdue_position(enrollment, calendar, far, EMAIL_GRACE) == 0) is can_be_late


def test_an_email_step_turns_overdue_past_the_grace_it_is_given() -> None:
    """The grace is the engine policy's, not the timeline's default."""
    enrollment = an_email_step_just_started()
    estimated = enrollment.actions[0].estimated_execute_at
    assert estimated is not None
    for grace in (timedelta(0), timedelta(hours=2), EMAIL_GRACE):
        assert overdue_from(enrollment, calendar_for(), grace) == estimated + grace + TICK
