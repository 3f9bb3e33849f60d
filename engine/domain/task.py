"""A task as Sell shows it: created by a task step when it becomes due."""

from dataclasses import dataclass
from datetime import datetime

from engine.domain.enums import ResourceType


@dataclass(slots=True)
class Task:
    id: int
    account_id: int
    creator_id: int
    owner_id: int
    resource_type: ResourceType
    resource_id: int
    content: str
    due_date: datetime
    created_at: datetime
    updated_at: datetime
    enrollment_id: int | None = None
    position: int | None = None
    completed: bool = False
    completed_at: datetime | None = None
    remind_at: datetime | None = None
