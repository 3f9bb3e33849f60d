"""SequenceEngine.start_enrollment: what enroll does, returning the enrollment itself
(the simulator's way to enroll every arrival without a view, P4)."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from world import TUESDAY, World, email

from engine import ResourceType, SimulatedClock, build
from engine.adapters.storage.sqlite import SqliteStore
from engine.domain.enums import DelayUnit
from engine.errors import AlreadyExists, NotFound, ReachRequired, ValidationFailed


def world() -> tuple[World, int]:
    w = World(time_zone="America/New_York", send_window="08:00-18:00")
    return w, w.sequence(email(0, 0), email(1, 2), email(2, 5, DelayUnit.HOURS))


def stored(w: World) -> list[str]:
    return [repr(v.enrollment) for v in w.engine.list_enrollments(w.account)]


@pytest.mark.parametrize("resource_type", [ResourceType.CONTACT, "contact"])
@pytest.mark.parametrize("chosen", [None, 77])
def test_it_stores_what_enroll_stores_and_returns_the_stored_enrollment(
    resource_type: Any, chosen: int | None
) -> None:
    (ours, sequence), (theirs, _) = world(), world()
    kwargs = dict(sequence_id=sequence, resource_type=resource_type, resource_id=9,
                  actor_id=ours.actor, enrollment_id=chosen)
    enrollment = ours.engine.start_enrollment(ours.account, **kwargs)
    view = theirs.engine.enroll(theirs.account, **kwargs)
    assert repr(enrollment) == repr(view.enrollment)
    assert enrollment.resource_type is ResourceType.CONTACT
    assert enrollment.id == (1 if chosen is None else chosen)
    assert ours.get(enrollment.id).enrollment is enrollment
    assert stored(ours) == stored(theirs) == [repr(enrollment)]


def test_it_refuses_as_enroll_refuses_and_stores_nothing() -> None:
    w, sequence = world()
    start = w.engine.start_enrollment
    with pytest.raises(ValidationFailed):
        start(w.account, sequence_id=sequence + 1, resource_type="lead", resource_id=1,
              actor_id=w.actor)
    with pytest.raises(ValidationFailed):
        start(w.account, sequence_id=sequence, resource_type="lead", resource_id=1,
              actor_id=w.actor + 1)
    with pytest.raises(ValueError):
        start(w.account, sequence_id=sequence, resource_type="planet", resource_id=1,
              actor_id=w.actor)
    with pytest.raises(NotFound):
        start(w.account + 1, sequence_id=sequence, resource_type="lead", resource_id=1,
              actor_id=w.actor)
    assert stored(w) == []
    start(w.account, sequence_id=sequence, resource_type="lead", resource_id=1,
          actor_id=w.actor)
    with pytest.raises(AlreadyExists):
        start(w.account, sequence_id=sequence, resource_type="lead", resource_id=1,
              actor_id=w.actor)
    assert len(stored(w)) == 1


def test_it_needs_reach() -> None:
    w, sequence = world()
    w.engine.store.accounts[w.account].reach_enabled = False  # type: ignore[attr-defined]
    with pytest.raises(ReachRequired):
        w.engine.start_enrollment(w.account, sequence_id=sequence, resource_type="lead",
                                  resource_id=1, actor_id=w.actor)


def test_it_starts_on_the_clock_of_the_engine() -> None:
    w, sequence = world()
    w.engine.advance(seconds=3600.25)
    enrollment = w.engine.start_enrollment(w.account, sequence_id=sequence,
                                           resource_type="lead", resource_id=1,
                                           actor_id=w.actor)
    assert enrollment.started_at == w.engine.clock.now() == TUESDAY + timedelta(hours=1,
                                                                                microseconds=250_000)


def test_it_stores_on_sqlite_as_on_memory(tmp_path: Path) -> None:
    # SQLite commits a write through run_batched: the arguments reach the work there too
    store = SqliteStore(str(tmp_path / "start.db"))
    try:
        engine = build(store, SimulatedClock(TUESDAY))
        account = engine.create_account("acme").id
        actor = engine.create_user(account).id
        sequence = engine.create_sequence(account, name="s", creator_id=actor,
                                          steps=[email(0, 0)]).id
        enrollment = engine.start_enrollment(account, sequence_id=sequence,
                                             resource_type="lead", resource_id=4,
                                             actor_id=actor, enrollment_id=31)
        assert (enrollment.id, enrollment.resource_id) == (31, 4)
        assert repr(engine.get_enrollment(account, 31).enrollment) == repr(enrollment)
    finally:
        store.close()
