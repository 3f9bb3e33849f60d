"""Sequences and their steps. A Step is immutable: an enrollment copies the
sequence's step tuple when it starts, so editing a sequence (which builds new
Steps) never changes a running enrollment, and enrollments share Step objects.

A step's id (Sell shows one on each step of a sequence) is derived, not stored:
`sequence id * STEP_ID_BASE + position`. So it is unique across sequences,
survives restarts and every backend alike, and an edit keeps it wherever a
position survives; no storage backend has to keep it."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.domain.enums import ActionType, DelayUnit

STEP_ID_BASE = 1000  # a sequence has fewer steps than this: ids of two sequences never meet
# The largest sequence id whose step ids still fit a signed 64-bit integer.
MAX_SEQUENCE_ID = (2**63 - 1) // STEP_ID_BASE - 1


@dataclass(frozen=True, slots=True)
class Step:
    position: int
    delay_from_previous_step: int
    delay_from_previous_step_unit: DelayUnit
    action_type: ActionType
    email_template_id: int | None = None
    is_reply: bool = False
    task_content: str | None = None

    @property
    def is_email(self) -> bool:
        return self.action_type is ActionType.AUTOMATED_EMAIL

    @property
    def action_properties(self) -> dict[str, Any]:
        if self.is_email:
            return {"email_template_id": self.email_template_id, "is_reply": self.is_reply}
        return {"task_content": self.task_content}


@dataclass(frozen=True, slots=True)
class UnsubscribeSettings:
    enabled: bool = True
    locale: str = "en-US"


@dataclass(slots=True)
class Sequence:
    id: int
    account_id: int
    name: str
    creator_id: int
    created_at: datetime
    updated_at: datetime
    steps: tuple[Step, ...] = ()
    unsubscribe_settings: UnsubscribeSettings = field(default_factory=UnsubscribeSettings)

    @property
    def steps_total(self) -> int:
        return len(self.steps)

    def step_id(self, position: int) -> int:
        """The stable id of the step at `position` (see the module's docstring)."""
        return self.id * STEP_ID_BASE + position
