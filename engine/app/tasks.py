"""Tasks: created by a task step when it becomes due; completing or deleting one
moves its enrollment (semantics.md section 6).

The engine keeps tasks itself (`/v2/tasks`) unless a host takes them over through
the task port (engine.app.ports.TaskDelivery): then the host names a completed or
deleted task by its step, enrollment_id and position, and the functions at the end
of this module apply it."""

from datetime import datetime

from engine.app.enrollments import actor_calendar, get_enrollment
from engine.app.ports import Page, TaskFilter, UnitOfWork
from engine.domain.account import Account
from engine.domain.enrollment import Enrollment, StepAction, to_seconds
from engine.domain.enums import ActionStatus, FinishedReason, ResourceType
from engine.domain.sequence import Step
from engine.domain.task import Task
from engine.errors import ErrorDetail, NotFound, ValidationFailed

RESOURCE = "task"


def create_step_task(
    uow: UnitOfWork, enrollment: Enrollment, step: Step, action: StepAction, now: datetime
) -> int:
    recorded = to_seconds(now)
    assert action.estimated_execute_at is not None
    task = Task(
        id=uow.next_id("task"),
        account_id=enrollment.account_id,
        creator_id=enrollment.actor_id,
        owner_id=enrollment.actor_id,
        resource_type=enrollment.resource_type,
        resource_id=enrollment.resource_id,
        content=step.task_content or "",
        due_date=action.estimated_execute_at,
        created_at=recorded,
        updated_at=recorded,
        enrollment_id=enrollment.id,
        position=step.position,
    )
    uow.save_task(task)
    return task.id


def get_task(uow: UnitOfWork, account: Account, task_id: int) -> Task:
    task = uow.get_task(account.id, task_id)
    if task is None:
        raise NotFound(RESOURCE, task_id)
    return task


def list_tasks(uow: UnitOfWork, account: Account, where: TaskFilter, page: Page) -> list[Task]:
    return uow.list_tasks(account.id, where, page)


def _step_enrollment(uow: UnitOfWork, task: Task) -> Enrollment | None:
    """The enrollment whose current, in-progress step created this task, if any."""
    if task.enrollment_id is None:
        return None
    enrollment = uow.get_enrollment(task.account_id, task.enrollment_id)
    if (
        enrollment is None
        or not enrollment.is_ongoing
        or enrollment.current_step_position != task.position
        or enrollment.current_action.status is not ActionStatus.IN_PROGRESS
        or enrollment.current_action.task_id != task.id
    ):
        return None
    return enrollment


def _completed_its_step(uow: UnitOfWork, task: Task) -> bool:
    """Whether this task's completion completed its step (and so moved its enrollment on)."""
    if task.enrollment_id is None or task.position is None:
        return False
    enrollment = uow.get_enrollment(task.account_id, task.enrollment_id)
    if enrollment is None or task.position >= len(enrollment.actions):
        return False
    action = enrollment.actions[task.position]
    return action.status is ActionStatus.COMPLETED and action.task_id == task.id


def update_task(
    uow: UnitOfWork,
    now: datetime,
    account: Account,
    task_id: int,
    *,
    completed: bool | None = None,
    content: str | None = None,
    due_date: datetime | None = None,
    remind_at: datetime | None = None,
    owner_id: int | None = None,
    resource_type: ResourceType | None = None,
    resource_id: int | None = None,
) -> Task:
    """Sell's writable task fields; `completed: true` also completes the task's step.

    The owner may change to another user of the account; a task stays on its resource
    (sending the same resource back, as Sell's clients do, is accepted). While the task's
    step awaits it, a new `due_date` moves the step too (semantics.md 6). A task whose
    completion moved its enrollment on cannot be reopened; a task of a finished
    enrollment is edited like any task, without effect on the enrollment."""
    task = get_task(uow, account, task_id)
    errors = []
    if completed is False and task.completed and _completed_its_step(uow, task):
        errors.append(ErrorDetail(
            "incorrect_value",
            f"task {task.id} cannot be reopened: completing it completed step "
            f"{task.position} of enrollment {task.enrollment_id}, which has moved on",
            "/data/completed"))
    if owner_id is not None:
        owner = uow.get_user(owner_id)
        if owner is None or owner.account_id != account.id:
            errors.append(ErrorDetail("incorrect_value",
                                      f"user {owner_id} is not a user of this account",
                                      "/data/owner_id"))
    for name, given, current in (("resource_type", resource_type, task.resource_type),
                                 ("resource_id", resource_id, task.resource_id)):
        if given is not None and given != current:
            errors.append(ErrorDetail("incorrect_value",
                                      f"a task cannot move to another resource ({name})",
                                      f"/data/{name}"))
    if errors:
        raise ValidationFailed(errors, resource=RESOURCE)
    if owner_id is not None:
        task.owner_id = owner_id
    recorded = to_seconds(now)
    if content is not None:
        task.content = content
    if due_date is not None and due_date != task.due_date:
        task.due_date = due_date
        enrollment = _step_enrollment(uow, task)
        if enrollment is not None:
            enrollment.move_current(due_date, actor_calendar(uow, enrollment))
            uow.save_enrollment(enrollment)
    if remind_at is not None:
        task.remind_at = remind_at
    if completed is not None and completed != task.completed:
        task.completed = completed
        task.completed_at = recorded if completed else None
        enrollment = _step_enrollment(uow, task) if completed else None
        if enrollment is not None:
            enrollment.complete_current(recorded, actor_calendar(uow, enrollment))
            uow.save_enrollment(enrollment)
    task.updated_at = recorded
    uow.save_task(task)
    return task


