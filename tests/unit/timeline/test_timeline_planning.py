"""Named regression cases for plan(), roll_forward() and next_business_day_start()."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import holidays as holidays_pkg
import pytest

from engine.timeline import (
    BusinessCalendar,
    DelayUnit,
    calendar_for,
    next_business_day_start,
    plan,
    roll_forward,
)

UTC = dt.UTC
H = DelayUnit.HOURS
W = DelayUnit.WEEKDAYS
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
WARSAW = ZoneInfo("Europe/Warsaw")
EVERY_DAY = "1111111"


def utc(*fields: int) -> dt.datetime:
    return dt.datetime(*fields, tzinfo=UTC)


def wall(zone: ZoneInfo, *fields: int, fold: int = 0) -> dt.datetime:
    """An aware local datetime (fold=0 unless told), for readable expectations."""
    return dt.datetime(*fields, tzinfo=zone, fold=fold)


def in_zone(instant: dt.datetime, zone: ZoneInfo) -> tuple[int, ...]:
    local = instant.astimezone(zone)
    return (local.year, local.month, local.day, local.hour, local.minute)


# -- seed cases (the public API page) -----------------------------------------------------


def test_seed_tuesday_plus_one_weekday_keeps_milliseconds() -> None:
    start = utc(2020, 12, 15, 19, 58, 53, 526000)
    assert plan(start, 1, W, calendar_for()) == utc(2020, 12, 16, 19, 58, 53, 526000)


def test_seed_zero_weekdays_from_a_business_day_is_the_instant_itself() -> None:
    start = utc(2020, 12, 15, 19, 58, 53, 526000)
    assert plan(start, 0, W, calendar_for()) == start


def test_seed_step_one_after_monday_send() -> None:
    assert plan(utc(2020, 6, 22, 12, 59, 57), 1, W, calendar_for()) == utc(2020, 6, 23, 12, 59, 57)


def test_results_are_utc_tagged() -> None:
    result = plan(wall(NEW_YORK, 2026, 5, 20, 9), 1, W, calendar_for("America/New_York"))
    assert result.tzinfo is UTC
    assert plan(wall(NEW_YORK, 2026, 5, 20, 9), 2, H, calendar_for()).tzinfo is UTC


# -- DST ------------------------------------------------------------------------------------


def test_dst_gap_new_york_moves_forward_by_the_gap() -> None:
    calendar = calendar_for("America/New_York", weekmask=EVERY_DAY)
    result = plan(wall(NEW_YORK, 2026, 3, 7, 2, 30), 1, W, calendar)
    assert result == utc(2026, 3, 8, 7, 30)
    assert in_zone(result, NEW_YORK) == (2026, 3, 8, 3, 30)


def test_dst_gap_berlin_moves_forward_by_the_gap() -> None:
    calendar = calendar_for("Europe/Berlin", weekmask="Sun Mon Tue Wed Thu")
    result = plan(wall(BERLIN, 2026, 3, 26, 2, 30), 1, W, calendar)  # Thursday -> Sunday
    assert result == utc(2026, 3, 29, 1, 30)
    assert in_zone(result, BERLIN) == (2026, 3, 29, 3, 30)


def test_dst_gap_keeps_microseconds() -> None:
    calendar = calendar_for("America/New_York", weekmask=EVERY_DAY)
    result = plan(wall(NEW_YORK, 2026, 3, 7, 2, 30, 5, 123456), 1, W, calendar)
    assert result == utc(2026, 3, 8, 7, 30, 5, 123456)


def test_autumn_overlap_takes_the_first_occurrence() -> None:
    calendar = calendar_for("America/New_York", weekmask=EVERY_DAY)
    result = plan(wall(NEW_YORK, 2026, 10, 31, 1, 30), 1, W, calendar)
    assert result == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, not 01:30 EST
    berlin = calendar_for("Europe/Berlin", weekmask=EVERY_DAY)
    assert plan(wall(BERLIN, 2026, 10, 24, 2, 30), 1, W, berlin) == utc(2026, 10, 25, 0, 30)


def test_second_occurrence_is_kept_with_zero_weekdays() -> None:
    calendar = calendar_for("America/New_York", weekmask=EVERY_DAY)
    second = wall(NEW_YORK, 2026, 11, 1, 1, 30, fold=1)
    assert plan(second, 0, W, calendar) == utc(2026, 11, 1, 6, 30)
    assert plan(second, 1, W, calendar) == utc(2026, 11, 2, 6, 30)  # 01:30 EST next day


def test_plus_24_hours_and_plus_one_weekday_differ_across_dst() -> None:
    calendar = calendar_for("America/New_York", weekmask=EVERY_DAY)
    saturday_noon = wall(NEW_YORK, 2026, 3, 7, 12)
    by_hours = plan(saturday_noon, 24, H, calendar)
    by_weekday = plan(saturday_noon, 1, W, calendar)
    assert by_hours - saturday_noon == dt.timedelta(hours=24)
    assert in_zone(by_hours, NEW_YORK) == (2026, 3, 8, 13, 0)
    assert in_zone(by_weekday, NEW_YORK) == (2026, 3, 8, 12, 0)
    assert by_hours - by_weekday == dt.timedelta(hours=1)


def test_weekday_across_the_weekend_of_a_dst_change_keeps_wall_time() -> None:
    calendar = calendar_for("America/New_York", "US")
    friday = wall(NEW_YORK, 2026, 3, 6, 12)
    assert in_zone(plan(friday, 1, W, calendar), NEW_YORK) == (2026, 3, 9, 12, 0)
    assert plan(friday, 72, H, calendar) == friday.astimezone(UTC) + dt.timedelta(hours=72)


def test_gap_past_midnight_onto_a_non_business_day_moves_on() -> None:
    # Greenland springs forward at 23:00 on Saturday evening.
    nuuk = ZoneInfo("America/Nuuk")
    six_days = calendar_for("America/Nuuk", weekmask="1111110")
    result = plan(wall(nuuk, 2026, 3, 27, 23, 30), 1, W, six_days)
    assert in_zone(result, nuuk) == (2026, 3, 30, 23, 30)
    every_day = calendar_for("America/Nuuk", weekmask=EVERY_DAY)
    result = plan(wall(nuuk, 2026, 3, 27, 23, 30), 1, W, every_day)
    assert in_zone(result, nuuk) == (2026, 3, 29, 0, 30)


def test_skipped_calendar_day_moves_to_the_next_business_day() -> None:
    # Samoa skipped Friday 2011-12-30 when it crossed the date line.
    apia = ZoneInfo("Pacific/Apia")
    calendar = calendar_for("Pacific/Apia")
    result = plan(wall(apia, 2011, 12, 29, 10), 1, W, calendar)
    assert in_zone(result, apia) == (2012, 1, 2, 10, 0)


# -- calendar days ------------------------------------------------------------------------


def test_leap_day() -> None:
    calendar = calendar_for()
    assert plan(utc(2024, 2, 28, 10), 1, W, calendar) == utc(2024, 2, 29, 10)
    assert plan(utc(2024, 2, 28, 10), 2, W, calendar) == utc(2024, 3, 1, 10)
    assert plan(utc(2024, 2, 29, 10), 1, W, calendar) == utc(2024, 3, 1, 10)
    assert plan(utc(2024, 2, 28, 10), 24, H, calendar) == utc(2024, 2, 29, 10)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (utc(2026, 5, 16, 10, 15), 0, utc(2026, 5, 18, 10, 15)),  # Saturday
        (utc(2026, 5, 16, 10, 15), 1, utc(2026, 5, 19, 10, 15)),
        (utc(2026, 5, 17, 23, 59, 59, 999999), 0, utc(2026, 5, 18, 23, 59, 59, 999999)),  # Sunday
        (utc(2026, 5, 17, 0, 0), 1, utc(2026, 5, 19, 0, 0)),
        (utc(2026, 5, 15, 18), 1, utc(2026, 5, 18, 18)),  # Friday
        (utc(2026, 5, 15, 18), 5, utc(2026, 5, 22, 18)),
    ],
)
def test_weekend_starts_roll_to_monday_keeping_wall_time(
    start: dt.datetime, n: int, expected: dt.datetime
) -> None:
    assert plan(start, n, W, calendar_for()) == expected


def test_us_year_end_holidays() -> None:
    calendar = calendar_for("America/New_York", "US")
    # Christmas 2026 is a Friday; New Year's Day 2027 too.
    assert in_zone(plan(wall(NEW_YORK, 2026, 12, 24, 15), 1, W, calendar), NEW_YORK) == (
        2026,
        12,
        28,
        15,
        0,
    )
    assert in_zone(plan(wall(NEW_YORK, 2026, 12, 31, 15), 1, W, calendar), NEW_YORK) == (
        2027,
        1,
        4,
        15,
        0,
    )
    # 2027: both holidays fall on Saturday and are observed on the Friday before.
    assert in_zone(plan(wall(NEW_YORK, 2027, 12, 23, 9), 1, W, calendar), NEW_YORK) == (
        2027,
        12,
        27,
        9,
        0,
    )
    assert in_zone(plan(wall(NEW_YORK, 2027, 12, 30, 9), 1, W, calendar), NEW_YORK) == (
        2028,
        1,
        3,
        9,
        0,
    )


def test_polish_year_end_holidays() -> None:
    calendar = calendar_for("Europe/Warsaw", "PL")
    start = wall(WARSAW, 2026, 12, 23, 10)  # Wednesday; 24, 25 are holidays, 26 Saturday
    assert in_zone(plan(start, 1, W, calendar), WARSAW) == (2026, 12, 28, 10, 0)
    new_year = wall(WARSAW, 2026, 12, 31, 10)
    assert in_zone(plan(new_year, 1, W, calendar), WARSAW) == (2027, 1, 4, 10, 0)
    assert in_zone(plan(new_year, 3, W, calendar), WARSAW) == (2027, 1, 7, 10, 0)  # Epiphany


def test_holiday_monday() -> None:
    calendar = calendar_for("America/New_York", "US")  # Memorial Day 2026-05-25
    assert in_zone(plan(wall(NEW_YORK, 2026, 5, 22, 9), 1, W, calendar), NEW_YORK) == (
        2026,
        5,
        26,
        9,
        0,
    )
    assert in_zone(plan(wall(NEW_YORK, 2026, 5, 23, 9), 0, W, calendar), NEW_YORK) == (
        2026,
        5,
        26,
        9,
        0,
    )
    on_the_holiday = wall(NEW_YORK, 2026, 5, 25, 14, 0, 1, 250000)
    assert plan(on_the_holiday, 0, W, calendar) == utc(2026, 5, 26, 18, 0, 1, 250000)
    assert plan(on_the_holiday, 1, W, calendar) == utc(2026, 5, 27, 18, 0, 1, 250000)


def test_holidays_with_subdivision() -> None:
    wednesday = wall(BERLIN, 2026, 6, 3, 10)  # Corpus Christi (Thursday) is a Bavarian holiday
    bavaria = calendar_for("Europe/Berlin", "DE-BY")
    berlin = calendar_for("Europe/Berlin", "DE-BE")
    assert in_zone(plan(wednesday, 1, W, bavaria), BERLIN) == (2026, 6, 5, 10, 0)
    assert in_zone(plan(wednesday, 1, W, berlin), BERLIN) == (2026, 6, 4, 10, 0)
    assert not bavaria.is_business_day(dt.date(2026, 1, 6))
    assert berlin.is_business_day(dt.date(2026, 1, 6))


def test_weekmask_sunday_to_thursday() -> None:
    calendar = calendar_for(weekmask="1111001")
    thursday = utc(2026, 5, 21, 10)
    assert plan(thursday, 1, W, calendar) == utc(2026, 5, 24, 10)  # Sunday
    assert plan(utc(2026, 5, 22, 10), 0, W, calendar) == utc(2026, 5, 24, 10)  # Friday rolls
    assert plan(utc(2026, 5, 23, 10), 1, W, calendar) == utc(2026, 5, 25, 10)
    assert plan(thursday, 5, W, calendar) == utc(2026, 5, 28, 10)


def test_weekmask_single_day() -> None:
    wednesdays = calendar_for(weekmask="Wed")
    assert plan(utc(2026, 5, 18, 8), 0, W, wednesdays) == utc(2026, 5, 20, 8)
    assert plan(utc(2026, 5, 18, 8), 2, W, wednesdays) == utc(2026, 6, 3, 8)
    assert plan(utc(2026, 5, 20, 8), 1, W, wednesdays) == utc(2026, 5, 27, 8)


# -- long delays against a day-by-day reference --------------------------------------------


def naive_weekdays(
    start: dt.datetime, n: int, zone: ZoneInfo, weekmask: str, country: str | None
) -> dt.datetime:
    """Day by day, straight from the rule; for DST-free wall times."""
    table = None
    if country is not None:
        name, _, sub = country.partition("-")
        table = holidays_pkg.country_holidays(name, subdiv=sub or None)

    def business(day: dt.date) -> bool:
        return weekmask[day.weekday()] == "1" and (table is None or day not in table)

    local = start.astimezone(zone)
    day = local.date()
    while not business(day):
        day += dt.timedelta(days=1)
    for _ in range(n):
        day += dt.timedelta(days=1)
        while not business(day):
            day += dt.timedelta(days=1)
    if day == local.date():
        return start
    return dt.datetime.combine(day, local.time(), zone).astimezone(UTC)


@pytest.mark.parametrize(
    ("zone_name", "weekmask", "country", "start"),
    [
        ("UTC", "1111100", None, utc(2020, 12, 15, 19, 58, 53, 526000)),
        ("America/New_York", "1111100", "US", utc(2026, 5, 20, 16, 45, 1, 2)),
        ("Europe/Warsaw", "1111001", "PL", utc(2026, 12, 23, 9)),
        ("Europe/Berlin", "0111110", "DE-BY", utc(2001, 1, 6, 10)),
    ],
)
def test_ten_thousand_weekdays_match_the_day_by_day_reference(
    zone_name: str, weekmask: str, country: str | None, start: dt.datetime
) -> None:
    zone = ZoneInfo(zone_name)
    calendar = BusinessCalendar(zone_name, country, weekmask)
    for n in (0, 1, 7, 250, 10_000):
        assert plan(start, n, W, calendar) == naive_weekdays(start, n, zone, weekmask, country)


def test_tables_built_for_far_apart_years_agree() -> None:
    used = BusinessCalendar("America/New_York", "US")
    for year in (2026, 2500, 1990, 2027, 2150):
        start = utc(year, 7, 2, 15, 30)
        fresh = BusinessCalendar("America/New_York", "US")
        for n in (0, 1, 3, 40, 400):
            assert plan(start, n, W, used) == plan(start, n, W, fresh)
            assert plan(start, n, W, used) == naive_weekdays(start, n, NEW_YORK, "1111100", "US")


# -- hours ----------------------------------------------------------------------------------


def test_hours_are_elapsed_time_on_any_day() -> None:
    calendar = calendar_for("America/New_York", "US")
    saturday = wall(NEW_YORK, 2026, 3, 7, 22).astimezone(UTC)
    assert plan(saturday, 0, H, calendar) == saturday
    across_the_gap = plan(saturday, 5, H, calendar)
    assert across_the_gap == saturday + dt.timedelta(hours=5)
    assert in_zone(across_the_gap, NEW_YORK) == (2026, 3, 8, 4, 0)
    assert plan(saturday, 5000, H, calendar) == saturday + dt.timedelta(hours=5000)


# -- send windows ---------------------------------------------------------------------------

WINDOW = "09:00-17:00"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ((2026, 5, 19, 7, 0), (2026, 5, 19, 9, 0)),  # Tuesday, before opening
        ((2026, 5, 19, 9, 0), (2026, 5, 19, 9, 0)),  # at opening
        ((2026, 5, 19, 12, 34), (2026, 5, 19, 12, 34)),  # inside
        ((2026, 5, 19, 16, 59), (2026, 5, 19, 16, 59)),
        ((2026, 5, 19, 17, 0), (2026, 5, 20, 9, 0)),  # at closing exactly
        ((2026, 5, 19, 18, 30), (2026, 5, 20, 9, 0)),  # after closing
        ((2026, 5, 22, 17, 30), (2026, 5, 26, 9, 0)),  # Friday evening; Monday is a holiday
        ((2026, 5, 23, 12, 0), (2026, 5, 26, 9, 0)),  # Saturday
        ((2026, 5, 24, 8, 0), (2026, 5, 26, 9, 0)),  # Sunday
    ],
)
def test_roll_forward_into_the_send_window(
    local: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    calendar = calendar_for("America/New_York", "US", send_window=WINDOW)
    start = wall(NEW_YORK, *local)
    assert in_zone(roll_forward(start, calendar), NEW_YORK) == expected
    assert in_zone(plan(start, 0, H, calendar), NEW_YORK) == expected


def test_inside_the_window_keeps_the_instant_exactly() -> None:
    calendar = calendar_for("America/New_York", send_window=WINDOW)
    start = wall(NEW_YORK, 2026, 5, 19, 12, 34, 56, 789000)
    assert roll_forward(start, calendar) == start


def test_hours_step_is_rolled_into_the_window() -> None:
    calendar = calendar_for("Europe/Berlin", send_window=WINDOW)
    friday = wall(BERLIN, 2026, 5, 22, 15)
    assert in_zone(plan(friday, 1, H, calendar), BERLIN) == (2026, 5, 22, 16, 0)
    assert in_zone(plan(friday, 4, H, calendar), BERLIN) == (2026, 5, 25, 9, 0)


def test_weekdays_step_is_rolled_into_the_window() -> None:
    calendar = calendar_for("Europe/Berlin", send_window=WINDOW)
    monday = wall(BERLIN, 2026, 5, 18, 20)
    assert in_zone(plan(monday, 1, W, calendar), BERLIN) == (2026, 5, 20, 9, 0)
    early = wall(BERLIN, 2026, 5, 18, 7)
    assert in_zone(plan(early, 1, W, calendar), BERLIN) == (2026, 5, 19, 9, 0)


def test_window_opening_in_a_dst_gap_moves_forward_by_the_gap() -> None:
    calendar = calendar_for("America/New_York", weekmask=EVERY_DAY, send_window="02:30-06:00")
    result = roll_forward(wall(NEW_YORK, 2026, 3, 8, 0, 15), calendar)
    assert in_zone(result, NEW_YORK) == (2026, 3, 8, 3, 30)
    # Windows compare instants: 03:10 is before the moved opening (03:30), which
    # keeps the roll monotone; 03:45 is inside.
    assert in_zone(roll_forward(wall(NEW_YORK, 2026, 3, 8, 3, 10), calendar), NEW_YORK) == (
        2026,
        3,
        8,
        3,
        30,
    )
    inside = wall(NEW_YORK, 2026, 3, 8, 3, 45)
    assert roll_forward(inside, calendar) == inside


def test_window_swallowed_by_a_dst_gap_is_skipped() -> None:
    calendar = calendar_for("America/New_York", weekmask=EVERY_DAY, send_window="02:10-02:50")
    result = roll_forward(wall(NEW_YORK, 2026, 3, 8, 0, 15), calendar)
    assert in_zone(result, NEW_YORK) == (2026, 3, 8, 3, 10)  # both ends moved by the gap
    wide = calendar_for("America/New_York", weekmask=EVERY_DAY, send_window="02:40-03:20")
    # Opening moves to 03:40, after the 03:20 closing: no window that day.
    assert in_zone(roll_forward(wall(NEW_YORK, 2026, 3, 8, 0, 15), wide), NEW_YORK) == (
        2026,
        3,
        9,
        2,
        40,
    )


def test_roll_forward_without_window_is_identity() -> None:
    saturday = utc(2026, 5, 23, 3, 4, 5, 6)
    assert roll_forward(saturday, calendar_for("Asia/Tokyo", "JP")) == saturday
    berlin_time = wall(BERLIN, 2026, 5, 23, 3, 4)
    rolled = roll_forward(berlin_time, calendar_for())
    assert rolled == berlin_time
    assert rolled.tzinfo is UTC


# -- next business day start ----------------------------------------------------------------


def test_next_business_day_start_is_local_midnight() -> None:
    calendar = calendar_for("America/New_York", "US")
    friday = wall(NEW_YORK, 2026, 5, 22, 1)
    assert next_business_day_start(friday, calendar) == wall(NEW_YORK, 2026, 5, 26)
    tuesday = wall(NEW_YORK, 2026, 5, 19, 23, 59)
    assert next_business_day_start(tuesday, calendar) == wall(NEW_YORK, 2026, 5, 20)
    assert next_business_day_start(tuesday, calendar).tzinfo is UTC


def test_next_business_day_start_is_the_window_opening() -> None:
    calendar = calendar_for("America/New_York", "US", send_window=WINDOW)
    before_opening = wall(NEW_YORK, 2026, 5, 19, 6)  # strictly after today: tomorrow
    assert next_business_day_start(before_opening, calendar) == wall(NEW_YORK, 2026, 5, 20, 9)
    friday = wall(NEW_YORK, 2026, 5, 22, 12)
    assert next_business_day_start(friday, calendar) == wall(NEW_YORK, 2026, 5, 26, 9)


def test_next_business_day_start_when_midnight_is_in_a_gap() -> None:
    # Egypt springs forward at midnight on the last Friday of April.
    cairo = ZoneInfo("Africa/Cairo")
    calendar = calendar_for("Africa/Cairo")
    assert next_business_day_start(wall(cairo, 2026, 4, 23, 12), calendar) == utc(2026, 4, 23, 22)


# -- inputs ---------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = dt.datetime(2026, 5, 19, 12)
    with pytest.raises(ValueError, match="timezone-aware"):
        plan(naive, 1, W, calendar_for())
    with pytest.raises(ValueError, match="timezone-aware"):
        roll_forward(naive, calendar_for())
    with pytest.raises(ValueError, match="timezone-aware"):
        next_business_day_start(naive, calendar_for())


@pytest.mark.parametrize("unit", [H, W])
def test_negative_delays_are_refused(unit: DelayUnit) -> None:
    with pytest.raises(ValueError, match="negative"):
        plan(utc(2026, 5, 19), -1, unit, calendar_for())


def test_units_given_as_their_wire_strings() -> None:
    start = utc(2026, 5, 22, 10)
    assert plan(start, 1, "weekdays", calendar_for()) == utc(2026, 5, 25, 10)  # type: ignore[arg-type]
    assert plan(start, 1, "hours", calendar_for()) == utc(2026, 5, 22, 11)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="days"):
        plan(start, 1, "days", calendar_for())  # type: ignore[arg-type]


def test_results_beyond_the_datetime_range_overflow() -> None:
    with pytest.raises(OverflowError):
        plan(utc(9999, 12, 30, 12), 3, W, calendar_for())
    assert plan(utc(1, 1, 1, 12), 3, W, calendar_for()) == utc(1, 1, 4, 12)


def test_skipped_calendar_day_is_not_a_business_day() -> None:
    # semantics.md 4: +1 and +2 weekdays from Thursday 2011-12-29 10:00 local
    # (20:00Z) are Monday 2 and Tuesday 3 January, 10:00 local (UTC+14 by then).
    calendar = calendar_for("Pacific/Apia")
    thursday = utc(2011, 12, 29, 20)
    assert not calendar.is_business_day(dt.date(2011, 12, 30))
    assert plan(thursday, 1, W, calendar) == utc(2012, 1, 1, 20)
    assert plan(thursday, 2, W, calendar) == utc(2012, 1, 2, 20)
    every_day = calendar_for("Pacific/Apia", weekmask=EVERY_DAY)
    assert plan(thursday, 1, W, every_day) == utc(2011, 12, 30, 20)  # Saturday 31st
    assert plan(thursday, 2, W, every_day) == utc(2011, 12, 31, 20)  # Sunday 1st


def test_skipped_day_also_holds_with_holidays_and_across_a_table_rebuild() -> None:
    # The skipped date joins the holiday marks; a fresh calendar asked first
    # about a far year must still know it once its table widens to 2011.
    calendar = BusinessCalendar("Pacific/Apia", holidays="PL")  # no holiday on 2-3 Jan
    assert plan(utc(2030, 1, 1), 0, W, calendar) >= utc(2030, 1, 1)
    assert plan(utc(2011, 12, 29, 20), 2, W, calendar) == utc(2012, 1, 2, 20)


def test_roll_forward_window_opening_pushed_by_a_gap_onto_sunday() -> None:
    """Issue 12: Nuuk's spring-forward (Saturday 23:00 -> Sunday 00:00) swallows
    a Saturday 23:00 opening; it used to roll to Sunday 00:00, a non-business
    day, and rolling that again moved it a week on."""
    calendar = calendar_for("America/Nuuk", weekmask="0000010", send_window="23:00-23:01")
    nuuk = ZoneInfo("America/Nuuk")
    rolled = roll_forward(utc(2024, 3, 30), calendar)
    assert rolled == wall(nuuk, 2024, 4, 6, 23).astimezone(UTC) == utc(2024, 4, 7)
    assert roll_forward(rolled, calendar) == rolled
    assert plan(utc(2024, 3, 30), 0, H, calendar) == rolled


def test_roll_forward_window_opening_pushed_onto_a_business_sunday() -> None:
    # Saturday and Sunday are business days: Saturday's window still does not
    # exist (its opening lands on Sunday 00:00, outside Sunday's window), so
    # the roll goes to Sunday's own opening, where rolling again stays.
    calendar = calendar_for("America/Nuuk", weekmask="0000011", send_window="23:00-23:01")
    nuuk = ZoneInfo("America/Nuuk")
    rolled = roll_forward(utc(2024, 3, 30), calendar)
    assert rolled == wall(nuuk, 2024, 3, 31, 23).astimezone(UTC)
    assert roll_forward(rolled, calendar) == rolled


def test_window_opening_of_a_day() -> None:
    nuuk = calendar_for("America/Nuuk", weekmask=EVERY_DAY, send_window="23:00-23:30")
    saturday = dt.date(2024, 3, 30).toordinal()
    assert nuuk.window_opening(saturday) is None  # pushed past midnight
    assert nuuk.window_opening(saturday - 1) == utc(2024, 3, 30, 1)  # Friday 23:00 at -02
    # A gap that swallows the whole window: 02:00 -> 03:00 in New York.
    ny = calendar_for("America/New_York", weekmask=EVERY_DAY, send_window="02:30-03:00")
    sunday = dt.date(2026, 3, 8).toordinal()
    assert ny.window_opening(sunday) is None
    assert ny.window_opening(sunday + 1) == utc(2026, 3, 9, 6, 30)
    # Inside the gap but not swallowed: both ends move forward by the hour.
    ny_late = calendar_for("America/New_York", weekmask=EVERY_DAY, send_window="02:10-02:50")
    assert ny_late.window_opening(sunday) == utc(2026, 3, 8, 7, 10)
    assert calendar_for("America/New_York").window_opening(sunday) is None  # no window


# -- the window after the closing, from the calendar's memo (P4) -----------------------


def _slow_plan(t: dt.datetime, n: int, unit: DelayUnit, calendar: BusinessCalendar
               ) -> dt.datetime:
    """plan() off its fast paths: the zoneinfo path, then _roll_into_window."""
    from engine.timeline import planning

    assert calendar.send_window is not None
    moved = (planning._weekdays_by_zoneinfo(t, n, calendar) if unit is W
             else t + dt.timedelta(hours=n))
    return planning._roll_into_window(moved, calendar, calendar.send_window)


@pytest.mark.parametrize(("n", "unit"), [(0, W), (1, W), (4, H), (9, H)])
def test_plans_with_remembered_windows_are_the_slow_paths_plans(n: int, unit: DelayUnit
                                                                ) -> None:
    """Every half hour of a week with a DST change (New York, 2026-03-08) and a week
    with a holiday (2026-05-25), planned on a calendar that has computed every window
    around it (plan then answers from its memo: after the closing, the next business
    day's window; a wrong day's would be there too) and on the slow path."""
    calendar = BusinessCalendar("America/New_York", "US", send_window="08:00-18:00")
    for first in (utc(2026, 3, 5, 12), utc(2026, 5, 21, 12)):
        for day in range(first.toordinal() - 1, first.toordinal() + 12):
            calendar.window_bounds(day)  # every window remembered: all are read
        for half_hours in range(7 * 48):
            t = first + dt.timedelta(minutes=30 * half_hours, milliseconds=250)
            expected = _slow_plan(t, n, unit, calendar)  # and the windows are remembered
            assert plan(t, n, unit, calendar) == expected, t


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ((2026, 5, 19, 17, 59), (2026, 5, 19, 17, 59)),  # inside, before the closing
        ((2026, 5, 19, 18, 0), (2026, 5, 20, 8, 0)),  # at the closing exactly
        ((2026, 5, 19, 23, 59), (2026, 5, 20, 8, 0)),  # late in the evening
        ((2026, 5, 22, 18, 30), (2026, 5, 26, 8, 0)),  # Friday; Monday is Memorial Day
        ((2026, 5, 20, 6, 0), (2026, 5, 20, 8, 0)),  # before the opening
    ],
)
def test_after_the_closing_the_next_business_days_opening(
    local: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    calendar = BusinessCalendar("America/New_York", "US", send_window="08:00-18:00")
    start = wall(NEW_YORK, *local)
    for _ in range(2):  # the slow path first, then from the windows it remembered
        assert in_zone(plan(start, 0, W, calendar), NEW_YORK) == expected
        assert in_zone(plan(start - dt.timedelta(hours=3), 3, H, calendar),
                       NEW_YORK) == expected


def test_after_the_closing_of_the_tables_last_business_day() -> None:
    """The table prepared first for 2019 ends with 2023, whose last business day is
    Friday the 29th (the 30th and 31st are a weekend): its next one lies past the table,
    which the slow path widens. Kills `index + 1 <= len(opens)` (an IndexError)."""
    calendar = BusinessCalendar("America/New_York", "US", send_window="08:00-18:00")
    plan(utc(2019, 6, 4, 15), 0, W, calendar)
    last = dt.date(2023, 12, 29).toordinal()
    assert (calendar.table.hi, calendar.table.opens[-1]) == (last + 2, last)
    calendar.window_bounds(last)  # remembered, as the fast path needs
    assert calendar.table.hi == last + 2
    evening = wall(NEW_YORK, 2023, 12, 29, 18, 30)
    assert in_zone(plan(evening, 0, W, calendar), NEW_YORK) == (2024, 1, 2, 8, 0)


def test_after_the_closing_of_the_tables_first_business_day() -> None:
    """The same table begins with 2018, whose first business day is Tuesday the 2nd
    (New Year's Day is a holiday): the next business day is opens[1], never opens[-1],
    the table's last (2023-12-29), whose window is remembered too. Kills
    `opens[index - 1]` (the last day's opening, years later)."""
    calendar = BusinessCalendar("America/New_York", "US", send_window="08:00-18:00")
    plan(utc(2019, 6, 4, 15), 0, W, calendar)
    first, last = dt.date(2018, 1, 2).toordinal(), dt.date(2023, 12, 29).toordinal()
    assert (calendar.table.opens[0], calendar.table.opens[-1]) == (first, last)
    for day in (first, first + 1, last):
        calendar.window_bounds(day)  # remembered, as the fast path needs
    assert (calendar.table.opens[0], calendar.table.opens[-1]) == (first, last)
    evening = wall(NEW_YORK, 2018, 1, 2, 19, 0)
    assert in_zone(plan(evening, 0, W, calendar), NEW_YORK) == (2018, 1, 3, 8, 0)
