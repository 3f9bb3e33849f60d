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


def test_zero_offset_zones_are_written_as_utc() -> None:
    instant = datetime(2020, 12, 15, 19, 58, 53, tzinfo=ZoneInfo("UTC"))
    assert format_instant(instant) == "2020-12-15T19:58:53Z"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^naive datetime .+: instants must be timezone-aware$"):
        format_instant(datetime(2020, 12, 15, 19, 58, 53))


def test_a_naive_datetime_is_refused_even_once_its_utc_twin_is_kept() -> None:
    """The kept texts are keyed by instant: the UTC datetime with the same fields (and
    the same hash) is kept, yet the naive one is still no instant."""
    assert format_instant(datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)) == (
        "2020-12-15T19:58:53Z")
    with pytest.raises(ValueError, match=r"^naive datetime .+: instants must be timezone-aware$"):
        format_instant(datetime(2020, 12, 15, 19, 58, 53))


@pytest.mark.parametrize("first_fold", [0, 1])
def test_the_two_instants_of_a_fold_keep_their_own_texts(first_fold: int) -> None:
    """01:30 happened twice in New York on 2020-11-01 (EDT, then EST): the two compare
    equal as datetimes of one zone, but are an hour apart, whichever is written first."""
    zone = ZoneInfo("America/New_York")
    texts = {0: "2020-11-01T05:30:00Z", 1: "2020-11-01T06:30:00Z"}
    for fold in (first_fold, 1 - first_fold, first_fold):
        assert format_instant(datetime(2020, 11, 1, 1, 30, fold=fold, tzinfo=zone)) == \
            texts[fold]


def test_an_instant_written_again_is_the_text_kept() -> None:
    instant = datetime(2031, 5, 6, 7, 8, 9, 10_000, tzinfo=UTC)
    first = format_instant(instant)
    assert first == "2031-05-06T07:08:09.010Z"
    assert instants._TEXTS[instant] is first
    assert format_instant(datetime(2031, 5, 6, 7, 8, 9, 10_000, tzinfo=UTC)) is first
    assert format_instant(instant.astimezone(ZoneInfo("Asia/Tokyo"))) is first


def empty_caches() -> None:
    """Both tables start empty, as in a new process: what a test of them checks does
    not depend on which instants and days earlier tests (or a parent process that
    forked this one, as mutmut's does) wrote."""
    instants._TEXTS.clear()
    instants._DAYS.clear()


def test_the_kept_texts_are_bounded() -> None:
    """Full, the kept texts start over: never more than _MAX_TEXTS of them, each still
    right after the restart."""
    empty_caches()
    start = datetime(2040, 1, 1, tzinfo=UTC)
    for second in range(instants._MAX_TEXTS + 1):
        format_instant(start + timedelta(seconds=second))
        assert len(instants._TEXTS) <= instants._MAX_TEXTS
    assert len(instants._TEXTS) == 1
    last = start + timedelta(seconds=instants._MAX_TEXTS)
    assert dict(instants._TEXTS) == {last: "2040-01-01T02:16:32Z"}
    assert dict(instants._DAYS) == {last.toordinal(): "2040-01-01T"}


def test_the_kept_days_are_bounded() -> None:
    empty_caches()
    start = datetime(2050, 1, 1, 12, tzinfo=UTC)
    for day in range(instants._MAX_DAYS + 1):
        instant = start + timedelta(days=day)
        assert format_instant(instant) == instant.isoformat().replace("+00:00", "Z")
        assert len(instants._DAYS) <= instants._MAX_DAYS
    assert len(instants._DAYS) == 1


def test_texts_are_kept_under_the_utc_instant() -> None:
    """An instant of another zone is converted to UTC itself (not to the machine's
    local zone) before it is looked up or kept."""
    empty_caches()
    instant = datetime(2033, 3, 4, 5, 6, 7, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert format_instant(instant) == "2033-03-03T20:06:07Z"
    (kept,) = instants._TEXTS  # under UTC itself, not an equal zone of the machine's
    assert kept.tzinfo is UTC



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
    _written's lookups that miss (`day = None`, `_DAYS.get(None)`)."""
    empty_caches()
    day = datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)
    instants._DAYS[day.toordinal()] = "kept:"
    try:
        assert format_instant(day) == "kept:19:58:53Z"
    finally:
        empty_caches()  # not left for the tests after this one


def test_an_instant_with_an_offset_is_written_in_utc_whatever_the_machines_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Converted to UTC, not to the machine's local zone (this test sets one that is
    not UTC). Kills instant_text's `t.astimezone(None)`."""
    empty_caches()
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        warsaw = datetime(2020, 12, 15, 20, 58, 53, tzinfo=timezone(timedelta(hours=1)))
        assert format_instant(warsaw) == "2020-12-15T19:58:53Z"
    finally:
        monkeypatch.undo()
        time.tzset()
