"""Read models: what a reader sees of an enrollment at one instant."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus
from engine.domain.sequence import Sequence
from engine.timeline import BusinessCalendar, email_overdue, task_overdue

S = ActionStatus
EMAIL_LATE = (S.SCHEDULED, S.IN_PROGRESS, S.BLOCKED)
TASK_LATE = (S.SCHEDULED, S.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class EnrollmentView:
    enrollment: Enrollment
    sequence: Sequence  # as it is now (the enrollment keeps its own copy of the steps)
    overdue_position: int | None  # the current step, when it is overdue now


def overdue_position(
    enrollment: Enrollment, task_calendar: BusinessCalendar, now: datetime, grace: timedelta
) -> int | None:
    """Only the current step can be overdue, and only while it still has work to do.

    A task step is judged on `task_calendar`: its task owner's calendar once the task
    exists (the actor's before), the one the task itself is judged on, so the two
    never disagree (semantics.md 6)."""
    if not enrollment.steps:
        return None
    position = enrollment.current_step_position
    step, action = enrollment.steps[position], enrollment.actions[position]
    estimated = action.estimated_execute_at
    if estimated is None:
        return None
    if step.is_email:
        late = action.status in EMAIL_LATE and email_overdue(now, estimated, grace)
    else:
        late = action.status in TASK_LATE and task_overdue(now, estimated, task_calendar)
    return position if late else None
