"""An actor's business calendar: time zone, weekmask, public holidays, send window.

Calendars are immutable values (equality and hash by their four settings).
Their prepared tables (see :mod:`engine.timeline.daytable`) are built lazily,
on the first computation that needs a given year range, and widened on demand.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from array import array
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.timeline.daytable import DayTable, build_day_table, empty_day_table, shift

__all__ = ["BusinessCalendar", "SendWindow", "calendar_for"]

_UTC = dt.UTC
_MAX_ORDINAL = dt.date.max.toordinal()
_MIDNIGHT = dt.time(0)
_ONE_DAY = dt.timedelta(days=1)
_WINDOW_RE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_DAY_NAMES = {
    name: index
    for index, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
# Years loaded around the first date a calendar is asked about, and the margin
# added when a table has to grow; a request further than _FAR_YEARS from the
# loaded range starts a fresh table instead of filling the years in between.
_INITIAL_YEARS_BEFORE = 1
_INITIAL_YEARS_AFTER = 4
_GROWTH_YEARS = 2
_FAR_YEARS = 50


@dataclass(frozen=True, slots=True)
class SendWindow:
    """Local wall-clock hours in which steps may run: ``[opens, closes)`` on business days.

    Both ends are whole minutes on the same day; the closing minute itself is
    outside the window.
    """

    opens: dt.time
    closes: dt.time

    def __post_init__(self) -> None:
        for edge in (self.opens, self.closes):
            if edge.tzinfo is not None or edge.second or edge.microsecond:
                raise ValueError(
                    f"send window times must be naive whole minutes, got {edge.isoformat()}"
                )
        if not self.opens < self.closes:
            raise ValueError(f"send window must open before it closes, got '{self}'")

    @classmethod
    def parse(cls, text: str) -> SendWindow:
        """Parse ``"HH:MM-HH:MM"`` (local time, opening before closing)."""
        match = _WINDOW_RE.fullmatch(text)
        if match is None:
            raise ValueError(f"send window must look like 'HH:MM-HH:MM', got '{text}'")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"send window has an impossible time of day: '{text}'")
        return cls(dt.time(h1, m1), dt.time(h2, m2))

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


def _parse_zone(name: str) -> dt.tzinfo:
    if name == "UTC":
        return _UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone '{name}'") from None


def _parse_weekmask(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) == 7 and set(cleaned) <= {"0", "1"}:
        bits = cleaned
    else:
        days = set()
        for word in cleaned.replace(",", " ").split():
            day = _DAY_NAMES.get(word.lower())
            if day is None:
                raise ValueError(
                    "weekmask must be 7 characters of 0/1 (Monday to Sunday) or day names "
                    f"like 'Mon Tue Wed Thu Fri', got '{text}'"
                )
            days.add(day)
        bits = "".join("1" if i in days else "0" for i in range(7))
    if "1" not in bits:
        raise ValueError(f"weekmask must include at least one day, got '{text}'")
    return bits


def _parse_holidays(spec: str) -> str:
    # Validating needs the package; this runs when a calendar is built, never at import.
    import holidays

    country, dash, subdivision = spec.strip().partition("-")
    country = country.upper()
    supported: dict[str, list[str]] = holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(f"unknown holiday country '{spec}' (expected e.g. 'US', 'PL', 'DE-BY')")
    if not dash:
        return country
    for known in supported[country]:
        if known.upper() == subdivision.upper():
            return f"{country}-{known}"
    raise ValueError(f"unknown holiday subdivision '{subdivision}' for country '{country}'")


class BusinessCalendar:
    """An actor's calendar: IANA zone, weekmask, optional public holidays, optional send window.

    * ``time_zone``: an IANA name (``zoneinfo``). ``"UTC"`` is the default.
    * ``holidays``: ``"US"``, ``"PL"``, ``"DE-BY"``... (country, then an optional
      subdivision after the first ``-``), as ``holidays.country_holidays``
      understands them, with the package's default observed-day behaviour.
    * ``weekmask``: 7 characters of 0/1 from Monday to Sunday, or day names
      (``"Mon Tue Wed Thu Fri"``); normalised to the 7-character form.
    * ``send_window``: a :class:`SendWindow` or its ``"HH:MM-HH:MM"`` text.

    A business day is a local date in the weekmask that is not a holiday and
    that exists in the zone (Pacific/Apia skipped Friday 2011-12-30: no instant
    has that local date, so it is no business day). Invalid settings raise
    :class:`ValueError` with a one-sentence message.
    """

    __slots__ = (
        "_holidays",
        "_key",
        "_last_local",
        "_time_zone",
        "_weekmask",
        "_zone",
        "days",
        "send_window",
        "table",
        "windows",
    )

    _time_zone: str
    _holidays: str | None
    _weekmask: str
    _zone: dt.tzinfo
    _key: tuple[str, str | None, str, SendWindow | None]
    # Plain attributes rather than properties: planning reads both on every
    # step (a property costs ~10% of a step). Treat them as read-only.
    send_window: SendWindow | None
    table: DayTable  # the prepared table loaded now (may cover no dates yet): see prepare()
    # The fields of `table` that planning reads on every step (lo, hi, offsets, rank,
    # opens) as a plain tuple, set with it: unpacking it costs ~45 ns, the NamedTuple's
    # thirteen ~155 (P4: 650,000 plans). Treat it as read-only.
    days: tuple[int, int, tuple[dt.timedelta | None, ...], array[int], array[int]]
    # Memos of pure results (a calendar is a value): each local day's send window (read
    # by planning too; treat it as read-only), and
    # the last local day asked about, as the instants it spans (the limits and the
    # simulator's tally ask about instants of one day many times in a row; a day with
    # an offset change is not remembered). Racing threads at worst compute one twice.
    windows: dict[int, tuple[dt.datetime | None, dt.datetime]]
    _last_local: tuple[dt.datetime, dt.datetime, dt.date] | None

    def __init__(
        self,
        time_zone: str = "UTC",
        holidays: str | None = None,
        weekmask: str = "1111100",
        send_window: SendWindow | str | None = None,
    ) -> None:
        self._zone = _parse_zone(time_zone)
        self._time_zone = time_zone
        self._holidays = None if holidays is None else _parse_holidays(holidays)
        self._weekmask = _parse_weekmask(weekmask)
        self.send_window = (
            SendWindow.parse(send_window) if isinstance(send_window, str) else send_window
        )
        self._key = (self._time_zone, self._holidays, self._weekmask, self.send_window)
        self._load(empty_day_table(self._weekmask))
        self.windows = {}
        self._last_local = None

    @property
    def time_zone(self) -> str:
        return self._time_zone

    @property
    def holidays(self) -> str | None:
        return self._holidays

    @property
    def weekmask(self) -> str:
        return self._weekmask

    @property
    def zone(self) -> dt.tzinfo:
        """The ``tzinfo`` of :attr:`time_zone`."""
        return self._zone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        window = None if self.send_window is None else str(self.send_window)
        return (
            f"BusinessCalendar(time_zone={self._time_zone!r}, holidays={self._holidays!r}, "
            f"weekmask={self._weekmask!r}, send_window={window!r})"
        )

    def is_business_day(self, day: dt.date) -> bool:
        """Whether the local date ``day`` is in the weekmask, not a holiday, and exists."""
        return self.is_business_ordinal(day.toordinal())

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The date of an aware instant on this calendar's wall clock."""
        last = self._last_local
        if last is not None and instant.tzinfo is _UTC and last[0] <= instant < last[1]:
            return last[2]
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"local_date needs a timezone-aware datetime, got {instant!r}")
        day = self.local_ordinal(instant)
        date = dt.date.fromordinal(day)
        table = self.table
        if (
            1 < day < _MAX_ORDINAL  # its span is then representable
            and table.lo <= day <= table.hi
            and (offset := table.offsets[day - table.lo]) is not None
        ):
            # one offset for the whole local day: it is the instants from its midnight on
            start = dt.datetime.combine(date, _MIDNIGHT, _UTC) - offset
            self._last_local = (start, start + _ONE_DAY, date)
        return date

    def local_day(self, instant: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.date]:
        """`local_date(instant)` and a span [start, end) of UTC instants holding `instant`
        that all have that date: its whole local day when the day has one UTC offset, else
        empty. A caller may reuse the date for any instant in the span (P4: the simulator's
        tally asks once a day and actor, not once an instant: -0.8% instructions)."""
        date = self.local_date(instant)
        last = self._last_local
        if last is not None and last[0] <= instant < last[1]:  # all of its span is `date`
            return last
        return instant, instant, date

    # -- day-ordinal arithmetic for planning and overdue ---------------------------------
    # Local dates are proleptic ordinals (``date.toordinal()``); instants are aware.

    def prepare(self, first: int, last: int) -> DayTable:
        """A table covering local ordinals ``first..last``, widening the current one if needed.

        Tables are immutable and swapped whole, so concurrent callers at worst
        build the same table twice; each uses the one it got back.
        """
        table = self.table
        if table.lo <= first and last <= table.hi:
            return table
        first_year = dt.date.fromordinal(max(first, 1)).year
        last_year = dt.date.fromordinal(min(last, _MAX_ORDINAL)).year
        if table.hi < table.lo or (
            first_year > table.last_year + _FAR_YEARS or last_year < table.first_year - _FAR_YEARS
        ):
            first_year -= _INITIAL_YEARS_BEFORE
            last_year += _INITIAL_YEARS_AFTER
        else:
            if first_year < table.first_year:
                first_year -= _GROWTH_YEARS
            if last_year > table.last_year:
                last_year += _GROWTH_YEARS
            first_year = min(first_year, table.first_year)
            last_year = max(last_year, table.last_year)
        table = build_day_table(self._zone, self._weekmask, self._holidays, first_year, last_year)
        self._load(table)
        return table

    def _load(self, table: DayTable) -> None:
        # `days` after `table`: a racing planner reads one of them, each consistent
        self.table = table
        self.days = (table.lo, table.hi, table.offsets, table.rank, table.opens)

    def business_day(self, day: int, n: int = 0) -> int:
        """Ordinal of the ``n``-th business day after the first business day on or after ``day``."""
        table = self.prepare(day, day)
        while True:
            result = shift(table, day, n)
            if result <= table.hi:
                return result
            if result > _MAX_ORDINAL:
                raise OverflowError("date value out of range")
            table = self.prepare(day, result)

    def is_business_ordinal(self, day: int) -> bool:
        """:meth:`is_business_day` for a local ordinal."""
        if self._weekmask[(day - 1) % 7] != "1":
            return False
        return day not in self.prepare(day, day).closed

    def local_ordinal(self, instant: dt.datetime) -> int:
        """Local date (ordinal) of an aware instant."""
        if instant.tzinfo is not _UTC:
            instant = instant.astimezone(_UTC)
        table = self.table
        day = instant.toordinal()
        if table.lo < day < table.hi:
            offset = table.offsets[day - table.lo]
            if offset is not None:
                local = (instant + offset).toordinal()
                if table.offsets[local - table.lo] is offset:
                    return local
        local = instant.astimezone(self._zone).toordinal()
        self.prepare(min(day, local) - 1, max(day, local) + 1)
        return local

    def instant(self, day: int, wall: dt.time) -> dt.datetime:
        """UTC instant of local date ``day`` at wall-clock ``wall``.

        A wall time inside a DST gap moves forward by the gap; an ambiguous one
        is the first occurrence (``fold=0``).
        """
        table = self.prepare(day, day)
        offset = table.offsets[day - table.lo]
        date = dt.date.fromordinal(day)
        if offset is not None:
            return dt.datetime.combine(date, wall, _UTC) - offset
        return dt.datetime.combine(date, wall, self._zone).astimezone(_UTC)

    def window_opening(self, day: int) -> dt.datetime | None:
        """When local day ``day``'s send window opens, or None if it has no window that day.

        Each end resolves like any wall time (a gap moves it forward, an
        overlap takes the first occurrence). A day has no window when there is
        no send window, when a gap swallows the window (the opening resolves at
        or after the closing), or when a gap pushes the opening past midnight
        onto the next local day (Greenland jumps from 23:00 to 00:00: a window
        opening at 23:00 on that Saturday would open on Sunday, outside both
        days' windows). Whether ``day`` is a business day is the caller's check.
        """
        if self.send_window is None:
            return None
        return self.window_bounds(day)[0]

    def window_bounds(self, day: int) -> tuple[dt.datetime | None, dt.datetime]:
        """:meth:`window_opening` of local day ``day`` and the instant its window closes
        (remembered per day). Only for a calendar with a send window."""
        found = self.windows.get(day)
        if found is None:
            window = self.send_window
            assert window is not None, "window_bounds needs a send window"
            opening: dt.datetime | None = self.instant(day, window.opens)
            closing = self.instant(day, window.closes)
            if opening is not None and (self.local_ordinal(opening) != day or opening >= closing):
                opening = None
            found = self.windows[day] = (opening, closing)
        return found


@functools.lru_cache(maxsize=4096)
def calendar_for(
    time_zone: str = "UTC",
    holidays: str | None = None,
    weekmask: str = "1111100",
    send_window: str | None = None,
) -> BusinessCalendar:
    """The shared calendar for these settings (cached: prepared tables are built once)."""
    return BusinessCalendar(time_zone, holidays, weekmask, send_window)
