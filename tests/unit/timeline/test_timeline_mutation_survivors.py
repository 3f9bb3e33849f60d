"""Survivors of the 2026-12-06 mutation run over engine/timeline (issue 12): each test
names the mutant it kills (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from engine.timeline import BusinessCalendar, DelayUnit, plan
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
