"""Timeline: business calendars, step planning and overdue rules (pure, no clock reads).

Every datetime in and out is timezone-aware; results are UTC.
"""

from engine.timeline.calendar import BusinessCalendar, SendWindow, calendar_for
from engine.timeline.overdue import (
    EMAIL_GRACE,
    email_overdue,
    email_overdue_from,
    task_overdue,
    task_overdue_from,
)
from engine.timeline.planning import next_business_day_start, plan, roll_forward
from engine.timeline.units import DelayUnit

__all__ = [
    "EMAIL_GRACE",
    "BusinessCalendar",
    "DelayUnit",
    "SendWindow",
    "calendar_for",
    "email_overdue",
    "email_overdue_from",
    "next_business_day_start",
    "plan",
    "roll_forward",
    "task_overdue",
    "task_overdue_from",
]
