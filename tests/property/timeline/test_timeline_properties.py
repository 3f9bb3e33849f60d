"""Properties of planning over many IANA zones, years 2000-2040, holidays, weekmasks, windows.

The fast, table-driven planner is checked against a naive day-by-day
reference written straight from the rules (semantics.md section 4).
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from zoneinfo import ZoneInfo

import holidays as holidays_pkg
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from engine.timeline import BusinessCalendar, DelayUnit, calendar_for, plan, roll_forward

UTC = dt.UTC
W = DelayUnit.WEEKDAYS
H = DelayUnit.HOURS
ONE_DAY = dt.timedelta(days=1)

ZONES = sorted(zoneinfo.available_timezones())
HOLIDAYS = [None, "US", "GB", "PL", "DE-BY", "FR", "JP"]
COMMON_WEEKMASKS = ["1111100", "1111001", "0111110", "1111110", "1111111", "0010000"]

zones = st.sampled_from(ZONES)
holiday_specs = st.sampled_from(HOLIDAYS)
weekmasks = st.one_of(
    st.sampled_from(COMMON_WEEKMASKS),
    st.lists(st.booleans(), min_size=7, max_size=7)
    .filter(any)
    .map(lambda bits: "".join("1" if bit else "0" for bit in bits)),
)
instants = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2040, 12, 31, 23, 59, 59, 999999),
    timezones=st.just(UTC),
)
delays = st.integers(min_value=0, max_value=400)


@st.composite
def windows(draw: st.DrawFn) -> str | None:
    if draw(st.booleans()):
        return None
    opens = draw(st.integers(min_value=0, max_value=24 * 60 - 2))
    closes = draw(st.integers(min_value=opens + 1, max_value=24 * 60 - 1))
    return f"{opens // 60:02d}:{opens % 60:02d}-{closes // 60:02d}:{closes % 60:02d}"


@functools.cache
def transition_days(zone_name: str, year: int) -> list[dt.date]:
    """Local dates in ``year`` on which the zone's UTC offset changes (daily probe)."""
    zone = ZoneInfo(zone_name)
    days = [dt.date(year, 1, 1) + i * ONE_DAY for i in range(367)]
    offsets = [zone.utcoffset(dt.datetime.combine(day, dt.time(0))) for day in days]
    return [days[i] for i in range(366) if offsets[i] != offsets[i + 1]]


@st.composite
def calendars_and_instants(
    draw: st.DrawFn, with_window: bool | None = False
) -> tuple[BusinessCalendar, dt.datetime]:
    """A calendar and a start; half the starts fall within two days of a DST change.

    ``with_window``: False for no send window, True for one, None for either.
    """
    zone = draw(zones)
    if with_window is None:
        window = draw(windows())
    elif with_window:
        window = draw(windows().filter(lambda text: text is not None))
    else:
        window = None
    calendar = calendar_for(zone, draw(holiday_specs), draw(weekmasks), window)
    t = draw(instants)
    changes = transition_days(zone, t.year)
    if changes and draw(st.booleans()):
        near = dt.datetime.combine(draw(st.sampled_from(changes)), dt.time(0), UTC)
        jitter = draw(st.integers(min_value=-48 * 3600, max_value=72 * 3600))
        t = near + dt.timedelta(seconds=jitter, microseconds=t.microsecond)
    return calendar, t


# -- the naive reference ------------------------------------------------------------------


@functools.cache
def _holiday_table(spec: str) -> holidays_pkg.HolidayBase:
    country, _, sub = spec.partition("-")
    return holidays_pkg.country_holidays(country, subdiv=sub or None)


@functools.cache
def date_exists(zone: dt.tzinfo, day: dt.date) -> bool:
    """Whether some instant has local date ``day``: its start, resolved forward, is on it."""
    start = dt.datetime.combine(day, dt.time(0), zone).astimezone(UTC)
    return start.astimezone(zone).date() == day


def business_day_test(calendar: BusinessCalendar) -> Callable[[dt.date], bool]:
    table = None if calendar.holidays is None else _holiday_table(calendar.holidays)
    weekmask = calendar.weekmask
    zone = calendar.zone

    def business(day: dt.date) -> bool:
        return (
            weekmask[day.weekday()] == "1"
            and (table is None or day not in table)
            and date_exists(zone, day)
        )

    return business


