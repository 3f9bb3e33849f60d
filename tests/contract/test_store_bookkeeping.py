"""Contract: id allocation, the outbox, send counters, failure rules, idempotent responses."""

from datetime import date

import pytest
from contract_samples import (
    account,
    bare_task,
    enrollment,
    message,
    reading,
    rule,
    sequence,
    user,
    write,
)

from engine.app.ports import Page, Store, StoredResponse
from engine.domain.enums import FailureReason


def next_ids(store: Store, kind: str, n: int) -> list[int]:
    with store.unit_of_work() as uow:
        found = [uow.next_id(kind) for _ in range(n)]
        uow.commit()
    return found


def test_ids_increase_per_kind(store: Store) -> None:
    assert next_ids(store, "enrollment", 3) == [1, 2, 3]
    assert next_ids(store, "task", 2) == [1, 2]
    assert next_ids(store, "enrollment", 1) == [4]
    assert next_ids(store, "anything", 1) == [1]


@pytest.mark.parametrize(
    ("kind", "chosen"),
    [
        ("account", account(50)),
        ("user", user(50)),
        ("sequence", sequence(50)),
        ("enrollment", enrollment(50)),
        ("task", bare_task(50)),
    ],
)
def test_ids_chosen_by_callers_push_the_allocator_past_them(
    store: Store, kind: str, chosen: object
) -> None:
    assert next_ids(store, kind, 1) == [1]
    write(store, chosen)
    assert next_ids(store, kind, 2) == [51, 52]


def test_a_deleted_tasks_id_is_not_handed_out_again(store: Store) -> None:
    write(store, bare_task(70))
    with store.unit_of_work() as uow:
        uow.delete_task(bare_task(70))
        uow.commit()
    assert next_ids(store, "task", 1) == [71]


def test_lower_chosen_ids_do_not_move_the_allocator_back(store: Store) -> None:
    assert next_ids(store, "enrollment", 5) == [1, 2, 3, 4, 5]
    write(store, enrollment(2))
    assert next_ids(store, "enrollment", 1) == [6]


# -- the outbox ---------------------------------------------------------------------


def test_outbox_records_a_key_once(store: Store) -> None:
    with store.unit_of_work() as uow:
        assert uow.add_outbox_message(message("30:0:0")) is True
        assert uow.add_outbox_message(message("30:0:0", position=1)) is False
        assert uow.add_outbox_message(message("30:1:0", position=1)) is True
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.add_outbox_message(message("30:0:0", account_id=2)) is False
        uow.commit()
    with reading(store) as uow:
        assert uow.list_outbox(1, Page()) == [message("30:0:0"), message("30:1:0", position=1)]
        assert uow.list_outbox(2, Page()) == []


