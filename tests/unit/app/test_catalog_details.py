"""Catalog and lookups: what each unknown id is called, and the settings a change
carries (mutants the HTTP tests covered but the library tests did not)."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from world import World, email

from engine import EmailReplied, ResourceDeleted, ResourceType
from engine.domain.sequence import UnsubscribeSettings
from engine.errors import AlreadyExists, NotFound

LOOKUPS: list[tuple[str, Callable[[World], object]]] = [
    ("account 999 not found", lambda w: w.engine.create_user(999)),
    ("user 999 not found", lambda w: w.engine.get_user(999)),
    ("user 999 not found", lambda w: w.engine.update_user(999, time_zone="UTC")),
    ("account 999 not found", lambda w: w.engine.handle(999, EmailReplied(1))),
    ("sequence 404 not found", lambda w: w.engine.get_sequence(w.account, 404)),
    ("sequence_enrollment 404 not found", lambda w: w.engine.get_enrollment(w.account, 404)),
]


@pytest.mark.parametrize(("message", "call"), LOOKUPS)
def test_unknown_ids_are_named(message: str, call: Callable[[World], object]) -> None:
    with pytest.raises(NotFound) as missing:
        call(World())
    assert str(missing.value) == message
    assert missing.value.resource == message.split()[0]


def test_a_new_account_has_reach_and_a_new_user_belongs_to_it() -> None:
    w = World()
    assert w.engine.get_account(w.account).reach_enabled is True
    assert w.engine.get_user(w.actor).account_id == w.account


def test_a_calendar_change_replans_only_that_actor() -> None:
    w = World(start=datetime(2020, 12, 15, 9, tzinfo=UTC))
    other = w.engine.create_user(w.account).id
    sequence = w.sequence(email(0, 0), email(1, 1))
    mine = w.enroll(sequence, resource_id=1)
    theirs = w.engine.enroll(w.account, sequence_id=sequence, resource_type="lead",
                             resource_id=2, actor_id=other).enrollment.id
    w.engine.advance(seconds=60)
    before = w.get(theirs).enrollment.actions[1].estimated_execute_at
    w.engine.update_user(w.actor, time_zone="Asia/Tokyo")
    # Wednesday 09:00Z is 18:00 in Tokyo: still a weekday, the same instant...
    assert w.get(mine).enrollment.actions[1].estimated_execute_at == before
    w.engine.update_user(w.actor, weekmask="1101100")  # ...but Wednesday is now off
    assert w.get(mine).enrollment.actions[1].estimated_execute_at == datetime(
        2020, 12, 17, 9, tzinfo=UTC)
    assert w.get(theirs).enrollment.actions[1].estimated_execute_at == before


def test_changing_a_sequence_keeps_the_settings_it_is_given() -> None:
    w = World()
    sequence = w.sequence(email(0, 0))
    changed = w.engine.update_sequence(
        w.account, sequence, unsubscribe_settings=UnsubscribeSettings(False, "pl-PL"))
    assert changed.unsubscribe_settings == UnsubscribeSettings(False, "pl-PL")
    assert w.engine.get_sequence(w.account, sequence).unsubscribe_settings == (
        UnsubscribeSettings(False, "pl-PL"))


def test_a_second_ongoing_enrollment_is_refused_with_its_field() -> None:
    w = World()
    sequence = w.sequence(email(0, 1))
    w.enroll(sequence, resource_id=1)
    with pytest.raises(AlreadyExists) as refused:
        w.enroll(sequence, resource_id=1)
    assert refused.value.resource == "sequence_enrollment"
    (detail,) = refused.value.errors
    assert detail.field == "/data/resource_id"
    w.engine.handle(w.account, ResourceDeleted(ResourceType.LEAD, 1))
    w.enroll(sequence, resource_id=1)  # finished ones do not count


def test_advance_without_arguments_runs_what_is_due_now_and_keeps_the_time() -> None:
    w = World()
    now = w.engine.clock.now()
    assert w.engine.advance() == now == w.engine.clock.now()
