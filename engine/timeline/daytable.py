"""Prepared per-calendar day tables: weekmask arithmetic, holidays and UTC offsets.

A :class:`DayTable` covers a contiguous range of local dates (whole years) and
holds everything planning needs so that one step costs a few integer
operations and two array reads (or, past the table, at most two bisects):

* **Weekmask indices.** Counting from Monday 0001-01-01, the weekmask days are
  numbered 0, 1, 2, ... ("W-indices"). With ``k`` days in the weekmask, the
  W-index of a date is ``(e // 7) * k + before[e % 7]`` where ``e`` is the
  number of days since that Monday, and the date of a W-index is
  ``(x // k) * 7 + weekday_of[x % k]``. That turns "add n weekmask days" into
  O(1) arithmetic.
* **Closed days** (public holidays, and local dates the zone skips, like
  Pacific/Apia's 2011-12-30) falling on weekmask days, as a sorted tuple of W-indices
  (``marks``) plus ``shifted[i] = marks[i] - i``: the number of business days
  before holiday ``i``. Adding ``n`` business days is then two bisects: see
  :func:`shift`.
* **UTC offsets per local day.** ``offsets[d - lo]`` is the UTC offset in
  force for the whole local day ``d``, or ``None`` when an offset transition
  happens during that day (DST change, zone rule change). On regular days a
  local wall time converts to UTC by subtracting that offset, which is far
  cheaper than a zoneinfo round trip; irregular days take the zoneinfo path.
* **Business days by rank.** ``opens`` lists the business days of the range in
  order and ``rank[d - lo]`` is how many of them come before local day ``d``,
  so the ``n``-th business day after the first one on or after ``d`` is
  ``opens[rank[d - lo] + n]``: two array reads instead of the weekmask
  arithmetic and two bisects (planning's fast path, performance.md P3). Both
  are ``array('i')`` (4 bytes a day, no int objects: ~3 KB a loaded year).

Tables are immutable; a calendar swaps in a wider one when a computation
needs dates outside the range it covers (see ``BusinessCalendar.prepare``).
"""

from __future__ import annotations

import datetime as dt
from array import array
from bisect import bisect_left, bisect_right
from typing import NamedTuple

__all__ = ["DayTable", "build_day_table", "empty_day_table", "shift", "weekmask_tables"]

_MIN_ORDINAL = dt.date.min.toordinal()
_MAX_ORDINAL = dt.date.max.toordinal()


class DayTable(NamedTuple):
    """Everything planning needs for local dates ``lo..hi`` (ordinals, inclusive)."""

    lo: int
    hi: int
    offsets: tuple[dt.timedelta | None, ...]
    marks: tuple[int, ...]
    shifted: tuple[int, ...]
    per_week: int
    before: tuple[int, ...]
    weekday_of: tuple[int, ...]
    closed: frozenset[int]  # holidays and skipped local dates: never business days
    first_year: int
    last_year: int
    rank: array[int]  # business days of the range before each local day
    opens: array[int]  # the business days of the range, in order


def weekmask_tables(weekmask: str) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """``(k, before, weekday_of)`` for a normalised 7-character weekmask."""
    weekday_of = tuple(i for i, bit in enumerate(weekmask) if bit == "1")
    before = tuple(sum(1 for j in range(i) if weekmask[j] == "1") for i in range(7))
    return len(weekday_of), before, weekday_of


def empty_day_table(weekmask: str) -> DayTable:
    """A table covering no dates: the first computation builds a real one."""
    k, before, weekday_of = weekmask_tables(weekmask)
    return DayTable(
        1, 0, (), (), (), k, before, weekday_of, frozenset(), 0, -1, array("i"), array("i")
    )


def shift(table: DayTable, day: int, n: int) -> int:
    """Ordinal of the ``n``-th business day after the first business day on or after ``day``.

    Exact when the table's holidays cover ``day`` up to the result; the caller
    checks that the result is ``<= table.hi`` and widens the table otherwise.
    """
    k = table.per_week
    q, r = divmod(day - 1, 7)
    x = q * k + table.before[r]
    if table.marks:
        target = x - bisect_left(table.marks, x) + n
        x = target + bisect_right(table.shifted, target)
    else:
        x += n
    q, r = divmod(x, k)
    return q * 7 + table.weekday_of[r] + 1