def test_an_outbox_message_put_without_asking_is_recorded_once_too(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.put_outbox_message(message("30:0:0"))
        uow.put_outbox_message(message("30:0:0", position=1))  # the key again: left alone
        assert uow.add_outbox_message(message("30:0:0", position=2)) is False
        uow.commit()
    with store.unit_of_work() as uow:
        for key in ("9:1:0", "1:1:0", "5:1:0"):  # no template: a column of NULLs
            uow.put_outbox_message(message(key, position=1))
        uow.commit()
    with reading(store) as uow:
        assert uow.list_outbox(1, Page()) == [message("30:0:0"), *(
            message(key, position=1) for key in ("9:1:0", "1:1:0", "5:1:0"))]


def test_outbox_lists_in_recording_order_per_account_and_pages(store: Store) -> None:
    keys = ["9:0:0", "1:0:0", "5:0:0", "3:0:0", "7:0:0"]
    with store.unit_of_work() as uow:
        for key in keys:
            uow.add_outbox_message(message(key))
            uow.add_outbox_message(message("other-" + key, account_id=2))
        uow.commit()
    with reading(store) as uow:
        assert [m.idempotency_key for m in uow.list_outbox(1, Page())] == keys
        assert [m.idempotency_key for m in uow.list_outbox(1, Page(2, 2))] == keys[2:4]
        assert [m.idempotency_key for m in uow.list_outbox(2, Page(3, 2))] == ["other-7:0:0"]


# -- send counters ----------------------------------------------------------------------

DAY = date(2020, 12, 15)


def test_send_counters_count_per_scope_owner_and_day(store: Store) -> None:
    with store.unit_of_work() as uow:
        assert uow.count_sends("actor", 10, DAY) == 0
        uow.add_send("actor", 10, DAY)
        uow.add_send("actor", 10, DAY)
        uow.add_send("actor", 11, DAY)
        uow.add_send("account", 10, DAY)
        uow.add_send("actor", 10, date(2020, 12, 16))
        uow.commit()
    with store.unit_of_work() as uow:
        uow.add_send("actor", 10, DAY)
        uow.commit()
    with reading(store) as uow:
        assert uow.count_sends("actor", 10, DAY) == 3
        assert uow.count_sends("actor", 11, DAY) == 1
        assert uow.count_sends("account", 10, DAY) == 1
        assert uow.count_sends("actor", 10, date(2020, 12, 16)) == 1
        assert uow.count_sends("account", 11, DAY) == 0


def test_many_send_counters_are_read_at_once_in_the_order_asked(store: Store) -> None:
    keys = [("actor", 11, DAY), ("account", 10, DAY), ("actor", 12, DAY), ("actor", 11, DAY)]
    with store.unit_of_work() as uow:
        uow.add_send("actor", 11, DAY, delta=2)
        uow.add_send("account", 10, DAY)
        assert uow.count_sends_many(keys) == [2, 1, 0, 2]  # and, writing, locked
        assert uow.count_sends_many([]) == []
        uow.commit()
    with store.unit_of_work() as uow:
        uow.add_send("actor", 12, DAY, delta=5)  # a counter created by the locked read
        uow.commit()
    with reading(store) as uow:
        assert uow.count_sends_many(keys) == [2, 1, 5, 2]
        assert uow.count_sends_many([("actor", 99, DAY)]) == [0]


def test_sends_added_at_once_return_the_new_totals_in_the_order_given(store: Store) -> None:
    keys = [("account", 10, DAY), ("actor", 11, DAY), ("actor", 12, DAY)]
    with store.unit_of_work() as uow:
        uow.add_send("actor", 11, DAY, delta=2)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.count_sends_many(keys, lock=False) == [0, 2, 0]
        assert uow.add_sends(keys, [3, 1, -1]) == [3, 3, -1]  # creating missing counters
        assert uow.add_sends([], []) == []
        uow.commit()
    with reading(store) as uow:
        assert uow.count_sends_many(keys) == [3, 3, -1]


# -- failure rules ----------------------------------------------------------------------


def test_failure_rules_per_account_in_order_set_replacing_by_resource(store: Store) -> None:
    write(store, rule(7), rule(3, FailureReason.QUOTA_EXCEEDED), rule(7, account_id=2), rule(5))
    write(store, rule(3, FailureReason.RECIPIENT_INVALID))  # replaces, keeps its place
    with reading(store) as uow:
        assert uow.failure_rules(1) == [rule(7), rule(3, FailureReason.RECIPIENT_INVALID),
                                        rule(5)]
        assert uow.failure_rules(2) == [rule(7, account_id=2)]
        assert uow.failure_rules(3) == []
    with store.unit_of_work() as uow:
        uow.clear_failure_rules(1)
        uow.commit()
    with reading(store) as uow:
        assert uow.failure_rules(1) == []
        assert uow.failure_rules(2) == [rule(7, account_id=2)]


def test_every_failure_reason_round_trips(store: Store) -> None:
    write(store, *(rule(i, reason) for i, reason in enumerate(FailureReason)))
    with reading(store) as uow:
        assert [r.failure_reason for r in uow.failure_rules(1)] == list(FailureReason)


# -- idempotent responses -------------------------------------------------------------------


def test_the_first_idempotent_response_wins(store: Store) -> None:
    first = StoredResponse(201, b'{"data": {"id": 1}}\x00\xff')
    with store.unit_of_work() as uow:
        assert uow.get_idempotent(1, "key-1") is None
        uow.save_idempotent(1, "key-1", first)
        uow.save_idempotent(1, "key-1", StoredResponse(500, b"second"))
        uow.commit()
    with store.unit_of_work() as uow:
        uow.save_idempotent(1, "key-1", StoredResponse(422, b"third"))
        uow.save_idempotent(2, "key-1", StoredResponse(200, b""))
        uow.commit()
    with reading(store) as uow:
        assert uow.get_idempotent(1, "key-1") == first
        assert uow.get_idempotent(2, "key-1") == StoredResponse(200, b"")
        assert uow.get_idempotent(3, "key-1") is None
        assert uow.get_idempotent(1, "key-2") is None
