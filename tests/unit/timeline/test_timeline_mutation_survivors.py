"""Survivors of the 2026-12-06 mutation run over engine/timeline (issue 12): each test
names the mutant it kills (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from engine.timeline import BusinessCalendar

UTC = dt.UTC


def test_local_date_across_a_fall_back_over_local_midnight() -> None:
    """Antarctica/Casey went from +11 to +08 at 02:00 on 2010-03-05: the last hours of
    2010-03-04 came again. An instant of 15:00-16:00 UTC on 2010-03-04 is on the 4th,
    although the UTC day's offset (+11) puts it on the 5th, a day of another offset.
    Found by searching every zone's changes, 1970-2037, for an instant where the fast
    path's guess and zoneinfo differ. Kills BusinessCalendar.local_ordinal's `is not
    offset` (the guess taken exactly when the local day's offset differs)."""
    zone = ZoneInfo("Antarctica/Casey")
    calendar = BusinessCalendar("Antarctica/Casey")
    calendar.prepare(dt.date(2010, 1, 1).toordinal(), dt.date(2010, 12, 31).toordinal())
    start = dt.datetime(2010, 3, 3, tzinfo=UTC)
    for quarter in range(3 * 96):
        instant = start + dt.timedelta(minutes=15 * quarter)
        assert calendar.local_date(instant) == instant.astimezone(zone).date(), instant
    assert calendar.local_date(dt.datetime(2010, 3, 4, 15, 30, tzinfo=UTC)) == dt.date(
        2010, 3, 4)