def build_day_table(
    zone: dt.tzinfo,
    weekmask: str,
    holiday_spec: str | None,
    first_year: int,
    last_year: int,
) -> DayTable:
    """Build the table for local dates from ``first_year``-01-01 to ``last_year``-12-31."""
    first_year = max(first_year, dt.MINYEAR)
    last_year = min(last_year, dt.MAXYEAR)
    lo = dt.date(first_year, 1, 1).toordinal()
    hi = dt.date(last_year, 12, 31).toordinal()
    k, before, weekday_of = weekmask_tables(weekmask)
    offsets = _day_offsets(zone, lo, hi)
    holiday_days = _holiday_ordinals(holiday_spec, first_year, last_year) if holiday_spec else []
    closed = sorted({*holiday_days, *_skipped_days(zone, lo, offsets)})
    marks: list[int] = []
    for day in closed:
        q, r = divmod(day - 1, 7)
        if weekmask[r] == "1":
            marks.append(q * k + before[r])
    closed_days = frozenset(closed)
    rank, opens = _ranks(weekmask, lo, hi, closed_days)
    return DayTable(
        lo=lo,
        hi=hi,
        offsets=offsets,
        marks=tuple(marks),
        shifted=tuple(mark - i for i, mark in enumerate(marks)),
        per_week=k,
        before=before,
        weekday_of=weekday_of,
        closed=closed_days,
        first_year=first_year,
        last_year=last_year,
        rank=rank,
        opens=opens,
    )


def _ranks(
    weekmask: str, lo: int, hi: int, closed: frozenset[int]
) -> tuple[array[int], array[int]]:
    """``(rank, opens)`` for local days ``lo..hi``: see the module docstring."""
    rank, opens = array("i"), array("i")
    for day in range(lo, hi + 1):
        rank.append(len(opens))
        if weekmask[(day - 1) % 7] == "1" and day not in closed:
            opens.append(day)
    return rank, opens


def _holiday_ordinals(spec: str, first_year: int, last_year: int) -> list[int]:
    # Imported here: `holidays` costs ~37 ms to import and `import engine` must stay fast.
    import holidays

    country, _, subdivision = spec.partition("-")
    table = holidays.country_holidays(
        country, subdiv=subdivision or None, years=range(first_year, last_year + 1)
    )
    # Observed days can spill into a neighbouring year; keep the covered range only
    # so that tables built over different ranges agree.
    return sorted(day.toordinal() for day in table if first_year <= day.year <= last_year)


def _skipped_days(zone: dt.tzinfo, lo: int, offsets: tuple[dt.timedelta | None, ...]) -> list[int]:
    """Local dates no instant has: a date-line jump skipped them (Apia, 2011-12-30).

    Only a day holding a transition can be skipped. Its midnight then lies in
    the gap; resolved with fold=0 it lands on the first instant after the jump,
    whose local date is a later day.
    """
    skipped = []
    for index, offset in enumerate(offsets):
        if offset is None:
            date = dt.date.fromordinal(lo + index)
            start = dt.datetime.combine(date, dt.time(0), zone).astimezone(dt.UTC)
            if start.astimezone(zone).date() != date:
                skipped.append(lo + index)
    return skipped


def _day_offsets(zone: dt.tzinfo, lo: int, hi: int) -> tuple[dt.timedelta | None, ...]:
    """UTC offset valid for the whole local day, or None when it changes during the day.

    A day ``d`` holds a transition exactly when the offset of its local
    midnight differs from that of the next day's midnight (both resolved with
    fold=0; a gap at 00:00 of the next day resolves to the old offset and so
    correctly leaves ``d`` regular). Midnights are probed a week apart and the
    change days found by bisection, so building costs O(weeks + transitions),
    not a probe per day. Transitions that cancel out within a week are not
    seen; tzdb has none.
    """
    interned: dict[dt.timedelta, dt.timedelta] = {}

    def probe(ordinal: int) -> dt.timedelta | None:
        if ordinal > _MAX_ORDINAL:
            return None
        offset = zone.utcoffset(dt.datetime.fromordinal(ordinal))
        return None if offset is None else interned.setdefault(offset, offset)

    def find_changes(a: int, at_a: dt.timedelta | None, b: int, at_b: dt.timedelta | None) -> None:
        if b - a == 1:
            changes.append(a)
            return
        mid = (a + b) // 2
        at_mid = probe(mid)
        if at_mid != at_a:
            find_changes(a, at_a, mid, at_mid)
        if at_mid != at_b:
            find_changes(mid, at_mid, b, at_b)

    changes: list[int] = []
    points = [*range(lo, hi + 1, 7), hi + 1]
    values = [probe(point) for point in points]
    for a, at_a, b, at_b in zip(points, values, points[1:], values[1:], strict=False):
        if at_a != at_b:
            find_changes(a, at_a, b, at_b)
    offsets: list[dt.timedelta | None] = []
    start = lo
    for change in [*changes, hi + 1]:
        if change > start:
            offsets.extend([probe(start)] * (change - start))
        if change <= hi:
            offsets.append(None)
        start = change + 1
    return tuple(offsets)
