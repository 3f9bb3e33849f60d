"""The invariants of semantics.md section 8, as one checker used by the property tests."""

from datetime import datetime

from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus, DelayUnit, EnrollmentState
from engine.timeline import BusinessCalendar

S = ActionStatus


def check_enrollment(e: Enrollment, calendar: BusinessCalendar) -> None:
    statuses = [a.status for a in e.actions]
    n = len(statuses)
    # 1. completed actions form a prefix; current = first non-completed (or the last index)
    done = 0
    while done < n and statuses[done] is S.COMPLETED:
        done += 1
    assert all(s is not S.COMPLETED for s in statuses[done:]), statuses
    assert e.current_step_position == (min(done, n - 1) if n else 0), (
        e.current_step_position,
        statuses,
    )
    # 2. at most one in_progress or blocked, and it is the current one
    busy = [i for i, s in enumerate(statuses) if s in (S.IN_PROGRESS, S.BLOCKED)]
    assert len(busy) <= 1 and all(i == e.current_step_position for i in busy), statuses
    # 3. blocked iff the current action is blocked
    current = statuses[e.current_step_position] if n else None
    assert (e.state is EnrollmentState.BLOCKED) == (current is S.BLOCKED), (e.state, statuses)
    # 4. finished iff finished_at and finished_reason; then nothing scheduled or blocked
    finished = e.state is EnrollmentState.FINISHED
    assert finished == (e.finished_at is not None) == (e.finished_reason is not None)
    if finished:
        assert not any(s in (S.SCHEDULED, S.BLOCKED) for s in statuses), statuses
        assert e.due_at is None or statuses[e.current_step_position] is S.IN_PROGRESS
    # 5. estimated times never decrease along pending steps; weekdays land on business days
    previous: datetime | None = None
    for step, action in zip(e.steps, e.actions, strict=True):
        if action.status is not S.SCHEDULED:
            continue
        est = action.estimated_execute_at
        assert est is not None
        if previous is not None:
            assert est >= previous, (previous, est)
        previous = est
        if step.delay_from_previous_step_unit is DelayUnit.WEEKDAYS:
            local = est.astimezone(calendar.zone)
            assert calendar.is_business_day(local.date()), (est, local)
    # completed and cancelled actions show no estimate
    for action in e.actions:
        if action.status in (S.COMPLETED, S.CANCELLED):
            assert action.estimated_execute_at is None

