"""Every closed vocabulary the seed names, as string enums (their values are the wire values)."""

from enum import StrEnum
from typing import TypeVar

from engine.errors import ErrorDetail, ValidationFailed
from engine.timeline import DelayUnit

__all__ = [
    "ActionStatus",
    "ActionType",
    "DelayUnit",
    "EnrollmentState",
    "FailureReason",
    "FinishedReason",
    "LimitPolicy",
    "ResourceType",
    "coerce",
]

_E = TypeVar("_E", bound=StrEnum)


def coerce(kind: type[_E], value: object, field: str) -> _E:
    """``value`` as a member of ``kind``: library callers may pass the plain string.

    Anything else is refused with a 422-style error naming the field and the
    allowed values, the same on every store (a store never sees a bare string).
    """
    if isinstance(value, kind):
        return value
    if isinstance(value, str) and value in kind.__members__.values():
        return kind(value)
    allowed = ", ".join(member.value for member in kind)
    raise ValidationFailed([ErrorDetail(
        "incorrect_value", f"{field} must be one of {allowed}, got {value!r}", field
    )])


class EnrollmentState(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    FINISHED = "finished"


class ActionStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class ActionType(StrEnum):
    AUTOMATED_EMAIL = "automated_email"
    TASK = "task"


class ResourceType(StrEnum):
    LEAD = "lead"
    CONTACT = "contact"


class FailureReason(StrEnum):
    UNKNOWN = "unknown"
    SENDOUT_LIMITED = "sendout_limited"
    RECIPIENT_INVALID = "recipient_invalid"
    AUTH = "auth"
    MISSING_MERGE_TAGS = "missing_merge_tags"
    ATTACHMENT_LIMIT_EXCEEDED = "attachment_limit_exceeded"
    SENDOUT_DISABLED = "sendout_disabled"
    QUOTA_EXCEEDED = "quota_exceeded"


class FinishedReason(StrEnum):
    MANUAL = "manual"
    ALL_STEPS_COMPLETED = "all_steps_completed"
    REPLIED_TO_EMAIL = "replied_to_email"
    RESOURCE_DELETED = "resource_deleted"
    SUBSCRIPTION_CANCELLED = "subscription_cancelled"
    TASK_DELETED = "task_deleted"


class LimitPolicy(StrEnum):
    """What a send over a daily limit does: block (as Sell does) or wait for the next day."""

    BLOCK = "block"
    DEFER = "defer"
