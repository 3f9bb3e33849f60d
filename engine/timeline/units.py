"""Units a step delay can be expressed in."""

from __future__ import annotations

import enum

__all__ = ["DelayUnit"]


class DelayUnit(enum.StrEnum):
    """The unit of ``delay_from_previous_step``, as the wire spells it."""

    HOURS = "hours"
    WEEKDAYS = "weekdays"
