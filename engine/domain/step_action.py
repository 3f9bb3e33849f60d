"""What happened to one step of an enrollment: its action.

A StepAction is a dataclass with eight fields, but only three are stored in
slots of their own: `status`, `estimated_execute_at` and `executed_at`, which
nearly every action sets. The other five (`failure_reason`, `task_id`,
`generation`, `attempts`, `resumed_at`) stay at their defaults for most actions,
so they live together in one immutable record, and every action whose five are
all defaults points at the same shared one. An action is then 64 bytes instead
of 112 (performance.md P1: 1M enrollments of 5 steps in 1 GB): 240 bytes less
per 5-step enrollment. The five read through C-level getters (`attrgetter`,
about as fast as a slot) and write through setters that swap the record; a
write of the value already there allocates nothing. Construction, equality,
repr, `dataclasses.fields`/`asdict`/`replace`, pickling: as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.domain.enums import ActionStatus, FailureReason

__all__ = ["StepAction"]


class _Rare(NamedTuple):
    """The five fields most actions leave at their defaults, in field order."""

    failure_reason: FailureReason | None
    task_id: int | None
    generation: int  # resumes of this step; part of the idempotency key
    attempts: int  # transient delivery failures of the current send
    resumed_at: datetime | None  # a resumed step is planned from here, delay 0


_DEFAULTS = _Rare(None, None, 0, 0, None)
_SCHEDULED = ActionStatus.SCHEDULED
_new = object.__new__


def _rare(
    failure_reason: FailureReason | None,
    task_id: int | None,
    generation: int,
    attempts: int,
    resumed_at: datetime | None,
) -> _Rare:
    """The shared defaults record when all five are defaults (the very int 0, so a
    value of another type equal to 0 is kept as given), else a record of its own."""
    if (
        failure_reason is None
        and task_id is None
        and resumed_at is None
        and generation.__class__ is int
        and attempts.__class__ is int
        and not generation
        and not attempts
    ):
        return _DEFAULTS
    return _Rare(failure_reason, task_id, generation, attempts, resumed_at)


@dataclass(init=False)
class StepAction:
    # `_rare` is the record of the five: the email path reads `action._rare.attempts` and
    # `.generation` (never writes it), half the cost of the properties (P4)
    if not TYPE_CHECKING:  # mypy would refuse assignments to the five properties
        __slots__ = ("_rare", "estimated_execute_at", "executed_at", "status")

    status: ActionStatus
    estimated_execute_at: datetime | None
    executed_at: datetime | None
    failure_reason: FailureReason | None
    task_id: int | None
    generation: int  # resumes of this step; part of the idempotency key
    attempts: int  # transient delivery failures of the current send
    resumed_at: datetime | None  # a resumed step is planned from here, delay 0

    def __init__(
        self,
        status: ActionStatus,
        estimated_execute_at: datetime | None,
        executed_at: datetime | None = None,
        failure_reason: FailureReason | None = None,
        task_id: int | None = None,
        generation: int = 0,
        attempts: int = 0,
        resumed_at: datetime | None = None,
    ) -> None:
        self.status = status
        self.estimated_execute_at = estimated_execute_at
        self.executed_at = executed_at
        self._rare = _rare(failure_reason, task_id, generation, attempts, resumed_at)

    @classmethod
    def planned(cls, estimated_execute_at: datetime) -> StepAction:
        """``StepAction(SCHEDULED, estimated_execute_at)``, built without the checks of
        the five rare fields (all defaults): what every new enrollment makes (P4)."""
        action = _new(cls)
        action.status = _SCHEDULED
        action.estimated_execute_at = estimated_execute_at
        action.executed_at = None
        action._rare = _DEFAULTS
        return action


def _setter(index: int) -> Any:
    def set_field(action: Any, value: Any) -> None:
        rare = action._rare
        if rare[index] is not value:
            values = list(rare)
            values[index] = value
            action._rare = _rare(*values)

    return set_field


for _index, _name in enumerate(_Rare._fields):
    setattr(StepAction, _name, property(attrgetter(f"_rare.{_name}"), _setter(_index)))
