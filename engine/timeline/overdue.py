"""Overdue rules, evaluated when read against the engine's clock (``now`` is passed in)."""

from __future__ import annotations

import datetime as dt

from engine.timeline.calendar import BusinessCalendar

__all__ = [
    "EMAIL_GRACE",
    "email_overdue",
    "email_overdue_from",
    "task_overdue",
    "task_overdue_from",
]

EMAIL_GRACE: dt.timedelta = dt.timedelta(hours=1)
_MIDNIGHT = dt.time(0)
_TICK = dt.timedelta(microseconds=1)  # datetime's resolution


def email_overdue(
    now: dt.datetime, estimated: dt.datetime, grace: dt.timedelta = EMAIL_GRACE
) -> bool:
    """An email is overdue once ``now`` is strictly past ``estimated + grace``."""
    return now > estimated + grace


def email_overdue_from(
    estimated: dt.datetime, grace: dt.timedelta = EMAIL_GRACE
) -> dt.datetime:
    """The first instant at which ``email_overdue`` holds: one microsecond (datetime's
    resolution) past ``estimated + grace``, counted in UTC."""
    late = estimated + grace
    if late.tzinfo is not dt.UTC:
        late = late.astimezone(dt.UTC)
    return late + _TICK


def task_overdue(now: dt.datetime, estimated: dt.datetime, calendar: BusinessCalendar) -> bool:
    """A task is overdue once its local day (actor's zone) is over.

    The day ends at the next local midnight (if that midnight falls in a DST
    gap, at the instant the next day begins); ``now`` at that instant or later
    is overdue.
    """
    if now.tzinfo is None:
        raise ValueError("overdue checks need timezone-aware datetimes")
    return now >= task_overdue_from(estimated, calendar)


def task_overdue_from(estimated: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    """The first instant at which ``task_overdue`` holds: the end of ``estimated``'s
    local day."""
    if estimated.tzinfo is None:
        raise ValueError("overdue checks need timezone-aware datetimes")
    return calendar.instant(calendar.local_ordinal(estimated) + 1, _MIDNIGHT)
