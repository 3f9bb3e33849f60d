"""SimulatedClock.set: every instant it keeps is in UTC, and time never moves back."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.adapters.clocks import SimulatedClock

START = datetime(2026, 3, 2, 8, 0, 0, 123_456, tzinfo=UTC)


def test_an_instant_in_utc_is_kept_as_it_is() -> None:
    clock, later = SimulatedClock(START), datetime(2026, 3, 3, 9, tzinfo=UTC)
    clock.set(later)
    assert clock.now() is later


def test_an_instant_in_another_zone_is_kept_in_utc() -> None:
    clock = SimulatedClock(START)
    later = datetime(2026, 3, 3, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    clock.set(later)
    assert clock.now() == later
    assert clock.now().tzinfo is UTC
    assert clock.now().hour == 14


def test_time_never_moves_back() -> None:
    clock = SimulatedClock(START)
    with pytest.raises(ValueError, match="never moves back"):
        clock.set(datetime(2026, 3, 2, 8, tzinfo=UTC))
    assert clock.now() is START
