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


@dataclass(frozen=True, slots=True)
class TaskCompleted:
    task_id: int


@dataclass(frozen=True, slots=True)
class TaskDeleted:
    task_id: int


Event = EmailReplied | ResourceDeleted | SubscriptionCancelled | TaskCompleted | TaskDeleted
