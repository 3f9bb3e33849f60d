"""Timeline behaviour a mutation run showed untested (issue 12); each test names the
mutant it kills (checked by applying it by hand)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.timeline import (
    BusinessCalendar,
    DelayUnit,
    SendWindow,
    plan,
    roll_forward,
    task_overdue,
)

UTC = dt.UTC
H = DelayUnit.HOURS


@pytest.mark.parametrize(
    ("text", "opens", "closes"),
    [
        ("23:00-23:59", dt.time(23), dt.time(23, 59)),  # kills `h1 > 23` -> `h1 >= 23`
        ("22:59-23:00", dt.time(22, 59), dt.time(23)),  # kills `m1 > 59` -> `m1 >= 59`
        ("00:00-00:01", dt.time(0), dt.time(0, 1)),
    ],
)
def test_send_window_parse_at_its_boundaries(text: str, opens: dt.time, closes: dt.time) -> None:
    assert SendWindow.parse(text) == SendWindow(opens, closes)


@pytest.mark.parametrize(
    "text", ["24:00-23:00", "23:00-24:00", "09:60-10:00", "09:00-09:60", "99:00-99:59"]
)
def test_send_window_parse_refuses_each_impossible_part(text: str) -> None:
    # kills `h1 > 23` -> `h1 > 24` (and the same for h2, m1, m2): dt.time would then
    # raise its own message instead of ours
    with pytest.raises(ValueError, match="impossible time of day"):
        SendWindow.parse(text)


def test_the_first_loaded_year_keeps_its_holidays() -> None:
    # A fresh calendar first asked about 2026 loads 2025-2030: 2025's holidays must be
    # there (kills dropping the first year in _holiday_ordinals or the day table).
    calendar = BusinessCalendar("America/New_York", "US")
    assert calendar.is_business_day(dt.date(2026, 1, 5))
    assert calendar.table.first_year == 2025
    assert not calendar.is_business_day(dt.date(2025, 12, 25))  # Christmas, a Thursday
    assert calendar.is_business_day(dt.date(2025, 12, 26))
    # Planning from the first loaded year's last days skips its holidays too.
    fresh = BusinessCalendar("America/New_York", "US")
    assert fresh.is_business_day(dt.date(2026, 6, 1))
    wednesday = dt.datetime(2025, 12, 24, 15, tzinfo=UTC)
    assert plan(wednesday, 1, DelayUnit.WEEKDAYS, fresh) == dt.datetime(2025, 12, 26, 15,
                                                                       tzinfo=UTC)


def test_a_table_grows_backwards_with_the_holidays_of_the_new_years() -> None:
    calendar = BusinessCalendar("Europe/Warsaw", "PL")
    assert calendar.is_business_day(dt.date(2030, 3, 4))
    assert not calendar.is_business_day(dt.date(2027, 1, 1))  # before the first table
    assert calendar.table.first_year <= 2027
    assert not calendar.is_business_day(dt.date(2030, 1, 1))  # still known after growing


@pytest.mark.parametrize("hours", [1024, 1025, 5000])
def test_long_hours_steps_roll_into_the_send_window(hours: int) -> None:
    # kills `_plan_checked` returning t + n hours without rolling (n >= 1,024)
    calendar = BusinessCalendar("Europe/Warsaw", "PL", send_window="09:00-17:00")
    t = dt.datetime(2026, 3, 2, 20, 30, tzinfo=UTC)
    result = plan(t, hours, H, calendar)
    assert result == roll_forward(t + dt.timedelta(hours=hours), calendar)
    local = result.astimezone(calendar.zone)
    assert dt.time(9) <= local.time() < dt.time(17) and calendar.is_business_day(local.date())
    no_window = BusinessCalendar("Europe/Warsaw", "PL")
    assert plan(t, hours, H, no_window) == t + dt.timedelta(hours=hours)


def test_delays_given_as_strings_and_negative_delays() -> None:
    calendar = BusinessCalendar()
    t = dt.datetime(2026, 3, 2, 20, 30, tzinfo=UTC)
    assert plan(t, 3, "hours", calendar) == t + dt.timedelta(hours=3)  # type: ignore[arg-type]
    assert plan(t, 1, "weekdays", calendar) == t + dt.timedelta(days=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="a delay cannot be negative, got -1"):
        plan(t, -1, H, calendar)
    with pytest.raises(ValueError, match="is not a valid DelayUnit"):
        plan(t, 1, "days", calendar)  # type: ignore[arg-type]


def test_naive_instants_are_refused_by_overdue_checks() -> None:
    now = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"^overdue checks need timezone-aware datetimes$"):
        task_overdue(now, now.replace(tzinfo=None), BusinessCalendar())


def test_repr_without_a_window_says_none() -> None:
    assert repr(BusinessCalendar()).endswith("send_window=None)")


def test_a_window_whose_ends_a_gap_resolves_to_one_instant_never_opens() -> None:
    # 02:00-03:00 on New York's spring-forward day: both ends resolve to 03:00.
    calendar = BusinessCalendar("America/New_York", weekmask="1111111", send_window="02:00-03:00")
    sunday = dt.date(2026, 3, 8).toordinal()
    assert calendar.window_opening(sunday) is None
    saturday_night = dt.datetime(2026, 3, 8, 6, tzinfo=UTC)  # 01:00 local, Sunday
    assert roll_forward(saturday_night, calendar) == dt.datetime(2026, 3, 9, 6, tzinfo=UTC)


class _NoOffset(dt.tzinfo):
    """An aware-looking tzinfo that knows no offset: the datetime is naive in effect."""

    def utcoffset(self, when: dt.datetime | None) -> None:
        return None


def test_instants_without_an_offset_are_refused() -> None:
    # kills `tzinfo is None or utcoffset() is None` -> `and` (planning and local_date)
    vague = dt.datetime(2026, 3, 2, 12, tzinfo=_NoOffset())
    with pytest.raises(ValueError, match="planning needs a timezone-aware datetime"):
        plan(vague, 1, H, BusinessCalendar())
    with pytest.raises(ValueError, match="local_date needs a timezone-aware datetime"):
        BusinessCalendar().local_date(vague)


def test_delay_units_given_as_strings_on_the_checked_path() -> None:
    calendar = BusinessCalendar()
    t = dt.datetime(2026, 3, 2, 20, 30, tzinfo=UTC)
    assert plan(t, 0, "hours", calendar) == t  # type: ignore[arg-type]  # kills `n <= 0`
    weekdays = plan(t, 2000, "weekdays", calendar)  # type: ignore[arg-type]
    assert weekdays == plan(t, 2000, DelayUnit.WEEKDAYS, calendar)  # kills `HOURS or n >= ..`
    assert weekdays.weekday() == t.weekday()


def test_utc_is_the_standard_library_utc() -> None:
    assert BusinessCalendar().zone is UTC  # kills the "UTC" shortcut in _parse_zone


def test_bad_weekmask_message() -> None:
    with pytest.raises(ValueError, match=r"^weekmask must be 7 characters of 0/1 \(Monday to "
                       r"Sunday\) or day names like 'Mon Tue Wed Thu Fri', got 'Funday'$"):
        BusinessCalendar(weekmask="Funday")


def test_planning_up_to_the_last_representable_day() -> None:
    calendar = BusinessCalendar(weekmask="1111111")
    t = dt.datetime(9999, 12, 30, tzinfo=UTC)
    assert plan(t, 1, DelayUnit.WEEKDAYS, calendar) == dt.datetime(9999, 12, 31, tzinfo=UTC)
    with pytest.raises(OverflowError, match=r"^date value out of range$"):
        plan(t, 2, DelayUnit.WEEKDAYS, calendar)


def test_the_fast_path_over_exactly_1024_days() -> None:
    # kills `days < _STEPS` -> `days <= _STEPS` (an IndexError at 1,024 days)
    calendar = BusinessCalendar("Europe/Warsaw", weekmask="1111111")
    t = dt.datetime(2026, 1, 10, 12, tzinfo=UTC)
    plan(t, 1, DelayUnit.WEEKDAYS, calendar)  # loads the table: the next call is table-driven
    assert plan(t, 1024, DelayUnit.WEEKDAYS, calendar) == dt.datetime(2028, 10, 30, 12,
                                                                      tzinfo=UTC)


def test_day_table_shape() -> None:
    """The table covers whole years and holds each regular day's offset, interned."""
    calendar = BusinessCalendar("America/New_York")
    calendar.is_business_day(dt.date(2026, 1, 5))
    table = calendar.table
    assert table.lo == dt.date(table.first_year, 1, 1).toordinal()
    assert table.hi == dt.date(table.last_year, 12, 31).toordinal()
    january = [table.offsets[dt.date(2026, 1, d).toordinal() - table.lo] for d in (5, 6)]
    assert january[0] == dt.timedelta(hours=-5) and january[0] is january[1]
    assert table.offsets[dt.date(2026, 3, 8).toordinal() - table.lo] is None  # DST day
    # The irregular path gives UTC instants too (kills `.astimezone(None)`).
    assert calendar.instant(dt.date(2026, 3, 8).toordinal(), dt.time(12)).tzinfo is UTC
