"""Instants on the wire (semantics.md section 7): format_instant and parse_instant."""

import time
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.wire import format_instant, instants, parse_instant


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (datetime(2020, 12, 15, 19, 58, 53, 526_000, tzinfo=UTC), "2020-12-15T19:58:53.526Z"),
        (datetime(2020, 6, 23, 12, 59, 57, tzinfo=UTC), "2020-06-23T12:59:57Z"),
        (datetime(2020, 6, 23, 12, 59, 57, 1_000, tzinfo=UTC), "2020-06-23T12:59:57.001Z"),
        (datetime(2020, 6, 23, 12, 59, 57, 10_000, tzinfo=UTC), "2020-06-23T12:59:57.010Z"),
        (datetime(2020, 6, 23, 12, 59, 57, 999_999, tzinfo=UTC), "2020-06-23T12:59:57.999Z"),
        (datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC), "2020-01-02T03:04:05Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
        (datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC), "0999-12-31T23:59:59Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC), "9999-12-31T23:59:59.999Z"),
    ],
)
def test_format_instant(instant: datetime, text: str) -> None:
    assert format_instant(instant) == text


def test_the_date_part_is_written_right_the_first_time_and_kept_bounded() -> None:
    """instants._DAYS keeps each day's "YYYY-MM-DDT", so a day another test formatted
    first would hide how a new one is written: the table is emptied first. It holds
    at most _MAX_DAYS days (emptied when full). Kills instants._day's `= None` and
    `len(_DAYS) > _MAX_DAYS`."""
    instants._DAYS.clear()
    first = datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)
    assert [format_instant(first), format_instant(first)] == ["2020-12-15T19:58:53Z"] * 2
    sizes = set()
    for days in range(1, instants._MAX_DAYS + 1):
        format_instant(first + timedelta(days=days))
        sizes.add(len(instants._DAYS))
    assert max(sizes) == instants._MAX_DAYS and len(instants._DAYS) == 1


def test_milliseconds_that_are_zero_are_left_out_even_with_microseconds() -> None:
    """Sub-millisecond digits are truncated; .000 is not rendered."""
    assert format_instant(datetime(2020, 6, 23, 12, 59, 57, 999, tzinfo=UTC)) == (
        "2020-06-23T12:59:57Z"
    )


def test_none_is_null() -> None:
    assert format_instant(None) is None


@pytest.mark.parametrize(
    "zone", [timezone(timedelta(hours=-5)), ZoneInfo("Europe/Warsaw"), ZoneInfo("Asia/Kolkata")]
)
def test_other_zones_are_rendered_in_utc(zone: timezone | ZoneInfo) -> None:
    instant = datetime(2020, 12, 15, 19, 58, 53, 526_000, tzinfo=UTC)
    assert format_instant(instant.astimezone(zone)) == "2020-12-15T19:58:53.526Z"


def test_zero_offset_zones_need_no_conversion() -> None:
    instant = datetime(2020, 12, 15, 19, 58, 53, tzinfo=ZoneInfo("UTC"))
    assert format_instant(instant) == "2020-12-15T19:58:53Z"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_instant(datetime(2020, 12, 15, 19, 58, 53))


@given(st.datetimes(timezones=st.just(UTC)))
def test_format_instant_agrees_with_isoformat(instant: datetime) -> None:
    millis = instant.replace(microsecond=instant.microsecond - instant.microsecond % 1000)
    expected = millis.isoformat(timespec="milliseconds" if millis.microsecond else "seconds")
    assert format_instant(instant) == expected.replace("+00:00", "Z")


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.just(UTC)))
def test_parse_instant_reads_what_format_instant_writes(instant: datetime) -> None:
    instant = instant.replace(microsecond=instant.microsecond - instant.microsecond % 1000)
    text = format_instant(instant)
    assert text is not None
    assert parse_instant(text) == instant


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2020-12-15T19:58:53Z", datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)),
        ("2020-12-15T19:58:53.526Z", datetime(2020, 12, 15, 19, 58, 53, 526_000, tzinfo=UTC)),
        ("2020-12-15T20:58:53+01:00", datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)),
        ("2020-12-15T14:58:53-05:00", datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)),
        ("2020-12-15T19:58:53+00:00", datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)),
        ("2020-12-15T19:58Z", datetime(2020, 12, 15, 19, 58, tzinfo=UTC)),
    ],
)
def test_parse_instant(text: str, instant: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == instant
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2020-12-15T19:58:53",  # naive: names no instant
        "2020-12-15",
        "19:58:53Z",
        "",
        "yesterday",
        "2020-13-15T19:58:53Z",
        "2020-12-15T25:58:53Z",
        "0001-01-01T00:00:00+01:00",  # before datetime.min in UTC
        "9999-12-31T23:59:59-01:00",  # after datetime.max in UTC
    ],
)
def test_parse_instant_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_instant(text)


def test_parse_instant_refuses_what_is_not_a_string() -> None:
    with pytest.raises(ValueError):
        parse_instant(1608062333)  # type: ignore[arg-type]


def test_a_kept_date_part_is_used_as_kept() -> None:
    """A day's "YYYY-MM-DDT" is read from instants._DAYS when it is there. Kills
    instant_text's lookups that miss (`day = None`, `_DAYS.get(None)`)."""
    instants._DAYS.clear()
    day = datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)
    instants._DAYS[day.toordinal()] = "kept:"
    try:
        assert format_instant(day) == "kept:19:58:53Z"
    finally:
        instants._DAYS.clear()  # not left for the tests after this one


def test_an_instant_with_an_offset_is_written_in_utc_whatever_the_machines_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Converted to UTC, not to the machine's local zone (this test sets one that is
    not UTC). Kills instant_text's `t.astimezone(None)`."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        warsaw = datetime(2020, 12, 15, 20, 58, 53, tzinfo=timezone(timedelta(hours=1)))
        assert format_instant(warsaw) == "2020-12-15T19:58:53Z"
    finally:
        monkeypatch.undo()
        time.tzset()
