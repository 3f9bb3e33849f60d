"""Planning: when a step with a given delay runs, on an actor's calendar.

Every function takes and returns timezone-aware datetimes and returns UTC
(``datetime.UTC``); an aware input in another zone is converted, a naive one
is refused. Nothing here reads the clock.

DST policy, for ``weekdays`` steps (which keep the local wall-clock time):

* **Gap** (spring forward): a wall time that does not exist moves forward by
  the length of the gap (02:30 on a day that jumps from 02:00 to 03:00 becomes
  03:30). Should that push it past midnight onto a non-business day (Greenland
  jumps at 23:00 on Saturdays), it moves on to the next business day at the
  same wall time. A local date the zone skips (Samoa skipped 2011-12-30) is
  not a business day at all.
* **Overlap** (fall back): an ambiguous wall time is its first occurrence.

Send windows resolve their ends the same way; a day whose window a gap
swallows, or whose opening a gap pushes past midnight, has no window (see
``BusinessCalendar.window_opening``), so rolling is idempotent on DST days.

``hours`` steps are elapsed time, so DST never changes their length.
"""

from __future__ import annotations

import datetime as dt

from engine.timeline.calendar import BusinessCalendar, SendWindow
from engine.timeline.units import DelayUnit

__all__ = ["next_business_day_start", "plan", "roll_forward"]

_UTC = dt.UTC
_HOURS = DelayUnit.HOURS
_WEEKDAYS = DelayUnit.WEEKDAYS
_MIDNIGHT = dt.time(0)
# Building a timedelta costs ~0.2 us, as much as the rest of a step: common ones are shared.
_STEPS = 1024
_HOUR_STEPS = tuple(dt.timedelta(hours=i) for i in range(_STEPS))
_DAY_STEPS = tuple(dt.timedelta(days=i) for i in range(_STEPS))
# Empty windows only happen on days where a DST gap swallows the opening; a
# window that never opens within a year of business days is a bug, not a wait.
_MAX_WINDOW_SKIPS = 400


def plan(t: dt.datetime, n: int, unit: DelayUnit, calendar: BusinessCalendar) -> dt.datetime:
    """The instant a step runs: ``n`` ``unit`` after ``t``, on ``calendar``.

    * ``hours``: ``t + n`` hours of elapsed time, then rolled into the send
      window if there is one (without one, any day will do).
    * ``weekdays``: in the calendar's zone, ``t`` moves forward to the first
      business day if it is not one, then ``n`` business days are added, the
      wall-clock time (to the microsecond) kept throughout; then rolled into
      the send window if there is one. ``n == 0`` on a business day is ``t``
      itself. See the module docstring for DST gaps and overlaps.

    Costs O(1) from the prepared day table (plus a one-off table build when a
    year range is first needed); days with an offset change go through zoneinfo.
    """
    if t.tzinfo is not _UTC:
        t = _as_utc(t)
    if unit is _WEEKDAYS and n >= 0:
        # The prepared-table path, inlined (a call costs ~10% of a step, P3). Valid
        # when t's UTC day, its local day and the target day all have a constant UTC
        # offset (no transition) and lie in the table: then local = t + offset
        # exactly, and the result is t + k days, corrected by the offset difference
        # if it changed in between. Anything else takes the zoneinfo path.
        lo, hi, offsets, rank, opens = calendar.days
        result = target = None
        day = t.toordinal()
        if lo < day < hi:
            offset = offsets[day - lo]
            if offset is not None:
                local = (t + offset).toordinal() - lo
                if offsets[local] is offset:
                    index = rank[local] + n
                    if index < len(opens):
                        days = opens[index] - lo - local
                        target_offset = offsets[local + days]
                        step = _DAY_STEPS[days] if days < _STEPS else dt.timedelta(days=days)
                        if not days:
                            result = t
                        elif target_offset is offset:
                            result = t + step
                        elif target_offset is not None:
                            result = t + (step + (offset - target_offset))
                        if result is not None:  # it lies on that business day, locally
                            target = opens[index]
        if result is None:
            result = _weekdays_by_zoneinfo(t, n, calendar)
    elif unit is _HOURS and 0 <= n < _STEPS:
        result = t + _HOUR_STEPS[n]
        target = None
        if calendar.send_window is not None:
            # calendar.local_ordinal and is_business_ordinal, inlined from the table
            lo, hi, offsets, rank, opens = calendar.days
            day = result.toordinal()
            if lo < day < hi and (offset := offsets[day - lo]) is not None:
                local = (result + offset).toordinal()
                if offsets[local - lo] is offset:
                    index = rank[local - lo]
                    if index < len(opens) and opens[index] == local:
                        target = local
    else:
        return _plan_checked(t, n, unit, calendar)
    window = calendar.send_window
    if window is None:
        return result
    if target is not None:
        # _roll_into_window's first case and its loop's first turn, inlined from the
        # windows it remembered (a call costs as much as the rest, and the loop ~1.6 us:
        # P4, where a quarter of the arrivals come after the closing). The result lies on
        # business day `target`, which is opens[index]: inside or before its window, or
        # else (after the closing, or no window that day) before or inside the next
        # business day's, opens[index + 1]
        windows = calendar.windows
        bounds = windows.get(target)
        if bounds is not None:
            if (opening := bounds[0]) is not None and result < bounds[1]:
                return opening if result < opening else result
            if index + 1 < len(opens):
                bounds = windows.get(opens[index + 1])
                if bounds is not None and (opening := bounds[0]) is not None and (
                        result < bounds[1]):
                    return opening if result < opening else result
    return _roll_into_window(result, calendar, window)


