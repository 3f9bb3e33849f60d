"""Overdue boundaries for emails (grace) and tasks (end of the actor's local day)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine.timeline import EMAIL_GRACE, calendar_for, email_overdue, task_overdue

UTC = dt.UTC
TICK = dt.timedelta(microseconds=1)
ESTIMATED = dt.datetime(2026, 5, 20, 15, 0, 0, 500000, tzinfo=UTC)


def test_email_grace_is_one_hour() -> None:
    assert dt.timedelta(hours=1) == EMAIL_GRACE


def test_email_overdue_only_strictly_after_the_grace() -> None:
    assert not email_overdue(ESTIMATED, ESTIMATED)
    assert not email_overdue(ESTIMATED + EMAIL_GRACE, ESTIMATED)
    assert email_overdue(ESTIMATED + EMAIL_GRACE + TICK, ESTIMATED)
    assert not email_overdue(ESTIMATED - dt.timedelta(days=3), ESTIMATED)


def test_email_overdue_custom_grace() -> None:
    grace = dt.timedelta(minutes=5)
    assert not email_overdue(ESTIMATED + grace, ESTIMATED, grace)
    assert email_overdue(ESTIMATED + grace + TICK, ESTIMATED, grace)
    assert email_overdue(ESTIMATED + TICK, ESTIMATED, dt.timedelta(0))


def test_task_overdue_after_the_local_day_ends() -> None:
    calendar = calendar_for("America/New_York")  # 15:00 UTC is 11:00 EDT
    end_of_day = dt.datetime(2026, 5, 21, 4, tzinfo=UTC)  # local midnight
    assert not task_overdue(ESTIMATED, ESTIMATED, calendar)
    assert not task_overdue(end_of_day - TICK, ESTIMATED, calendar)
    assert task_overdue(end_of_day, ESTIMATED, calendar)
    assert task_overdue(end_of_day + dt.timedelta(days=9), ESTIMATED, calendar)


def test_task_overdue_uses_the_actor_zone() -> None:
    late_evening_utc = dt.datetime(2026, 5, 20, 23, 30, tzinfo=UTC)
    now = dt.datetime(2026, 5, 21, 0, 30, tzinfo=UTC)
    assert task_overdue(now, late_evening_utc, calendar_for())
    assert not task_overdue(now, late_evening_utc, calendar_for("America/Los_Angeles"))
    # In Tokyo the estimate is already on the 21st, which ends at 15:00 UTC.
    tokyo = calendar_for("Asia/Tokyo")
    assert not task_overdue(now, late_evening_utc, tokyo)
    assert task_overdue(dt.datetime(2026, 5, 21, 15, tzinfo=UTC), late_evening_utc, tokyo)


def test_task_day_that_ends_on_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    saturday = dt.datetime(2026, 3, 7, 12, tzinfo=new_york)
    end = dt.datetime(2026, 3, 8, 5, tzinfo=UTC)  # midnight EST
    calendar = calendar_for("America/New_York")
    assert not task_overdue(end - TICK, saturday, calendar)
    assert task_overdue(end, saturday, calendar)


def test_task_day_ending_at_a_midnight_gap() -> None:
    # Cairo jumps from 00:00 to 01:00 on Friday 2026-04-24: Thursday ends at 22:00 UTC.
    cairo = ZoneInfo("Africa/Cairo")
    thursday = dt.datetime(2026, 4, 23, 12, tzinfo=cairo)
    calendar = calendar_for("Africa/Cairo")
    end = dt.datetime(2026, 4, 23, 22, tzinfo=UTC)
    assert not task_overdue(end - TICK, thursday, calendar)
    assert task_overdue(end, thursday, calendar)


def test_task_overdue_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        task_overdue(dt.datetime(2026, 5, 21), ESTIMATED, calendar_for())


def test_email_overdue_from_is_the_first_overdue_instant() -> None:
    from engine.timeline import email_overdue_from

    for grace in (EMAIL_GRACE, dt.timedelta(minutes=5), dt.timedelta(0)):
        first = email_overdue_from(ESTIMATED, grace)
        assert first == ESTIMATED + grace + TICK
        assert first.tzinfo is UTC
        assert email_overdue(first, ESTIMATED, grace)
        assert not email_overdue(first - TICK, ESTIMATED, grace)
    assert email_overdue_from(ESTIMATED) == ESTIMATED + EMAIL_GRACE + TICK  # the default


def test_email_overdue_from_counts_in_utc_across_a_dst_change() -> None:
    """An estimate in a zone whose clocks go back within the grace: the first overdue
    instant is one microsecond past the grace's end as an instant, in UTC."""
    from engine.timeline import email_overdue_from

    new_york = ZoneInfo("America/New_York")
    estimated = dt.datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=new_york)  # EDT, before
    first = email_overdue_from(estimated)
    assert first.tzinfo is UTC
    assert email_overdue(first, estimated) and not email_overdue(first - TICK, estimated)


def test_task_overdue_from_is_the_end_of_the_local_day() -> None:
    from engine.timeline import task_overdue_from

    calendar = calendar_for("America/New_York")
    end_of_day = dt.datetime(2026, 5, 21, 4, tzinfo=UTC)
    assert task_overdue_from(ESTIMATED, calendar) == end_of_day
    saturday = dt.datetime(2026, 3, 7, 12, tzinfo=ZoneInfo("America/New_York"))
    assert task_overdue_from(saturday, calendar) == dt.datetime(2026, 3, 8, 5, tzinfo=UTC)
    message = "^overdue checks need timezone-aware datetimes$"  # the whole text
    with pytest.raises(ValueError, match=message):
        task_overdue_from(ESTIMATED.replace(tzinfo=None), calendar)
    with pytest.raises(ValueError, match=message):
        task_overdue(ESTIMATED.replace(tzinfo=None), ESTIMATED, calendar)