def delete_task(uow: UnitOfWork, now: datetime, account: Account, task_id: int) -> None:
    """Deleting a step's task finishes its enrollment with `task_deleted`."""
    task = get_task(uow, account, task_id)
    enrollment = _step_enrollment(uow, task)
    if enrollment is not None:
        enrollment.finish(FinishedReason.TASK_DELETED, now)
        uow.save_enrollment(enrollment)
    uow.delete_task(task)


# -- a host's tasks, named by their step -------------------------------------


def _waiting_step(uow: UnitOfWork, account: Account, enrollment_id: int,
                  position: int) -> Enrollment | None:
    """The enrollment if its task step at `position` is the current one and waits for
    its task; None if the step is past or was cancelled (a repeated event changes
    nothing). Refuses a position that is not a task step."""
    enrollment = get_enrollment(uow, account, enrollment_id)
    if not 0 <= position < len(enrollment.steps) or enrollment.steps[position].is_email:
        raise ValidationFailed([ErrorDetail(
            "incorrect_value", f"step {position} of enrollment {enrollment_id} is not a task step",
            "/data/position")], resource="event")
    if (
        enrollment.is_ongoing
        and enrollment.current_step_position == position
        and enrollment.current_action.status is ActionStatus.IN_PROGRESS
    ):
        return enrollment
    return None


def _own_task(uow: UnitOfWork, enrollment: Enrollment) -> Task | None:
    """The engine's own task for the current step, if the engine keeps it."""
    task_id = enrollment.current_action.task_id
    task = None if task_id is None else uow.get_task(enrollment.account_id, task_id)
    if task is None or task.enrollment_id != enrollment.id:
        return None
    return task


def complete_step_task(uow: UnitOfWork, now: datetime, account: Account, enrollment_id: int,
                       position: int) -> list[Enrollment]:
    """The task of step `position` was completed; returns the enrollment if that
    finished it (it was the last step)."""
    enrollment = _waiting_step(uow, account, enrollment_id, position)
    if enrollment is None:
        return []
    own = _own_task(uow, enrollment)
    if own is not None:  # the engine's task too: task and step never disagree
        update_task(uow, now, account, own.id, completed=True)
        enrollment = get_enrollment(uow, account, enrollment_id)
    else:
        enrollment.complete_current(to_seconds(now), actor_calendar(uow, enrollment))
        uow.save_enrollment(enrollment)
    return [] if enrollment.is_ongoing else [enrollment]


def delete_step_task(uow: UnitOfWork, now: datetime, account: Account, enrollment_id: int,
                     position: int) -> list[Enrollment]:
    """The task of step `position` was deleted: the enrollment finishes with
    `task_deleted`; returns it."""
    enrollment = _waiting_step(uow, account, enrollment_id, position)
    if enrollment is None:
        return []
    own = _own_task(uow, enrollment)
    if own is not None:
        uow.delete_task(own)
    enrollment.finish(FinishedReason.TASK_DELETED, now)
    uow.save_enrollment(enrollment)
    return [enrollment]
