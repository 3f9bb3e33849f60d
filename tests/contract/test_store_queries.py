"""Contract: listing, paging and filtering, ongoing enrollments, and the due index."""

from dataclasses import replace
from datetime import timedelta

import pytest
from contract_samples import CONTACT, LEAD, T0, bare_task, enrollment, ids, reading, sequence, write

from engine.app.ports import EnrollmentFilter, Page, SequenceFilter, Store, TaskFilter
from engine.domain.enums import EnrollmentState
from engine.domain.task import Task

ACTIVE, BLOCKED, FINISHED = EnrollmentState


@pytest.fixture
def crowd(store: Store) -> Store:
    """Enrollments of account 1 saved out of id order, plus one of account 2."""
    write(
        store,
        enrollment(35, resource=(LEAD, 7), sequence_id=20, actor_id=10),
        enrollment(31, resource=(LEAD, 7), sequence_id=21, actor_id=11, state=BLOCKED),
        enrollment(33, resource=(CONTACT, 7), sequence_id=20, actor_id=10),
        enrollment(32, resource=(LEAD, 8), sequence_id=20, actor_id=11, state=FINISHED),
        enrollment(34, resource=(LEAD, 7), sequence_id=22, actor_id=10, state=FINISHED),
        enrollment(36, 2, resource=(LEAD, 7), sequence_id=20, actor_id=10),
    )
    return store


def test_sequences_in_id_order_and_paged(store: Store) -> None:
    write(store, *(sequence(i) for i in (5, 3, 7, 1, 6, 2, 4)), sequence(8, 2))
    with reading(store) as uow:
        assert ids(uow.list_sequences(1, SequenceFilter(), Page(1, 3))) == [1, 2, 3]
        assert ids(uow.list_sequences(1, SequenceFilter(), Page(2, 3))) == [4, 5, 6]
        assert ids(uow.list_sequences(1, SequenceFilter(), Page(3, 3))) == [7]
        assert ids(uow.list_sequences(1, SequenceFilter(), Page(4, 3))) == []
        assert ids(uow.list_sequences(1, SequenceFilter(), Page())) == [1, 2, 3, 4, 5, 6, 7]


def test_enrollments_in_id_order_and_paged(crowd: Store) -> None:
    with reading(crowd) as uow:
        everything = EnrollmentFilter()
        assert ids(uow.list_enrollments(1, everything, Page())) == [31, 32, 33, 34, 35]
        assert ids(uow.list_enrollments(1, everything, Page(1, 2))) == [31, 32]
        assert ids(uow.list_enrollments(1, everything, Page(3, 2))) == [35]
        assert ids(uow.list_enrollments(1, everything, Page(4, 2))) == []


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (EnrollmentFilter(ids=(35, 31, 36, 99)), [31, 35]),
        (EnrollmentFilter(ids=()), []),
        (EnrollmentFilter(resource_ids=(8,)), [32]),
        (EnrollmentFilter(resource_ids=(7, 8)), [31, 32, 33, 34, 35]),
        (EnrollmentFilter(resource_type=CONTACT), [33]),
        (EnrollmentFilter(resource_type=LEAD), [31, 32, 34, 35]),
        (EnrollmentFilter(sequence_id=20), [32, 33, 35]),
        (EnrollmentFilter(state=ACTIVE), [33, 35]),
        (EnrollmentFilter(state=BLOCKED), [31]),
        (EnrollmentFilter(state=FINISHED), [32, 34]),
        (EnrollmentFilter(resource_ids=(7,), resource_type=LEAD, state=ACTIVE), [35]),
        (EnrollmentFilter(ids=(31, 33, 35), sequence_id=20, resource_type=LEAD), [35]),
    ],
)
def test_enrollment_filters(crowd: Store, where: EnrollmentFilter, expected: list[int]) -> None:
    with reading(crowd) as uow:
        assert ids(uow.list_enrollments(1, where, Page())) == expected