def _plan_checked(
    t: dt.datetime, n: int, unit: DelayUnit, calendar: BusinessCalendar
) -> dt.datetime:
    """``plan`` off its fast paths: bad delays, units given as strings, huge hour counts."""
    if n < 0:
        raise ValueError(f"a delay cannot be negative, got {n}")
    unit = DelayUnit(unit)
    if unit is _HOURS and n >= _STEPS:
        result = t + dt.timedelta(hours=n)
        window = calendar.send_window
        return result if window is None else _roll_into_window(result, calendar, window)
    return plan(t, n, unit, calendar)


def roll_forward(t: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    """``t`` if a step may run then, else the next instant one may.

    Without a send window every instant is allowed and ``t`` comes back
    unchanged (in UTC). With one: before the opening of a business day moves
    to that opening; at or after the closing, or on a non-business day, moves
    to the next business day's opening.
    """
    if t.tzinfo is not _UTC:
        t = _as_utc(t)
    window = calendar.send_window
    if window is None:
        return t
    return _roll_into_window(t, calendar, window)


def next_business_day_start(t: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    """Start of the first business day strictly after ``t``'s local day, in UTC.

    The start is local midnight (if midnight falls in a DST gap, the instant
    the day begins), or the send window's opening when there is a window.
    """
    if t.tzinfo is not _UTC:
        t = _as_utc(t)
    day = calendar.business_day(calendar.local_ordinal(t) + 1)
    start = calendar.instant(day, _MIDNIGHT)
    window = calendar.send_window
    if window is None:
        return start
    return _roll_into_window(start, calendar, window)


def _as_utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"planning needs a timezone-aware datetime, got naive {t.isoformat()}")
    return t.astimezone(_UTC)


def _weekdays_by_zoneinfo(t: dt.datetime, n: int, calendar: BusinessCalendar) -> dt.datetime:
    """The general path, through zoneinfo: transition days and first use of a year range."""
    local = t.astimezone(calendar.zone)
    day = local.toordinal()
    calendar.prepare(min(day, t.toordinal()) - 1, max(day, t.toordinal()) + 1)
    target = calendar.business_day(day, n)
    if target == day:
        return t
    while True:
        # Aware + timedelta is wall-clock arithmetic with fold=0: a gap moves
        # forward on the way to UTC, an overlap takes its first occurrence.
        result = (local + dt.timedelta(days=target - day)).astimezone(_UTC)
        landed = calendar.local_ordinal(result)
        if landed == target or calendar.is_business_ordinal(landed):
            return result
        target = calendar.business_day(landed + 1)


def _roll_into_window(
    t: dt.datetime, calendar: BusinessCalendar, window: SendWindow
) -> dt.datetime:
    """The first instant at or after ``t`` inside the window of a business day.

    The window of local day D runs from its opening to (D, closes), both
    resolved like planning resolves a wall time; a day whose window a DST gap
    swallows or pushes onto the next day has none (``window_opening``).
    Comparing instants rather than wall times keeps the roll monotone on DST
    days, and since every result lies in its own day's window, idempotent.
    """
    day = calendar.local_ordinal(t)
    if calendar.is_business_ordinal(day):
        opening, closing = calendar.window_bounds(day)
        if opening is not None:
            if t < opening:
                return opening
            if t < closing:
                return t
    for _ in range(_MAX_WINDOW_SKIPS):
        day = calendar.business_day(day + 1)
        opening, closing = calendar.window_bounds(day)
        if opening is not None and t < closing:
            # After a fall-back over local midnight (Antarctica/Casey, 2010-03-05) the
            # next day's window can open before t, which is then inside it.
            return opening if t < opening else t
    raise ValueError(f"send window {window} never opens on {calendar!r}")
