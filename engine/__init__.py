"""seqengine: an enrollment state machine and scheduling engine, wire-compatible
with Zendesk Sell's Sequence Enrollments API."""

from engine.adapters.clocks import SimulatedClock, SystemClock
from engine.adapters.storage.memory import MemoryStore
from engine.app.policy import ExecutionPolicy
from engine.app.ports import EnrollmentFilter, FailureRule, Page, SequenceFilter, Sort, TaskFilter
from engine.app.service import SequenceEngine
from engine.app.views import EnrollmentView
from engine.domain.account import Account, User
from engine.domain.enrollment import Enrollment, StepAction
from engine.domain.enums import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    LimitPolicy,
    ResourceType,
)
from engine.domain.events import (
    EmailReplied,
    ResourceDeleted,
    SubscriptionCancelled,
    TaskCompleted,
    TaskDeleted,
)
from engine.domain.sequence import Sequence, Step, UnsubscribeSettings
from engine.domain.task import Task
from engine.errors import EngineError
from engine.runtime.bootstrap import build, in_memory

__all__ = [
    "Account",
    "ActionStatus",
    "ActionType",
    "DelayUnit",
    "EmailReplied",
    "EngineError",
    "Enrollment",
    "EnrollmentFilter",
    "EnrollmentState",
    "EnrollmentView",
    "ExecutionPolicy",
    "FailureReason",
    "FailureRule",
    "FinishedReason",
    "LimitPolicy",
    "MemoryStore",
    "Page",
    "ResourceDeleted",
    "ResourceType",
    "Sequence",
    "SequenceEngine",
    "SequenceFilter",
    "SimulatedClock",
    "Sort",
    "Step",
    "StepAction",
    "SubscriptionCancelled",
    "SystemClock",
    "Task",
    "TaskCompleted",
    "TaskDeleted",
    "TaskFilter",
    "UnsubscribeSettings",
    "User",
    "build",
    "in_memory",
]
