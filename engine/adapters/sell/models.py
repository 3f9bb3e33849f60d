"""What the Sell client returns: frozen read models of Sell's JSON, typed with the
domain's own vocabulary.

The wire shows less than the domain holds (no account, no planning anchor, no
send generations), so these are read models, not `engine.domain` objects filled
with guesses. Where the domain has the exact value type they reuse it: a step's
definition is an `engine.domain.sequence.Step`, unsubscribe settings are
`UnsubscribeSettings`, and every closed vocabulary is the domain's StrEnum.
Every instant is an aware UTC datetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from engine.domain.enums import (
    ActionStatus,
    ActionType,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    ResourceType,
)
from engine.domain.sequence import Step, UnsubscribeSettings

__all__ = [
    "RemoteAction",
    "RemoteEnrollment",
    "RemotePage",
    "RemoteSequence",
    "RemoteStep",
    "RemoteTask",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RemoteSequence:
    id: int
    name: str
    steps_total: int
    creator_id: int
    created_at: datetime
    updated_at: datetime
    unsubscribe_settings: UnsubscribeSettings
    # The definition, from GET /v2/sequences[/:id]; None inside an enrollment, whose
    # own (copied) steps are `RemoteEnrollment.steps`.
    steps: tuple[Step, ...] | None = None
    # Each step's id, by position, where the server gives one (Sell does).
    step_ids: tuple[int | None, ...] | None = None


@dataclass(frozen=True, slots=True)
class RemoteAction:
    """An enrollment step's action: the wire's `action.data`."""

    status: ActionStatus
    executed_at: datetime | None
    estimated_execute_at: datetime | None
    failure_reason: FailureReason | None
    task_content: str | None = None  # task steps only
    task_id: int | None = None  # task steps, once the task exists


@dataclass(frozen=True, slots=True)
class RemoteStep:
    """One enrollment step: its copied definition, whether it is overdue, its action."""

    step: Step
    overdue: bool
    action: RemoteAction

    @property
    def position(self) -> int:
        return self.step.position

    @property
    def action_type(self) -> ActionType:
        return self.step.action_type

    @property
    def status(self) -> ActionStatus:
        return self.action.status


@dataclass(frozen=True, slots=True)
class RemoteEnrollment:
    id: int
    actor_id: int
    resource_type: ResourceType
    resource_id: int
    created_at: datetime
    updated_at: datetime
    sequence: RemoteSequence
    state: EnrollmentState
    current_step_position: int
    steps: tuple[RemoteStep, ...]
    finished_at: datetime | None
    finished_reason: FinishedReason | None
    finished_actor_id: int | None

    @property
    def is_ongoing(self) -> bool:
        return self.state is not EnrollmentState.FINISHED

    @property
    def current_step(self) -> RemoteStep | None:
        if 0 <= self.current_step_position < len(self.steps):
            return self.steps[self.current_step_position]
        return None


@dataclass(frozen=True, slots=True)
class RemoteTask:
    """A Sell task. Sell also has tasks on deals and floating ones (no resource):
    `resource_type` is a ResourceType for leads and contacts, another target stays
    a plain string, and a floating task has None (as its `resource_id`)."""

    id: int
    creator_id: int
    owner_id: int
    resource_type: ResourceType | str | None
    resource_id: int | None
    completed: bool
    completed_at: datetime | None
    due_date: datetime | None
    overdue: bool
    remind_at: datetime | None
    content: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RemotePage(Generic[T]):
    """One page of a list: its items, and the number of the next page (None on the
    last). Iterating it iterates the items."""

    items: tuple[T, ...]
    page: int
    per_page: int
    next_page: int | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
