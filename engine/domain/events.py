"""Things that happen outside the engine and change enrollments (semantics.md section 2)."""

from dataclasses import dataclass

from engine.domain.enums import ResourceType, coerce


@dataclass(frozen=True, slots=True)
class EmailReplied:
    enrollment_id: int


@dataclass(frozen=True, slots=True)
class ResourceDeleted:
    """Also what a lead converted to a contact sends for the lead."""

    resource_type: ResourceType
    resource_id: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "resource_type",
                           coerce(ResourceType, self.resource_type, "resource_type"))


@dataclass(frozen=True, slots=True)
class SubscriptionCancelled:
    """The account lost Reach."""


def _name_the_task(task_id: int | None, enrollment_id: int | None, position: int | None) -> None:
    if (task_id is None) == (enrollment_id is None or position is None):
        raise ValueError("name the task by task_id, or by its step: enrollment_id and position")


@dataclass(frozen=True, slots=True)
class TaskCompleted:
    """A task step's task was completed: named by the engine's own task id, or, when
    the host keeps the tasks (the task port), by its step: enrollment_id and position."""

    task_id: int | None = None
    enrollment_id: int | None = None
    position: int | None = None

    def __post_init__(self) -> None:
        _name_the_task(self.task_id, self.enrollment_id, self.position)


@dataclass(frozen=True, slots=True)
class TaskDeleted:
    """A task step's task was deleted (named as in TaskCompleted): the enrollment
    finishes with `task_deleted`."""

    task_id: int | None = None
    enrollment_id: int | None = None
    position: int | None = None

    def __post_init__(self) -> None:
        _name_the_task(self.task_id, self.enrollment_id, self.position)


Event = EmailReplied | ResourceDeleted | SubscriptionCancelled | TaskCompleted | TaskDeleted