def next_business(day: dt.date, business: Callable[[dt.date], bool]) -> dt.date:
    while not business(day):
        day += ONE_DAY
    return day


def reference_weekdays(t: dt.datetime, n: int, calendar: BusinessCalendar) -> dt.datetime:
    zone = calendar.zone
    business = business_day_test(calendar)
    local = t.astimezone(zone)
    day = next_business(local.date(), business)
    for _ in range(n):
        day = next_business(day + ONE_DAY, business)
    if day == local.date():
        return t
    while True:
        # fold=0: a gap moves forward by its length, an overlap is its first occurrence.
        result = dt.datetime.combine(day, local.time(), zone).astimezone(UTC)
        landed = result.astimezone(zone).date()
        if landed == day or business(landed):
            return result
        day = next_business(landed + ONE_DAY, business)


def reference_roll(t: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    window = calendar.send_window
    if window is None:
        return t
    zone = calendar.zone
    business = business_day_test(calendar)

    def at(day: dt.date, wall: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, wall, zone).astimezone(UTC)

    def has_window(day: dt.date) -> bool:
        # A gap can swallow the window, or push its opening onto the next day.
        opening = at(day, window.opens)
        return opening < at(day, window.closes) and opening.astimezone(zone).date() == day

    day = t.astimezone(zone).date()
    if business(day) and has_window(day):
        if t < at(day, window.opens):
            return at(day, window.opens)
        if t < at(day, window.closes):
            return t
    while True:
        day = next_business(day + ONE_DAY, business)
        if has_window(day):
            return at(day, window.opens)


def reference_plan(
    t: dt.datetime, n: int, unit: DelayUnit, calendar: BusinessCalendar
) -> dt.datetime:
    if unit is H:
        return reference_roll(t + dt.timedelta(hours=n), calendar)
    return reference_roll(reference_weekdays(t, n, calendar), calendar)


def offset_span(calendar: BusinessCalendar, *instants: dt.datetime) -> dt.timedelta:
    offsets = [i.astimezone(calendar.zone).utcoffset() or dt.timedelta(0) for i in instants]
    return max(offsets) - min(offsets)


# -- properties -----------------------------------------------------------------------------

# Four times the profile's budget: these are cheap (400 examples on `ci`, ~10 s in all).
FAST = settings(max_examples=4 * settings.default.max_examples)


@FAST
@given(case=calendars_and_instants(None), n=delays, unit=st.sampled_from([H, W]))
def test_matches_the_naive_day_by_day_reference(
    case: tuple[BusinessCalendar, dt.datetime], n: int, unit: DelayUnit
) -> None:
    calendar, t = case
    assert plan(t, n, unit, calendar) == reference_plan(t, n, unit, calendar)


@FAST
@given(case=calendars_and_instants(None), n=delays)
def test_weekdays_land_on_business_days(case: tuple[BusinessCalendar, dt.datetime], n: int) -> None:
    calendar, t = case
    result = plan(t, n, W, calendar)
    assert result.tzinfo is UTC
    assert calendar.is_business_day(result.astimezone(calendar.zone).date())


@FAST
@given(case=calendars_and_instants(None), n=delays, unit=st.sampled_from([H, W]))
def test_never_before_the_start(
    case: tuple[BusinessCalendar, dt.datetime], n: int, unit: DelayUnit
) -> None:
    calendar, t = case
    assert plan(t, n, unit, calendar) >= t


@FAST
@given(case=calendars_and_instants(None), n=delays, unit=st.sampled_from([H, W]))
def test_monotone_in_n(case: tuple[BusinessCalendar, dt.datetime], n: int, unit: DelayUnit) -> None:
    calendar, t = case
    assert plan(t, n, unit, calendar) <= plan(t, n + 1, unit, calendar)


@FAST
@given(
    case=calendars_and_instants(None),
    later=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)),
    n=delays,
)
def test_hours_monotone_in_t(
    case: tuple[BusinessCalendar, dt.datetime], later: dt.timedelta, n: int
) -> None:
    calendar, t = case
    assert plan(t, n, H, calendar) <= plan(t + later, n, H, calendar)


