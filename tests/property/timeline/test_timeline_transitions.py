"""Send windows that open or close inside DST gaps and overlaps, on purpose.

Random instants rarely hit the minute a zone's clock jumps. Here every case
starts from a real offset transition of a real IANA zone (found by probing
zoneinfo, 1970-2040) and puts a window's opening or closing inside the wall
times that transition skips (gap) or repeats (overlap), or on its edges. The
fast planner is held to the naive reference of test_timeline_properties and
to the roll's own laws (idempotent, monotone, inside a business day's window).
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_timeline_properties import reference_plan, reference_roll, weekmasks

from engine.timeline import BusinessCalendar, DelayUnit, calendar_for, plan, roll_forward

UTC = dt.UTC
FIRST = dt.datetime(1970, 1, 1, tzinfo=UTC)
LAST = dt.datetime(2040, 12, 31, tzinfo=UTC)
WEEK = 7 * 86400
MINUTES_PER_DAY = 24 * 60


class Transition(NamedTuple):
    at: dt.datetime  # the first instant with the new offset
    before: dt.timedelta
    after: dt.timedelta


def _offset(zone: ZoneInfo, timestamp: int) -> dt.timedelta:
    offset = dt.datetime.fromtimestamp(timestamp, zone).utcoffset()
    assert offset is not None
    return offset


@functools.cache
def transitions(zone_name: str) -> tuple[Transition, ...]:
    """Every change of UTC offset in 1970-2040, to the second (weekly probes, then bisection)."""
    zone = ZoneInfo(zone_name)
    found = []
    start, end = int(FIRST.timestamp()), int(LAST.timestamp())
    previous = _offset(zone, start)
    for probe in range(start + WEEK, end + WEEK, WEEK):
        current = _offset(zone, probe)
        if current == previous:
            continue
        low, high = probe - WEEK, probe  # offset(low) == previous != offset(high)
        while high - low > 1:
            middle = (low + high) // 2
            if _offset(zone, middle) == previous:
                low = middle
            else:
                high = middle
        found.append(Transition(dt.datetime.fromtimestamp(high, UTC), previous, current))
        previous = current
    return tuple(found)


@functools.cache
def all_transitions() -> tuple[list[tuple[str, Transition]], list[tuple[str, Transition]]]:
    """Every zone's transitions (~31,000; ~2 s once), split by whether the skipped or
    repeated wall times cross local midnight (Nuuk's 23:00 -> 00:00, Apia's lost day,
    Chile's 24:00 -> 23:00): rare among all, so drawn half the time on purpose."""
    same_day: list[tuple[str, Transition]] = []
    crossing: list[tuple[str, Transition]] = []
    for name in sorted(zoneinfo.available_timezones()):
        for jump in transitions(name):
            old, new = jump.at + jump.before, jump.at + jump.after
            (crossing if old.date() != new.date() else same_day).append((name, jump))
    return same_day, crossing


class Case(NamedTuple):
    calendar: BusinessCalendar
    t: dt.datetime


@st.composite
def transition_windows(draw: st.DrawFn) -> Case:
    """A calendar whose window opens or closes at a wall minute a transition skips or
    repeats (or at its edges), and a start within a few days of that transition."""
    zone_name, jump = draw(st.sampled_from(all_transitions()[draw(st.integers(0, 1))]))
    # Wall times from the old clock's reading at the jump to the new clock's:
    # skipped when the clock goes forward, repeated when it goes back.
    old_wall = (jump.at + jump.before).replace(tzinfo=None)
    new_wall = (jump.at + jump.after).replace(tzinfo=None)
    low, high = min(old_wall, new_wall), max(old_wall, new_wall)
    span = int((high - low).total_seconds() // 60)
    edge = low + dt.timedelta(minutes=draw(st.integers(-1, span + 1)))
    minute = edge.hour * 60 + edge.minute
    length = draw(st.integers(1, 12 * 60))
    if draw(st.booleans()) and minute + 1 < MINUTES_PER_DAY:
        opens, closes = minute, min(minute + length, MINUTES_PER_DAY - 1)
    elif minute > 0:
        opens, closes = max(minute - length, 0), minute
    else:
        opens, closes = 0, length
    window = f"{opens // 60:02d}:{opens % 60:02d}-{closes // 60:02d}:{closes % 60:02d}"
    weekmask = draw(
        st.one_of(
            st.just("1" * 7),
            # the transition's own local day on or off the calendar
            st.sampled_from(["1" * 7, "0" * 7]).map(
                lambda base: _flip(base, low.weekday())
            ).filter(lambda mask: "1" in mask),
            weekmasks,
        )
    )
    calendar = calendar_for(zone_name, None, weekmask, window)
    jitter = draw(st.integers(-3 * 86400, 2 * 86400))
    minute_offset = draw(st.sampled_from([0, 1, 59, 60]))
    t = jump.at + dt.timedelta(seconds=jitter // 60 * 60 + minute_offset)
    return Case(calendar, t)


def _flip(mask: str, index: int) -> str:
    return mask[:index] + ("0" if mask[index] == "1" else "1") + mask[index + 1 :]


NUUK = Case(
    calendar_for("America/Nuuk", None, "0000010", "23:00-23:01"),
    dt.datetime(2024, 3, 30, tzinfo=UTC),
)
APIA = Case(calendar_for("Pacific/Apia", None, "1111111", "00:00-09:00"),
            dt.datetime(2011, 12, 29, 20, tzinfo=UTC))
EXAMPLES = settings(max_examples=5 * settings.default.max_examples)


def test_the_strategy_reaches_the_named_transitions() -> None:
    nuuk_2024 = [jump for jump in transitions("America/Nuuk") if jump.at.year == 2024]
    assert nuuk_2024[0] == Transition(
        dt.datetime(2024, 3, 31, 1, tzinfo=UTC), dt.timedelta(hours=-2), dt.timedelta(hours=-1)
    )
    apia = [jump for jump in transitions("Pacific/Apia") if jump.at.year == 2011]
    assert Transition(
        dt.datetime(2011, 12, 30, 10, tzinfo=UTC), dt.timedelta(hours=-10), dt.timedelta(hours=14)
    ) in apia


@EXAMPLES
@example(NUUK)
@example(APIA)
@given(transition_windows())
def test_roll_forward_is_idempotent_and_matches_the_reference(case: Case) -> None:
    calendar, t = case
    rolled = roll_forward(t, calendar)
    assert rolled == reference_roll(t, calendar)
    assert roll_forward(rolled, calendar) == rolled


@EXAMPLES
@example(NUUK, dt.timedelta(hours=1))
@given(transition_windows(), st.timedeltas(dt.timedelta(0), dt.timedelta(days=2)))
def test_roll_forward_is_monotone_and_lands_inside_a_window(
    case: Case, later: dt.timedelta
) -> None:
    calendar, t = case
    rolled = roll_forward(t, calendar)
    assert t <= rolled <= roll_forward(t + later, calendar)
    day = calendar.local_ordinal(rolled)
    assert calendar.is_business_ordinal(day)
    opening = calendar.window_opening(day)
    window = calendar.send_window
    assert window is not None and opening is not None
    assert opening <= rolled < calendar.instant(day, window.closes)


@EXAMPLES
@example(NUUK, 0, DelayUnit.HOURS)
@example(APIA, 1, DelayUnit.WEEKDAYS)
@given(
    transition_windows(),
    st.integers(0, 30),
    st.sampled_from([DelayUnit.HOURS, DelayUnit.WEEKDAYS]),
)
def test_plan_across_a_transition_matches_the_reference(
    case: Case, n: int, unit: DelayUnit
) -> None:
    calendar, t = case
    result = plan(t, n, unit, calendar)
    assert result == reference_plan(t, n, unit, calendar)
    assert roll_forward(result, calendar) == result
