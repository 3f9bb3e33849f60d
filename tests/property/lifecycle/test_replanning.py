"""Re-planning after a step completes stops early (Enrollment.replan's `settled`, and
complete_current skipping it for a step done on time): the plan it leaves must be the
one a full re-plan of every later step gives, whatever the lateness of each step."""

import copy
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.domain.enrollment import Enrollment, StepAction
from engine.domain.enums import ActionStatus, ActionType, DelayUnit, ResourceType
from engine.domain.sequence import Step
from engine.timeline import calendar_for

CALENDARS = [
    calendar_for("America/New_York", "US", "1111100", "08:00-18:00"),
    calendar_for("Europe/Warsaw", "PL", "1111100", None),
    calendar_for("Pacific/Auckland", "NZ", "0111110", "09:00-17:00"),
    calendar_for("UTC", None, "1111111", None),
]

steps = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from([DelayUnit.WEEKDAYS, DelayUnit.HOURS])),
    min_size=1,
    max_size=6,
).map(
    lambda delays: tuple(
        Step(position, delay, unit, ActionType.AUTOMATED_EMAIL, 100 + position)
        for position, (delay, unit) in enumerate(delays)
    )
)
starts = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),
    max_value=dt.datetime(2028, 12, 31),
    timezones=st.just(dt.UTC),
)
# how late each step runs: on time (as the simulator runs them), within the second
# (the recorded instant is truncated), or later, up to a fortnight
lateness = st.one_of(
    st.just(dt.timedelta(0)),
    st.integers(1, 999_999).map(lambda us: dt.timedelta(microseconds=us)),
    st.integers(1, 14 * 86400).map(lambda s: dt.timedelta(seconds=s)),
)


@settings(max_examples=3 * settings.default.max_examples)
@given(
    st.sampled_from(CALENDARS),
    steps,
    starts,
    st.lists(lateness, min_size=6, max_size=6),
)
def test_the_plan_after_each_completion_is_the_full_re_plan(
    calendar: object, steps: tuple[Step, ...], start: dt.datetime, late: list[dt.timedelta]
) -> None:
    e = Enrollment.start(
        id=1, account_id=1, actor_id=1, sequence_id=1, resource_type=ResourceType.LEAD,
        resource_id=1, steps=steps, now=start, calendar=calendar,  # type: ignore[arg-type]
    )
    for position in range(len(steps)):
        planned = e.current_action.estimated_execute_at
        assert planned is not None and e.due_at == planned
        now = planned + late[position]
        e.begin_current(now)
        e.complete_current(now, calendar)  # type: ignore[arg-type]
        reference = copy.deepcopy(e)
        reference.replan(calendar)  # type: ignore[arg-type]  # every later step, in full
        assert [a.estimated_execute_at for a in e.actions] == [
            a.estimated_execute_at for a in reference.actions
        ]
        assert e.due_at == reference.due_at


@given(st.sampled_from(CALENDARS), steps, starts)
def test_a_new_enrollment_is_planned_as_a_full_re_plan_plans_it(
    calendar: object, steps: tuple[Step, ...], start: dt.datetime
) -> None:
    # Enrollment.start plans its steps in one pass (P4): the plan, the due instant and
    # every other field must be what `replan` makes of the same fresh enrollment
    e = Enrollment.start(
        id=1, account_id=1, actor_id=1, sequence_id=1, resource_type=ResourceType.LEAD,
        resource_id=1, steps=steps, now=start, calendar=calendar,  # type: ignore[arg-type]
    )
    reference = copy.deepcopy(e)
    for action in reference.actions:
        action.estimated_execute_at = None
    reference.due_at = None
    reference.replan(calendar)  # type: ignore[arg-type]
    assert e == reference
    assert e.actions == [StepAction(ActionStatus.SCHEDULED, a.estimated_execute_at)
                         for a in reference.actions]
