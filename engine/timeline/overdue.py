"""Overdue rules, evaluated when read against the engine's clock (``now`` is passed in)."""

from __future__ import annotations

import datetime as dt

from engine.timeline.calendar import BusinessCalendar

__all__ = ["EMAIL_GRACE", "email_overdue", "task_overdue"]

EMAIL_GRACE: dt.timedelta = dt.timedelta(hours=1)
_MIDNIGHT = dt.time(0)


def email_overdue(
    now: dt.datetime, estimated: dt.datetime, grace: dt.timedelta = EMAIL_GRACE
) -> bool:
    """An email is overdue once ``now`` is strictly past ``estimated + grace``."""
    return now > estimated + grace


def task_overdue(now: dt.datetime, estimated: dt.datetime, calendar: BusinessCalendar) -> bool:
    """A task is overdue once its local day (actor's zone) is over.

    The day ends at the next local midnight (if that midnight falls in a DST
    gap, at the instant the next day begins); ``now`` at that instant or later
    is overdue.
    """
    if now.tzinfo is None or estimated.tzinfo is None:
        raise ValueError("overdue checks need timezone-aware datetimes")
    day = calendar.local_ordinal(estimated)
    return now >= calendar.instant(day + 1, _MIDNIGHT)
