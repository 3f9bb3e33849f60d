"""Refusals of the catalog and the clock, down to code, field, resource and message
(mutation testing showed only the HTTP tests looked at them)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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


def test_get_account_of_an_unknown_id() -> None:
    with pytest.raises(NotFound, match=r"^account 999 not found$") as missing:
        World().engine.get_account(999)
    assert missing.value.resource == "account"


def test_a_chosen_id_already_taken() -> None:
    w = World()
    taken = w.engine.create_sequence(w.account, name="a", steps=[], creator_id=w.actor).id
    with pytest.raises(ValidationFailed) as refused:
        w.engine.create_sequence(w.account, name="b", steps=[], creator_id=w.actor,
                                 sequence_id=taken)
    assert refused.value.resource == "sequence"
    assert refused.value.errors == (ErrorDetail(
        "already_exists", f"a sequence with id {taken} already exists", "/data/id"),)


def test_a_sequence_created_at_must_be_aware_and_is_kept_in_utc() -> None:
    w = World()
    with pytest.raises(ValidationFailed) as refused:
        w.engine.create_sequence(w.account, name="a", steps=[], creator_id=w.actor,
                                 created_at=datetime(2020, 1, 1))
    assert refused.value.resource == "sequence"
    assert refused.value.errors == (ErrorDetail(
        "incorrect_value", "created_at must be timezone-aware", "/data/created_at"),)
    made = w.engine.create_sequence(
        w.account, name="a", steps=[], creator_id=w.actor,
        created_at=datetime(2020, 1, 1, 12, 0, 0, 900_000, tzinfo=ZoneInfo("Asia/Tokyo")))
    assert made.created_at == datetime(2020, 1, 1, 3, tzinfo=UTC)
    assert made.created_at.tzinfo is UTC


def test_an_enrollment_refused_for_every_reason_at_once() -> None:
    w = World()
    stranger = w.engine.create_user(w.engine.create_account("other").id).id
    with pytest.raises(ValidationFailed) as refused:
        w.engine.enroll(w.account, sequence_id=404, resource_type="lead", resource_id=1,
                        actor_id=stranger)
    assert refused.value.resource == "sequence_enrollment"
    assert refused.value.errors == (
        ErrorDetail("incorrect_value", "sequence 404 does not exist", "/data/sequence_id"),
        ErrorDetail("incorrect_value", f"user {stranger} is not a user of this account",
                    "/data/actor_id"),
    )
