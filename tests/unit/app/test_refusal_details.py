"""Refusals of the catalog and the clock, down to code, field, resource and message
(mutation testing showed only the HTTP tests looked at them)."""

from datetime import UTC, datetime

import pytest
from world import World

from engine import in_memory
from engine.errors import (
    ClockNotSimulated,
    ErrorDetail,
    NotFound,
    ReachRequired,
    ValidationFailed,
)


def test_a_bad_calendar_is_refused_for_the_user() -> None:
    w = World()
    with pytest.raises(ValidationFailed) as refused:
        w.engine.create_user(w.account, time_zone="Mars/Olympus")
    assert refused.value.resource == "user"
    assert refused.value.errors == (
        ErrorDetail("incorrect_value", "unknown time zone 'Mars/Olympus'", "/data"),)


def test_an_unknown_account_and_one_without_reach() -> None:
    w = World()
    with pytest.raises(NotFound, match=r"^account 999 not found$") as missing:
        w.engine.list_sequences(999)
    assert missing.value.resource == "account"
    lonely = w.engine.create_account("initech", reach_enabled=False).id
    with pytest.raises(ReachRequired, match=r"^this account has no Reach subscription: "
                       r"sequences are unavailable$"):
        w.engine.list_sequences(lonely)


def test_the_clock_refusals() -> None:
    with pytest.raises(ClockNotSimulated,
                       match=r"^the clock is the system clock: time cannot be advanced$"):
        in_memory().advance(seconds=1)
    start = datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC)
    engine = in_memory(start)
    with pytest.raises(ValidationFailed) as refused:
        engine.advance(to=datetime(2020, 1, 1, tzinfo=UTC))
    assert refused.value.errors == (ErrorDetail(
        "incorrect_value", "time never moves back: it is already 2020-12-15T19:58:53+00:00",
        "/data/to"),)
    assert engine.clock.now() == start
