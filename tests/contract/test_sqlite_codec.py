"""The SQLite codec's time storage: any aware instant comes back equal, in UTC."""

from datetime import UTC, datetime, timedelta, timezone

import hypothesis.strategies as st
import pytest
from contract_samples import STEPS, busy_enrollment
from hypothesis import given

from engine.adapters.storage import sqlite_codec as codec

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),  # room for any offset
    timezones=st.one_of(offsets, st.timezones()),
)


@given(instants)
def test_an_aware_instant_round_trips_exactly_in_utc(instant: datetime) -> None:
    """Compared in UTC: PEP 495 makes `==` across zones False for a wall time in a DST
    gap or fold, though its instant (by its utcoffset) is kept exactly."""
    back = codec.from_micros(codec.to_micros(instant))
    assert back == instant.astimezone(UTC)
    assert back.tzinfo is UTC


@given(instants, instants)
def test_stored_instants_sort_like_the_instants(a: datetime, b: datetime) -> None:
    assert (codec.to_micros(a) < codec.to_micros(b)) == (a.astimezone(UTC) < b.astimezone(UTC))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        codec.to_micros(datetime(2020, 1, 1))


def test_steps_and_actions_round_trip() -> None:
    enrollment = busy_enrollment()
    assert codec.steps_from(codec.steps_body(enrollment.steps)) == enrollment.steps
    assert codec.steps_from(codec.steps_body(STEPS)) is codec.steps_from(codec.steps_body(STEPS))
    assert codec.actions_from(codec.actions_body(enrollment.actions)) == enrollment.actions
