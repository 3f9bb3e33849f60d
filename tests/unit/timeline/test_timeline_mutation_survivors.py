"""Survivors of the 2026-12-06 mutation run over engine/timeline (issue 12): each test
names the mutant it kills (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine.timeline import BusinessCalendar, DelayUnit, plan, roll_forward
from engine.timeline.daytable import build_day_table

UTC = dt.UTC


def test_local_date_across_a_fall_back_over_local_midnight() -> None:
    """Antarctica/Casey went from +11 to +08 at 02:00 on 2010-03-05: the last hours of
    2010-03-04 came again. An instant of 15:00-16:00 UTC on 2010-03-04 is on the 4th,
    although the UTC day's offset (+11) puts it on the 5th, a day of another offset.
    Found by searching every zone's changes, 1970-2037, for an instant where the fast
    path's guess and zoneinfo differ. Kills BusinessCalendar.local_ordinal's `is not
    offset` (the guess taken exactly when the local day's offset differs)."""
    zone = ZoneInfo("Antarctica/Casey")
    calendar = BusinessCalendar("Antarctica/Casey")
    calendar.prepare(dt.date(2010, 1, 1).toordinal(), dt.date(2010, 12, 31).toordinal())
    start = dt.datetime(2010, 3, 3, tzinfo=UTC)
    for quarter in range(3 * 96):
        instant = start + dt.timedelta(minutes=15 * quarter)
        assert calendar.local_date(instant) == instant.astimezone(zone).date(), instant
    assert calendar.local_date(dt.datetime(2010, 3, 4, 15, 30, tzinfo=UTC)) == dt.date(
        2010, 3, 4)


class _Switch(dt.tzinfo):
    """A zone whose offset goes from +00 to +01 at a given local wall time."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        assert when is not None
        return dt.timedelta(hours=0 if when.replace(tzinfo=None) < self.at else 1)

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)

    def tzname(self, when: dt.datetime | None) -> str:
        return "switch"


def test_a_change_on_the_last_day_of_the_table_or_just_after_it() -> None:
    """The weekly probes end at hi + 1: a change on the table's last day makes that
    day irregular, and one on the day after leaves every day regular. Kills
    daytable._day_offsets's `hi - 1` and `hi + 2` for the last probe, `points[2:]`
    (the last week never compared) and `change < hi` (a change on hi left out)."""
    last_day = build_day_table(_Switch(dt.datetime(2013, 12, 31, 12)), "1111100", None,
                               2013, 2013)
    assert len(last_day.offsets) == 365
    assert last_day.offsets[-1] is None
    assert set(last_day.offsets[:-1]) == {dt.timedelta(0)}
    day_after = build_day_table(_Switch(dt.datetime(2014, 1, 1, 12)), "1111100", None,
                                2013, 2013)
    assert len(day_after.offsets) == 365
    assert set(day_after.offsets) == {dt.timedelta(0)}


def test_local_date_answers_from_the_last_local_day_it_kept() -> None:
    """BusinessCalendar.local_date keeps the UTC span of the last local day it found
    (`_last_local`) and answers an instant inside it from there; the span's ends
    are inclusive and exclusive. A kept day the instants could never have (1999-01-01)
    shows which answer came from it. Kills local_date's `last = None` and
    `last[1] <= instant < last[1]` (the kept day never used)."""
    calendar = BusinessCalendar("Europe/Warsaw")
    start = dt.datetime(2020, 12, 14, 23, 0, tzinfo=dt.UTC)  # the 15th, 00:00 in Warsaw
    assert calendar.local_date(start) == dt.date(2020, 12, 15)
    assert calendar._last_local == (start, start + dt.timedelta(days=1), dt.date(2020, 12, 15))
    calendar._last_local = (start, start + dt.timedelta(days=1), dt.date(1999, 1, 1))
    assert calendar.local_date(start) == dt.date(1999, 1, 1)
    assert calendar.local_date(start + dt.timedelta(hours=23, minutes=59)) == dt.date(1999, 1, 1)
    assert calendar.local_date(start + dt.timedelta(days=1)) == dt.date(2020, 12, 16)


def _kept_day(calendar: BusinessCalendar, day: int) -> dt.date | None:
    """local_date at noon UTC of `day` (the same local date in Tokyo and New York),
    then the local day it kept, if any."""
    date = dt.date.fromordinal(day)
    assert calendar.local_date(dt.datetime.combine(date, dt.time(12), dt.UTC)) == date
    kept = calendar._last_local
    return None if kept is None else kept[2]


def test_local_date_keeps_every_day_whose_span_it_can_write() -> None:
    """0001-01-01 east of UTC is answered but not kept (its span would start before
    the first representable instant); the day after it is kept. Kills local_date's
    `2 < day` and `1 <= day` (an OverflowError)."""
    tokyo = BusinessCalendar("Asia/Tokyo")
    assert _kept_day(tokyo, 1) is None
    assert _kept_day(tokyo, 2) == dt.date(1, 1, 2)


def test_a_weekdays_step_landing_on_a_dst_day_is_planned_by_zoneinfo() -> None:
    """Warsaw, every day a business day: two weekdays from Friday 2021-03-26 10:00
    land on Sunday 28th, when clocks jump at 02:00 (the table has no single offset
    for it): 10:00 local, now 08:00 UTC. Kills plan's `elif target_offset is None`
    (the offset difference taken with None: a TypeError)."""
    calendar = BusinessCalendar("Europe/Warsaw", weekmask="1111111")
    friday = dt.datetime(2021, 3, 26, 9, 0, tzinfo=dt.UTC)  # 10:00 in Warsaw
    calendar.prepare(friday.toordinal() - 7, friday.toordinal() + 7)  # the fast path's table
    assert plan(friday, 2, DelayUnit.WEEKDAYS, calendar) == dt.datetime(
        2021, 3, 28, 8, 0, tzinfo=dt.UTC)


def _window_calendar(zone: str) -> BusinessCalendar:
    """A Monday-to-Friday calendar with a 09:00-17:00 window whose table covers
    2029-2034 (one year before 2030, four after), ending on Sunday 2034-12-31."""
    calendar = BusinessCalendar(zone, send_window="09:00-17:00")
    calendar.prepare(dt.date(2030, 6, 3).toordinal(), dt.date(2030, 6, 3).toordinal())
    assert calendar.table.hi == dt.date(2034, 12, 31).toordinal()
    return calendar


def test_an_hours_step_on_the_tables_last_utc_day_east_of_utc() -> None:
    """20:00 UTC on the table's last day is 05:00 on Monday 2035-01-01 in Tokyo, a day
    past the table: planned by the roll (the window opens at 00:00 UTC). Kills plan's
    `lo < day <= hi` in the hours path (the next local day's offset read past the
    table: an IndexError)."""
    calendar = _window_calendar("Asia/Tokyo")
    last = dt.datetime(2034, 12, 31, 20, 0, tzinfo=UTC)
    assert plan(last, 0, DelayUnit.HOURS, calendar) == dt.datetime(2035, 1, 1, tzinfo=UTC)
    assert plan(last - dt.timedelta(hours=3), 3, DelayUnit.HOURS, calendar) == dt.datetime(
        2035, 1, 1, tzinfo=UTC)


def test_an_hours_step_after_the_tables_last_business_day() -> None:
    """Saturday 2034-12-30 lies in the table but after its last business day (Friday
    29th): no business day of the table is on or after it, and the step rolls to
    Monday's opening, past the table. Kills plan's `index <= len(opens)` and `index <
    len(opens) or opens[index] == local` in the hours path (opens read one past its
    end: an IndexError)."""
    calendar = _window_calendar("UTC")
    saturday = dt.datetime(2034, 12, 30, 10, 0, tzinfo=UTC)
    assert plan(saturday, 0, DelayUnit.HOURS, calendar) == dt.datetime(
        2035, 1, 1, 9, 0, tzinfo=UTC)


def test_an_hours_step_on_a_weekend_day_whose_window_was_asked_for() -> None:
    """window_opening answers for any day (whether it is a business day is the
    caller's check) and remembers it; a step landing on that Saturday before 09:00
    still waits for Monday's opening. Kills plan's `opens[index] != local` and `index
    < len(opens) or opens[index] == local` in the hours path (the Saturday taken as
    the step's business day, its remembered window used)."""
    calendar = _window_calendar("UTC")
    saturday = dt.date(2030, 6, 8)
    assert calendar.window_opening(saturday.toordinal()) == dt.datetime(
        2030, 6, 8, 9, 0, tzinfo=UTC)
    early = dt.datetime(2030, 6, 8, 7, 0, tzinfo=UTC)
    monday = dt.datetime(2030, 6, 10, 9, 0, tzinfo=UTC)
    assert plan(early, 0, DelayUnit.HOURS, calendar) == monday
    assert plan(early - dt.timedelta(hours=5), 5, DelayUnit.HOURS, calendar) == monday


def test_a_roll_over_a_fall_back_across_local_midnight_never_goes_back() -> None:
    """Antarctica/Casey went from +11 to +08 at 02:00 on Friday 2010-03-05: 15:30 UTC
    on the 4th is 23:30 on the 4th again, past that day's window, so the roll goes to
    the 5th, whose 00:30 opening (at +11) was 13:30 UTC: before the instant rolled.
    The instant is inside the 5th's window and stays; with a window that closed
    before it too (00:30-01:00, 14:00 UTC), the roll goes on to Monday. Before the
    fix both rolls answered 13:30 UTC, two hours back. Found by plan's `offsets[local
    - lo] is not offset` in the hours path, which answered the instant itself."""
    instant = dt.datetime(2010, 3, 4, 15, 30, tzinfo=UTC)
    calendar = BusinessCalendar("Antarctica/Casey", send_window="00:30-17:00")
    assert roll_forward(instant, calendar) == instant
    assert plan(instant, 0, DelayUnit.HOURS, calendar) == instant
    assert plan(instant - dt.timedelta(hours=2), 2, DelayUnit.HOURS, calendar) == instant
    short = BusinessCalendar("Antarctica/Casey", send_window="00:30-01:00")
    monday = dt.datetime(2010, 3, 7, 16, 30, tzinfo=UTC)  # 00:30 at +08
    assert roll_forward(instant, short) == monday
    assert plan(instant, 0, DelayUnit.HOURS, short) == monday


def test_a_days_window_is_remembered_and_needs_a_send_window() -> None:
    """window_bounds works a day's window out once and answers from its memo after
    (planning reads the memo too), and is only for a calendar with a send window.
    Kills window_bounds's `found = None` and `windows.get(None)` (worked out on every
    call) and the assertion's message mutants."""
    calendar = BusinessCalendar("Europe/Paris", send_window="09:00-17:00")
    day = dt.date(2030, 6, 3).toordinal()
    first = calendar.window_bounds(day)
    assert first == (dt.datetime(2030, 6, 3, 7, 0, tzinfo=UTC),
                     dt.datetime(2030, 6, 3, 15, 0, tzinfo=UTC))
    assert calendar.window_bounds(day) is first
    assert calendar.windows == {day: first}
    with pytest.raises(AssertionError, match=r"^window_bounds needs a send window$"):
        BusinessCalendar("Europe/Paris").window_bounds(day)


def test_a_fresh_calendar_covers_no_date_not_even_the_first() -> None:
    """A new calendar's placeholder table covers no date (lo > hi), so the first
    computation builds a real table, even for 0001-01-01, local ordinal 1. Kills
    empty_day_table's `hi = 1`, under which that date's instant read an empty
    offsets table."""
    assert BusinessCalendar("UTC").instant(1, dt.time(9)) == dt.datetime(1, 1, 1, 9, tzinfo=UTC)
    paris = BusinessCalendar("Europe/Paris")  # local mean time then: +00:09:21
    assert paris.instant(1, dt.time(9)) == dt.datetime(1, 1, 1, 8, 50, 39, tzinfo=UTC)
