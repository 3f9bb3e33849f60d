"""Clocks: the only place that reads the wall clock."""

import time
from datetime import UTC, datetime

# Seconds on a clock that never moves back (read deadlines, rate buckets): injected
# where it is used, so tests move a fake one. time.monotonic itself, not a wrapper:
# it is read a few times a request.
monotonic = time.monotonic


class SystemClock:
    mode = "system"

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """Time that moves only when told to, and never backwards."""

    mode = "simulated"

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        if instant < self._now:
            raise ValueError(f"time never moves back (now {self._now}, asked {instant})")
        # an instant in UTC kept as it is, as astimezone(UTC) keeps it, without the
        # call's argument parsing (P4: the clock is set a few times a step)
        self._now = instant if instant.tzinfo is UTC else instant.astimezone(UTC)
