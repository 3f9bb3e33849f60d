"""What outside events do to enrollments (semantics.md section 2)."""

from datetime import datetime

from engine.app.enrollments import get_enrollment
from engine.app.ports import UnitOfWork
from engine.app.tasks import complete_step_task, delete_step_task, delete_task, update_task
from engine.domain.account import Account
from engine.domain.enrollment import Enrollment
from engine.domain.enums import FinishedReason
from engine.domain.events import (
    EmailReplied,
    Event,
    ResourceDeleted,
    SubscriptionCancelled,
    TaskCompleted,
    TaskDeleted,
)


def handle_event(
    uow: UnitOfWork, now: datetime, account: Account, event: Event
) -> list[Enrollment]:
    """Apply one event; returns the enrollments it finished (empty when nothing was ongoing)."""
    match event:
        case EmailReplied(enrollment_id=enrollment_id):
            enrollment = get_enrollment(uow, account, enrollment_id)
            return _finish(uow, [enrollment], FinishedReason.REPLIED_TO_EMAIL, now)
        case ResourceDeleted(resource_type=resource_type, resource_id=resource_id):
            ongoing = uow.ongoing_enrollments(account.id, resource=(resource_type, resource_id))
            return _finish(uow, ongoing, FinishedReason.RESOURCE_DELETED, now)
        case SubscriptionCancelled():
            account.reach_enabled = False
            uow.save_account(account)
            ongoing = uow.ongoing_enrollments(account.id)
            return _finish(uow, ongoing, FinishedReason.SUBSCRIPTION_CANCELLED, now)
        case TaskCompleted(task_id=int() as task_id):
            update_task(uow, now, account, task_id, completed=True)
            return []
        case TaskCompleted(enrollment_id=int() as enrollment_id, position=int() as position):
            return complete_step_task(uow, now, account, enrollment_id, position)
        case TaskDeleted(task_id=int() as task_id):
            delete_task(uow, now, account, task_id)
            return []
        case TaskDeleted(enrollment_id=int() as enrollment_id, position=int() as position):
            return delete_step_task(uow, now, account, enrollment_id, position)
    raise TypeError(f"not an event: {event!r}")


def _finish(
    uow: UnitOfWork, enrollments: list[Enrollment], reason: FinishedReason, now: datetime
) -> list[Enrollment]:
    finished = []
    for enrollment in enrollments:
        if enrollment.is_ongoing:  # a reply to a finished enrollment changes nothing
            enrollment.finish(reason, now)
            uow.save_enrollment(enrollment)
            finished.append(enrollment)
    return finished
