"""BusinessCalendar and SendWindow: parsing, validation, identity, business days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine.timeline import BusinessCalendar, SendWindow, calendar_for


@pytest.mark.parametrize(
    ("text", "opens", "closes"),
    [
        ("09:00-17:00", dt.time(9), dt.time(17)),
        ("9:30-17:45", dt.time(9, 30), dt.time(17, 45)),
        (" 00:00 - 23:59 ", dt.time(0), dt.time(23, 59)),
    ],
)
def test_send_window_parse(text: str, opens: dt.time, closes: dt.time) -> None:
    window = SendWindow.parse(text)
    assert (window.opens, window.closes) == (opens, closes)
    assert SendWindow.parse(str(window)) == window


def test_send_window_str_is_zero_padded() -> None:
    assert str(SendWindow(dt.time(8, 5), dt.time(9))) == "08:05-09:00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-17", "must look like 'HH:MM-HH:MM', got '9-17'"),
        ("09:00", "must look like"),
        ("", "must look like"),
        ("09:00-24:00", "impossible time of day"),
        ("09:60-10:00", "impossible time of day"),
        ("17:00-09:00", "must open before it closes, got '17:00-09:00'"),
        ("09:00-09:00", "must open before it closes"),
    ],
)
def test_bad_send_windows(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SendWindow.parse(text)
    with pytest.raises(ValueError, match="send window"):
        BusinessCalendar(send_window=text)


def test_send_window_needs_whole_naive_minutes() -> None:
    with pytest.raises(ValueError, match="whole minutes"):
        SendWindow(dt.time(9, 0, 30), dt.time(17))
    with pytest.raises(ValueError, match="whole minutes"):
        SendWindow(dt.time(9, tzinfo=dt.UTC), dt.time(17))


@pytest.mark.parametrize("name", ["Mars/Olympus", "utc", "America", "", "../etc/passwd", "/tmp"])
def test_unknown_time_zone(name: str) -> None:
    with pytest.raises(ValueError, match=f"^unknown time zone '{name}'$"):
        BusinessCalendar(name)


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("1111100", "1111100"),
        ("1111001", "1111001"),
        ("Mon Tue Wed Thu Fri", "1111100"),
        ("sun,mon, tue wed thu", "1111001"),
        ("Saturday Sunday", "0000011"),
        ("0000001", "0000001"),
    ],
)
def test_weekmask_forms(text: str, normalised: str) -> None:
    assert BusinessCalendar(weekmask=text).weekmask == normalised


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0000000", "at least one day"),
        ("", "at least one day"),
        ("111110", "7 characters of 0/1"),
        ("11111000", "7 characters of 0/1"),
        ("1111102", "7 characters of 0/1"),
        ("Mon Funday", "7 characters of 0/1"),
    ],
)
def test_bad_weekmasks(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(weekmask=text)


@pytest.mark.parametrize(
    ("spec", "normalised"),
    [("US", "US"), ("pl", "PL"), ("DE-BY", "DE-BY"), ("de-by", "DE-BY"), ("GB-SCT", "GB-SCT")],
)
def test_holiday_specs(spec: str, normalised: str) -> None:
    assert BusinessCalendar(holidays=spec).holidays == normalised


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("XX", "unknown holiday country 'XX'"),
        ("", "unknown holiday country"),
        ("DE-ZZ", "unknown holiday subdivision 'ZZ' for country 'DE'"),
        ("US-", "unknown holiday subdivision"),
    ],
)
def test_bad_holiday_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(holidays=spec)


def test_defaults() -> None:
    calendar = BusinessCalendar()
    assert calendar.time_zone == "UTC"
    assert calendar.holidays is None
    assert calendar.weekmask == "1111100"
    assert calendar.send_window is None
    assert calendar.zone.utcoffset(None) == dt.timedelta(0)


def test_equality_and_hash_by_settings() -> None:
    a = BusinessCalendar("Europe/Berlin", "de-by", "Mon Tue Wed Thu Fri", "09:00-17:00")
    b = BusinessCalendar("Europe/Berlin", "DE-BY", "1111100", SendWindow(dt.time(9), dt.time(17)))
    assert a == b
    assert hash(a) == hash(b)
    assert a != BusinessCalendar("Europe/Berlin", "DE-BY", "1111100")
    assert a != "Europe/Berlin"
    assert len({a, b, BusinessCalendar()}) == 2


def test_repr_names_the_settings() -> None:
    calendar = BusinessCalendar("Europe/Warsaw", "PL", "1111100", "08:00-16:00")
    assert repr(calendar) == (
        "BusinessCalendar(time_zone='Europe/Warsaw', holidays='PL', "
        "weekmask='1111100', send_window='08:00-16:00')"
    )


def test_settings_are_read_only() -> None:
    calendar = BusinessCalendar()
    with pytest.raises(AttributeError):
        calendar.time_zone = "Europe/Paris"  # type: ignore[misc]


def test_calendar_for_shares_calendars() -> None:
    first = calendar_for("America/New_York", "US", "1111100", "09:00-17:00")
    assert calendar_for("America/New_York", "US", "1111100", "09:00-17:00") is first
    assert first == BusinessCalendar("America/New_York", "US", "1111100", "09:00-17:00")
    with pytest.raises(ValueError, match="unknown time zone"):
        calendar_for("Nowhere/Special")


def test_is_business_day() -> None:
    us = calendar_for("America/New_York", "US")
    assert us.is_business_day(dt.date(2026, 5, 22))
    assert not us.is_business_day(dt.date(2026, 5, 23))  # Saturday
    assert not us.is_business_day(dt.date(2026, 5, 25))  # Memorial Day
    assert not us.is_business_day(dt.date(2021, 12, 31))  # New Year's Day (observed)
    assert us.is_business_day(dt.date(2300, 5, 22))  # far years load on demand
    assert not us.is_business_day(dt.date(1950, 12, 25))
    everyday = calendar_for(weekmask="1111111")
    assert everyday.is_business_day(dt.date(2026, 5, 24))


def test_holidays_on_non_weekmask_days_do_not_matter() -> None:
    # Christmas 2022 is a Sunday; the observed Monday is the holiday that counts.
    us = calendar_for("America/New_York", "US")
    assert not us.is_business_day(dt.date(2022, 12, 26))
    sunday_workers = calendar_for("America/New_York", "US", "1111111")
    assert not sunday_workers.is_business_day(dt.date(2022, 12, 25))
    assert not sunday_workers.is_business_day(dt.date(2022, 12, 26))


def test_local_date() -> None:
    tokyo = calendar_for("Asia/Tokyo")
    assert tokyo.local_date(dt.datetime(2026, 5, 22, 15, 30, tzinfo=dt.UTC)) == dt.date(2026, 5, 23)
    honolulu = calendar_for("Pacific/Honolulu")
    assert honolulu.local_date(dt.datetime(2026, 5, 22, 5, tzinfo=dt.UTC)) == dt.date(2026, 5, 21)


def test_local_day_is_the_date_and_the_span_of_its_instants() -> None:
    utc = dt.UTC
    calendar = BusinessCalendar(time_zone="America/New_York")
    midnight = dt.datetime(2026, 3, 5, 5, tzinfo=utc)  # 00:00 in New York (EST)
    day = (midnight, midnight + dt.timedelta(days=1), dt.date(2026, 3, 5))
    assert calendar.local_day(dt.datetime(2026, 3, 5, 15, tzinfo=utc)) == day
    assert calendar.local_day(midnight) == day  # its first instant, from the span kept
    last = midnight + dt.timedelta(days=1, microseconds=-1)
    assert calendar.local_day(last) == day
    # past its end: the next day, and a day with two offsets (the clocks go forward
    # on 2026-03-08) has an empty span, whatever span was kept before
    assert calendar.local_day(midnight + dt.timedelta(days=1))[2] == dt.date(2026, 3, 6)
    assert calendar.local_day(midnight - dt.timedelta(microseconds=1))[2] == dt.date(2026, 3, 4)
    spring = dt.datetime(2026, 3, 8, 15, tzinfo=utc)
    assert calendar.local_day(spring) == (spring, spring, dt.date(2026, 3, 8))
    before = calendar.local_day(dt.datetime(2026, 3, 7, 12, tzinfo=utc))  # kept: ends at
    spring_midnight = before[1]  # 2026-03-08 00:00 in New York, where its span ends
    assert calendar.local_day(spring_midnight) == (
        spring_midnight, spring_midnight, dt.date(2026, 3, 8))
    fresh = BusinessCalendar(time_zone="America/New_York")  # nothing kept yet
    assert fresh.local_day(spring) == (spring, spring, dt.date(2026, 3, 8))
    # an instant given in another zone, inside the kept span: the span still holds it
    assert calendar.local_day(dt.datetime(2026, 3, 5, 15, tzinfo=utc)) == day
    new_york = dt.datetime(2026, 3, 5, 10, tzinfo=ZoneInfo("America/New_York"))
    assert calendar.local_day(new_york) == day


def test_local_date_of_instants_in_other_zones() -> None:
    tokyo = calendar_for("Asia/Tokyo")
    new_york_evening = dt.datetime(2026, 5, 22, 20, tzinfo=ZoneInfo("America/New_York"))
    assert tokyo.local_date(new_york_evening) == dt.date(2026, 5, 23)
    with pytest.raises(ValueError, match="timezone-aware"):
        tokyo.local_date(dt.datetime(2026, 5, 22, 20))
