"""The memory store's due index (engine/adapters/storage/memory.py): a heap of instants
(ints), and for each a heap of the ids due then; it must order by (due_at, id), skip
stale entries and refuse ids beyond 64 bits."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.adapters.storage.memory import MemoryStore, MemoryUnitOfWork, due_key_at
from engine.domain.enrollment import Enrollment, StepAction
from engine.domain.enums import ActionStatus, ActionType, DelayUnit, ResourceType
from engine.domain.sequence import Step

T0 = datetime(2026, 3, 2, 13, 0, 0, 250_000, tzinfo=UTC)
US = timedelta(microseconds=1)
STEPS = (Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 1),)
EDGES = [-(2**64), -1, 0, 1, 7, 2**63 - 1, 2**64 - 1]


def enrollment(enrollment_id: int, due_at: datetime | None) -> Enrollment:
    return Enrollment(
        enrollment_id, 1, 1, 1, ResourceType.LEAD, enrollment_id, T0, T0, T0, STEPS,
        [StepAction(ActionStatus.SCHEDULED, due_at)], due_at=due_at,
    )


def saved(*enrollments: Enrollment) -> MemoryUnitOfWork:
    uow = MemoryStore().unit_of_work()
    for e in enrollments:
        uow.save_enrollment(e)
    return uow


def take(uow: MemoryUnitOfWork, now: datetime) -> Enrollment | None:
    return uow.take_due(uow.due_bound(now))


def drain(uow: MemoryUnitOfWork, now: datetime) -> list[int]:
    taken = []
    while (e := take(uow, now)) is not None:
        taken.append(e.id)
    return taken


@pytest.mark.parametrize("due", [T0, T0 - timedelta(days=30_000), T0 + timedelta(days=9_000)])
def test_a_key_is_the_instants_microseconds_and_orders_as_it(due: datetime) -> None:
    key = due_key_at(due)
    assert key == (due - datetime(1970, 1, 1, tzinfo=UTC)) // US
    assert due_key_at(due - US) < key < due_key_at(due + US)


def test_a_key_reads_the_instant_not_the_zone() -> None:
    east = T0.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert due_key_at(east) == due_key_at(T0)


def test_the_ids_due_at_one_instant_are_taken_by_id_and_the_instant_then_dropped() -> None:
    store = MemoryStore()
    uow = store.unit_of_work()
    for i in (9, 2, 7):
        uow.save_enrollment(enrollment(i, T0))
    uow.save_enrollment(enrollment(1, T0 + US))
    assert (store.due_heap, store.due_ids) == (
        [due_key_at(T0), due_key_at(T0 + US)], {due_key_at(T0): [2, 9, 7],
                                                due_key_at(T0 + US): [1]})
    assert drain(uow, T0) == [2, 7, 9]
    assert (store.due_heap, store.due_ids) == ([due_key_at(T0 + US)],
                                               {due_key_at(T0 + US): [1]})
    uow.save_enrollment(enrollment(3, T0))  # the instant again: a heap of its own again
    assert drain(uow, T0 + US) == [3, 1]
    assert (store.due_heap, store.due_ids, store.due_pushed) == ([], {}, {})


def test_next_due_at_leaves_the_index_as_it_was() -> None:
    store = MemoryStore()
    uow = store.unit_of_work()
    for i in (5, 4):
        uow.save_enrollment(enrollment(i, T0 + timedelta(hours=1)))
    before = (list(store.due_heap), {k: list(v) for k, v in store.due_ids.items()},
              dict(store.due_pushed))
    assert uow.next_due_at() == T0 + timedelta(hours=1)
    assert uow.next_due_at() == T0 + timedelta(hours=1)
    assert (store.due_heap, store.due_ids, store.due_pushed) == before
    assert drain(uow, T0 + timedelta(hours=1)) == [4, 5]
    assert uow.next_due_at() is None


def test_take_due_goes_by_due_then_id_across_the_whole_range_of_ids() -> None:
    later = T0 + US
    # ids just above the edges, due a microsecond sooner: taken first, alone
    sooner = [i + 1 for i in EDGES[1:-1] if i + 1 not in EDGES]
    uow = saved(*(enrollment(i, later) for i in EDGES), *(enrollment(i, T0) for i in sooner))
    assert drain(uow, T0) == sooner  # only those due by now
    assert drain(uow, later) == EDGES  # the rest, at their instant, by id
    assert drain(uow, later + timedelta(days=1)) == []


def test_take_due_with_the_same_now_sees_what_was_saved_since() -> None:
    uow = saved(enrollment(5, T0))
    now = T0 + timedelta(hours=1)
    assert drain(uow, now) == [5]
    uow.save_enrollment(enrollment(6, T0 + timedelta(minutes=5)))
    assert drain(uow, now) == [6]
    assert drain(uow, now + timedelta(hours=1)) == []


def test_take_due_asked_in_turn_with_three_bounds_takes_by_each() -> None:
    # the in-process pass asks with its unit's bound and its drain's end in turn: each
    # answer is bounded by the bound given, never by one asked with before
    early, late, later = T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    uow = saved(*(enrollment(i, early + i * timedelta(minutes=25)) for i in range(1, 6)))
    # due at 00:25, 00:50, 01:15, 01:40 and 02:05 after T0
    assert take(uow, early) is None
    assert [take(uow, late).id, take(uow, early), take(uow, late).id] == [1, None, 2]
    assert take(uow, early) is None
    assert take(uow, late) is None  # 01:15 is later than `late`
    assert [take(uow, later).id, take(uow, late), take(uow, later).id] == [3, None, 4]
    assert take(uow, early) is None  # asked again, after two others
    assert take(uow, later) is None
    assert drain(uow, later + timedelta(minutes=5)) == [5]


def test_the_bound_of_an_instant_is_its_key() -> None:
    uow = MemoryStore().unit_of_work()
    assert uow.due_bound(T0) == due_key_at(T0)


@pytest.mark.parametrize("enrollment_id", [-(2**64) - 1, 2**64, 2**70])
def test_an_id_beyond_64_bits_is_refused_and_nothing_is_saved(enrollment_id: int) -> None:
    store = MemoryStore()
    uow = store.unit_of_work()
    with pytest.raises(ValueError, match="beyond 64 bits"):
        uow.save_enrollment(enrollment(enrollment_id, T0))
    assert (store.enrollments, store.due_heap, store.due_ids, store.due_pushed) == (
        {}, [], {}, {})
    assert dict(store.by_account) == {} and dict(store.by_resource) == {}


def test_a_replanned_enrollment_is_due_only_at_its_new_instant() -> None:
    e = enrollment(4, T0)
    uow = saved(e, enrollment(9, T0 + timedelta(hours=2)))
    e.due_at = T0 + timedelta(hours=3)
    uow.save_enrollment(e)
    assert uow.next_due_at() == T0 + timedelta(hours=2)  # the stale head is skipped
    assert uow.count_due(T0 + timedelta(hours=2)) == 1
    assert drain(uow, T0 + timedelta(hours=2)) == [9]
    assert drain(uow, T0 + timedelta(hours=3)) == [4]


def test_an_instant_changed_but_not_saved_is_not_taken() -> None:
    e = enrollment(4, T0)
    uow = saved(e)
    e.due_at = T0 + timedelta(hours=1)  # changed in place, never saved
    assert uow.count_due(T0) == 0
    assert drain(uow, T0 + timedelta(hours=2)) == []
    assert uow.next_due_at() is None


def test_an_instant_changed_but_not_saved_leaves_the_head_of_next_due_at() -> None:
    e, f = enrollment(4, T0), enrollment(5, T0 + timedelta(hours=1))
    uow = saved(e, f)
    e.due_at = T0 + timedelta(minutes=1)  # never saved
    assert uow.next_due_at() == T0 + timedelta(hours=1)
    assert drain(uow, T0 + timedelta(hours=2)) == [5]


def test_an_entry_pushed_twice_with_one_instant_is_read_once() -> None:
    e = enrollment(4, T0)
    uow = saved(e)
    e.due_at = T0 + timedelta(hours=1)
    uow.save_enrollment(e)
    e.due_at = T0
    uow.save_enrollment(e)  # the heap now holds T0 twice for it
    assert [x.id for x in uow.due_enrollments(T0, 10)] == [4]
    assert [x.id for x in uow.due_enrollments(T0, 10)] == [4]  # a read leaves it due
    assert drain(uow, T0 + timedelta(hours=2)) == [4]  # taken once, the duplicate skipped


def test_due_enrollments_stops_at_its_limit_and_leaves_the_rest_due() -> None:
    uow = saved(*(enrollment(i, T0 + i * US) for i in (3, 1, 2)))
    assert [x.id for x in uow.due_enrollments(T0 + timedelta(seconds=1), 2)] == [1, 2]
    assert [x.id for x in uow.due_enrollments(T0 + 2 * US, 5)] == [1, 2]
    assert drain(uow, T0 + 3 * US) == [1, 2, 3]


def test_an_enrollment_without_an_instant_is_not_on_the_index() -> None:
    uow = saved(enrollment(4, None))
    assert uow.next_due_at() is None and drain(uow, T0 + timedelta(days=1)) == []