def test_filters_then_pages(crowd: Store) -> None:
    with reading(crowd) as uow:
        lead = EnrollmentFilter(resource_type=LEAD)
        assert ids(uow.list_enrollments(1, lead, Page(2, 3))) == [35]


def _tasks() -> list[Task]:
    return [
        replace(bare_task(44), resource_type=LEAD, resource_id=7),
        replace(bare_task(41), resource_type=LEAD, resource_id=7, completed=True,
                completed_at=T0),
        replace(bare_task(43), resource_type=CONTACT, resource_id=7),
        replace(bare_task(42), resource_type=LEAD, resource_id=8),
        bare_task(45, account_id=2),
    ]


@pytest.mark.parametrize(
    ("where", "page", "expected"),
    [
        (TaskFilter(), Page(), [41, 42, 43, 44]),
        (TaskFilter(), Page(2, 3), [44]),
        (TaskFilter(ids=(44, 41, 45)), Page(), [41, 44]),
        (TaskFilter(ids=()), Page(), []),
        (TaskFilter(resource_type=CONTACT), Page(), [43]),
        (TaskFilter(resource_id=7), Page(), [41, 43, 44]),
        (TaskFilter(resource_type=LEAD, resource_id=7), Page(), [41, 44]),
        (TaskFilter(completed=True), Page(), [41]),
        (TaskFilter(completed=False), Page(), [42, 43, 44]),
        (TaskFilter(completed=False, resource_id=7), Page(1, 1), [43]),
    ],
)
def test_task_filters(store: Store, where: TaskFilter, page: Page, expected: list[int]) -> None:
    write(store, *_tasks())
    with reading(store) as uow:
        assert ids(uow.list_tasks(1, where, page)) == expected


# -- ongoing enrollments -----------------------------------------------------------


def test_ongoing_are_active_or_blocked_oldest_first(crowd: Store) -> None:
    with reading(crowd) as uow:
        assert ids(uow.ongoing_enrollments(1)) == [31, 33, 35]
        assert ids(uow.ongoing_enrollments(2)) == [36]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"resource": (LEAD, 7)}, [31, 35]),
        ({"resource": (CONTACT, 7)}, [33]),
        ({"resource": (LEAD, 8)}, []),  # finished only
        ({"resource": (LEAD, 9)}, []),
        ({"sequence_ids": [20]}, [33, 35]),
        ({"sequence_ids": (21, 22)}, [31]),
        ({"sequence_ids": []}, []),
        ({"actor_id": 11}, [31]),
        ({"actor_id": 10}, [33, 35]),
        ({"resource": (LEAD, 7), "sequence_ids": [20, 21]}, [31, 35]),
        ({"resource": (LEAD, 7), "sequence_ids": [21], "actor_id": 11}, [31]),
        ({"resource": (LEAD, 7), "actor_id": 10}, [35]),
        ({"resource": (LEAD, 7), "sequence_ids": [20], "actor_id": 11}, []),
    ],
)
def test_ongoing_filters(crowd: Store, kwargs: dict[str, object], expected: list[int]) -> None:
    with reading(crowd) as uow:
        assert ids(uow.ongoing_enrollments(1, **kwargs)) == expected  # type: ignore[arg-type]


def test_finishing_leaves_the_ongoing_set(crowd: Store) -> None:
    write(crowd, enrollment(35, resource=(LEAD, 7), sequence_id=20, state=FINISHED))
    with reading(crowd) as uow:
        assert ids(uow.ongoing_enrollments(1, resource=(LEAD, 7))) == [31]


# -- the due index -------------------------------------------------------------------

H = timedelta(hours=1)


