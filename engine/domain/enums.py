"""Every closed vocabulary the seed names, as string enums (their values are the wire values)."""

from enum import StrEnum

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
]


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