@FAST
@given(
    case=calendars_and_instants(None),
    later=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)),
    n=delays,
)
def test_weekdays_monotone_in_t_between_business_days(
    case: tuple[BusinessCalendar, dt.datetime], later: dt.timedelta, n: int
) -> None:
    """Monotone in t, within the limits the wall-clock rule itself sets.

    Keeping the wall-clock time makes two things non-monotone by design: starts
    on non-business days (Saturday 23:00 and Sunday 01:00 both roll to Monday,
    in wall-clock order) and DST (a gap pushes 02:10 past 03:05; an overlap
    repeats an hour). So: for starts on business days, in date order, results
    are ordered up to the UTC offset change involved (zero away from DST).
    """
    calendar, t = case
    t2 = t + later
    d1, d2 = (i.astimezone(calendar.zone).date() for i in (t, t2))
    assume(d1 <= d2 and calendar.is_business_day(d1) and calendar.is_business_day(d2))
    p1, p2 = plan(t, n, W, calendar), plan(t2, n, W, calendar)
    assert p1 <= p2 + offset_span(calendar, t, t2, p1, p2)


@FAST
@given(case=calendars_and_instants(False), n=st.integers(0, 100_000))
def test_hours_without_window_are_exact_elapsed_time(
    case: tuple[BusinessCalendar, dt.datetime], n: int
) -> None:
    calendar, t = case
    assert plan(t, n, H, calendar) - t == dt.timedelta(hours=n)


@FAST
@given(case=calendars_and_instants(True), n=delays, unit=st.sampled_from([H, W]))
def test_window_results_lie_inside_the_window_of_a_business_day(
    case: tuple[BusinessCalendar, dt.datetime], n: int, unit: DelayUnit
) -> None:
    calendar, t = case
    window = calendar.send_window
    assert window is not None
    result = plan(t, n, unit, calendar)
    local = result.astimezone(calendar.zone)
    assert calendar.is_business_day(local.date())
    opening = dt.datetime.combine(local.date(), window.opens, calendar.zone).astimezone(UTC)
    # Inside by wall clock, or exactly at an opening a DST gap moved forward.
    assert window.opens <= local.time() < window.closes or result == opening
    assert roll_forward(result, calendar) == result


@FAST
# Found once by a random seed (issue 12): Nuuk's gap pushed Saturday's opening onto Sunday.
@example(
    case=(calendar_for("America/Nuuk", None, "0000010", "23:00-23:01"),
          dt.datetime(2024, 3, 30, tzinfo=UTC)),
    later=dt.timedelta(0),
)
@given(
    case=calendars_and_instants(True),
    later=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)),
)
def test_roll_forward_is_monotone_and_idempotent(
    case: tuple[BusinessCalendar, dt.datetime], later: dt.timedelta
) -> None:
    calendar, t = case
    rolled = roll_forward(t, calendar)
    assert t <= rolled <= roll_forward(t + later, calendar)
    assert roll_forward(rolled, calendar) == rolled


@FAST
@given(zone=zones, t=instants, n=delays)
def test_input_zone_does_not_matter(zone: str, t: dt.datetime, n: int) -> None:
    calendar = calendar_for("Europe/Warsaw", "PL")
    assert plan(t.astimezone(ZoneInfo(zone)), n, W, calendar) == plan(t, n, W, calendar)


@FAST
@given(
    case=calendars_and_instants(None),
    moves=st.lists(st.integers(min_value=-30 * 3600, max_value=30 * 3600), max_size=8),
)
def test_local_date_after_other_instants_is_the_zones_date(
    case: tuple[BusinessCalendar, dt.datetime], moves: list[int]
) -> None:
    # local_date remembers the span of the last regular local day it saw: whatever it
    # was asked before (near a DST change or not), each answer is the zone's own
    calendar, t = case
    for seconds in [0, *moves]:
        t = t + dt.timedelta(seconds=seconds)
        assert calendar.local_date(t) == t.astimezone(calendar.zone).date()