def test_due_is_due_at_or_before_now_earliest_first_across_accounts(store: Store) -> None:
    write(
        store,
        enrollment(30, due_at=T0 + 2 * H),
        enrollment(31, due_at=T0),
        enrollment(32, 2, due_at=T0 + H),
        enrollment(33, due_at=T0 + 3 * H),
        enrollment(34, due_at=None),
        enrollment(35, due_at=T0 + H),  # same instant as 32: ties go by id
    )
    with reading(store) as uow:
        assert ids(uow.due_enrollments(T0 - timedelta(microseconds=1), 10)) == []
        assert ids(uow.due_enrollments(T0, 10)) == [31]
        assert ids(uow.due_enrollments(T0 + 2 * H, 10)) == [31, 32, 35, 30]
        assert ids(uow.due_enrollments(T0 + 9 * H, 10)) == [31, 32, 35, 30, 33]
        assert uow.next_due_at() == T0


def test_count_due_counts_what_is_due_at_now(store: Store) -> None:
    write(store, enrollment(30, due_at=T0), enrollment(31, 2, due_at=T0 + H),
          enrollment(32, due_at=T0 + 2 * H), enrollment(33, due_at=None))
    with reading(store) as uow:
        assert uow.count_due(T0 - timedelta(microseconds=1)) == 0
        assert [uow.count_due(T0 + n * H) for n in range(3)] == [1, 2, 3]
    write(store, enrollment(30, due_at=T0 + 9 * H))  # re-planned: no longer due
    with reading(store) as uow:
        assert uow.count_due(T0 + 2 * H) == 2


def test_due_respects_the_limit(store: Store) -> None:
    write(store, *(enrollment(30 + i, due_at=T0 + i * H) for i in range(5)))
    with reading(store) as uow:
        assert ids(uow.due_enrollments(T0 + 9 * H, 3)) == [30, 31, 32]


def test_due_returns_the_stored_enrollment(store: Store) -> None:
    due = T0 + timedelta(microseconds=7)
    write(store, enrollment(30, due_at=due))
    with reading(store) as uow:
        assert uow.due_enrollments(T0 + H, 1) == [enrollment(30, due_at=due)]


def test_replanning_moves_an_enrollment_in_the_due_order(store: Store) -> None:
    write(store, enrollment(30, due_at=T0), enrollment(31, due_at=T0 + H))
    write(store, enrollment(30, due_at=T0 + 5 * H))  # later: the old entry is stale
    with reading(store) as uow:
        assert uow.next_due_at() == T0 + H
        assert ids(uow.due_enrollments(T0 + 2 * H, 10)) == [31]
    write(store, enrollment(31, due_at=T0 - H))  # earlier
    write(store, enrollment(30, due_at=T0 + 7 * H), enrollment(30, due_at=T0 + 5 * H))  # back
    with reading(store) as uow:
        assert uow.next_due_at() == T0 - H
        assert ids(uow.due_enrollments(T0 + 9 * H, 10)) == [31, 30]  # once each


def test_nothing_due_once_work_is_done(store: Store) -> None:
    with reading(store) as uow:
        assert uow.next_due_at() is None
    write(store, enrollment(30, due_at=T0), enrollment(31, due_at=T0 + H))
    write(store, enrollment(30, state=FINISHED), enrollment(31, due_at=None))
    with reading(store) as uow:
        assert uow.next_due_at() is None
        assert uow.due_enrollments(T0 + 9 * H, 10) == []


def test_claiming_due_work_takes_it_out_of_the_due_set(store: Store) -> None:
    """The scheduler's pattern: read what is due, move each due_at on, save, commit."""
    write(store, *(enrollment(30 + i, due_at=T0 + i * H) for i in range(4)))
    with store.unit_of_work() as uow:
        claimed = uow.due_enrollments(T0 + 2 * H, 10)
        for e in claimed:
            e.due_at = T0 + 10 * H + timedelta(minutes=e.id)
            uow.save_enrollment(e)
        uow.commit()
    assert ids(claimed) == [30, 31, 32]
    with reading(store) as uow:
        assert ids(uow.due_enrollments(T0 + 9 * H, 10)) == [33]
        assert uow.next_due_at() == T0 + 3 * H
        assert ids(uow.due_enrollments(T0 + 11 * H, 10)) == [33, 30, 31, 32]
