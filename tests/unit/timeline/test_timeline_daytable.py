"""The day table's contract, checked day by day against zoneinfo (DayTable docstring):
``offsets[d - lo]`` is the UTC offset in force for the whole local day d, or None
when the offset changes during it; ``local_ordinal`` agrees with zoneinfo."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine.timeline import BusinessCalendar
from engine.timeline.daytable import build_day_table

UTC = dt.UTC
ZONES = ["America/New_York", "Europe/Berlin", "Pacific/Apia", "America/Nuuk",
         "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago", "Africa/Casablanca"]


def midnight_offset(zone: ZoneInfo, day: int) -> dt.timedelta | None:
    return zone.utcoffset(dt.datetime.fromordinal(day))


@pytest.mark.parametrize("name", ZONES)
def test_offsets_day_by_day(name: str) -> None:
    zone = ZoneInfo(name)
    table = build_day_table(zone, "1111100", None, 2010, 2013)
    assert len(table.offsets) == table.hi - table.lo + 1
    for day in range(table.lo, table.hi + 1):
        today, tomorrow = midnight_offset(zone, day), midnight_offset(zone, day + 1)
        expected = today if today == tomorrow else None
        assert table.offsets[day - table.lo] == expected, dt.date.fromordinal(day)


@pytest.mark.parametrize("name", ZONES)
def test_local_ordinal_agrees_with_zoneinfo_around_every_change(name: str) -> None:
    zone = ZoneInfo(name)
    calendar = BusinessCalendar(name)
    calendar.prepare(dt.date(2010, 1, 1).toordinal(), dt.date(2013, 12, 31).toordinal())
    table = calendar.table
    for index, offset in enumerate(table.offsets):
        if offset is None:  # a change day: probe it and its neighbours hour by hour
            start = dt.datetime.fromordinal(table.lo + index - 1).replace(tzinfo=UTC)
            for hour in range(0, 72):
                instant = start + dt.timedelta(hours=hour, minutes=30)
                assert calendar.local_ordinal(instant) == instant.astimezone(zone).toordinal()


def test_local_date_of_an_instant_given_in_another_zone() -> None:
    # kills `if instant.tzinfo is not UTC` -> `is UTC` (an instant not converted first)
    calendar = BusinessCalendar("Asia/Tokyo")
    calendar.prepare(dt.date(2026, 1, 1).toordinal(), dt.date(2026, 12, 31).toordinal())
    new_york = dt.datetime(2026, 3, 2, 11, 0, tzinfo=ZoneInfo("America/New_York"))
    assert calendar.local_date(new_york) == dt.date(2026, 3, 3)  # 01:00 in Tokyo


@pytest.mark.parametrize(("name", "holidays"), [("America/New_York", "US"), ("Pacific/Apia", None)])
def test_business_days_by_rank(name: str, holidays: str | None) -> None:
    # opens lists the range's business days (holidays and Apia's skipped
    # 2011-12-30 left out); rank[d - lo] counts those before d.
    table = build_day_table(ZoneInfo(name), "1111100", holidays, 2010, 2013)
    calendar = BusinessCalendar(name, holidays)
    expected = [d for d in range(table.lo, table.hi + 1) if calendar.is_business_ordinal(d)]
    assert list(table.opens) == expected
    skipped = dt.date(2011, 12, 30).toordinal()  # a Friday: in New York a business day
    assert (skipped in table.opens) == (name == "America/New_York")
    assert len(table.rank) == table.hi - table.lo + 1
    for day in range(table.lo, table.hi + 1):
        assert table.rank[day - table.lo] == sum(1 for d in expected if d < day)
