"""Contract: Sell's list filters on every backend: `sort_by` (`Sort`), `ids` and `name`
on sequences, sorts on enrollments and tasks, and the account's users.

The samples are saved out of id order, and their instants tie on purpose: ties are
broken by id in the sort's direction, so every backend gives one answer."""

from dataclasses import replace
from datetime import timedelta

import pytest
from contract_samples import T0, bare_task, enrollment, ids, reading, sequence, user, write

from engine.app.ports import (
    EnrollmentFilter,
    Page,
    SequenceFilter,
    Sort,
    Store,
    TaskFilter,
)
from engine.domain.account import User

DAY = timedelta(days=1)
# id: (name, created_at, updated_at); 1 and 3 tie on created_at, 1 and 4 on updated_at
SEQUENCES = {
    1: ("b", T0 + 3 * DAY, T0 + DAY),
    2: ("a", T0 + DAY, T0 + 5 * DAY),
    3: ("B", T0 + 3 * DAY, T0 + 2 * DAY),
    4: ("a", T0 + 2 * DAY, T0 + DAY),
}
BY_SORT = {
    Sort(): [1, 2, 3, 4],
    Sort("id", descending=True): [4, 3, 2, 1],
    Sort("created_at"): [2, 4, 1, 3],
    Sort("created_at", descending=True): [3, 1, 4, 2],
    Sort("updated_at"): [1, 4, 3, 2],
    Sort("updated_at", descending=True): [2, 3, 4, 1],
    Sort("name"): [3, 2, 4, 1],  # by code point: "B" < "a" < "b"
    Sort("name", descending=True): [1, 4, 2, 3],
}


@pytest.fixture
def catalog(store: Store) -> Store:
    """The four sequences of SEQUENCES (saved out of order), plus one of account 2."""
    write(store, *(
        replace(sequence(i), name=name, created_at=created, updated_at=updated)
        for i, (name, created, updated) in sorted(SEQUENCES.items(), reverse=True)
    ), replace(sequence(5, 2), name="a"))
    return store


@pytest.mark.parametrize("sort", list(BY_SORT), ids=str)
def test_sequences_sort(catalog: Store, sort: Sort) -> None:
    with reading(catalog) as uow:
        assert ids(uow.list_sequences(1, SequenceFilter(sort=sort), Page())) == BY_SORT[sort]


@pytest.mark.parametrize("sort", list(BY_SORT), ids=str)
def test_sorted_pages_follow_one_another(catalog: Store, sort: Sort) -> None:
    where = SequenceFilter(sort=sort)
    with reading(catalog) as uow:
        pages = [ids(uow.list_sequences(1, where, Page(n, 3))) for n in (1, 2, 3)]
    assert pages == [BY_SORT[sort][:3], BY_SORT[sort][3:], []]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (SequenceFilter(name="a"), [2, 4]),
        (SequenceFilter(name="A"), []),  # exact: case matters
        (SequenceFilter(name="a "), []),
        (SequenceFilter(name="a", sort=Sort("id", descending=True)), [4, 2]),
        (SequenceFilter(ids=(4, 1, 5, 99)), [1, 4]),
        (SequenceFilter(ids=()), []),
        (SequenceFilter(ids=(1, 2, 4), name="a"), [2, 4]),
        (SequenceFilter(ids=(1, 2, 4), sort=Sort("created_at", descending=True)), [1, 4, 2]),
    ],
)
def test_sequence_filters(catalog: Store, where: SequenceFilter, expected: list[int]) -> None:
    with reading(catalog) as uow:
        assert ids(uow.list_sequences(1, where, Page())) == expected


def test_enrollments_sort(store: Store) -> None:
    # id: (created_at, updated_at) offsets in days; 31 and 33 tie on created_at
    times = {31: (2, 1), 32: (1, 3), 33: (2, 2), 34: (0, 1)}
    write(store, *(
        replace(enrollment(i, resource=(enrollment().resource_type, i)),
                created_at=T0 + c * DAY, updated_at=T0 + u * DAY)
        for i, (c, u) in times.items()
    ), enrollment(35, 2))
    expected = {
        Sort("id", descending=True): [34, 33, 32, 31],
        Sort("created_at"): [34, 32, 31, 33],
        Sort("created_at", descending=True): [33, 31, 32, 34],
        Sort("updated_at"): [31, 34, 33, 32],
        Sort("updated_at", descending=True): [32, 33, 34, 31],
    }
    with reading(store) as uow:
        for sort, order in expected.items():
            assert ids(uow.list_enrollments(1, EnrollmentFilter(sort=sort), Page())) == order
        narrowed = EnrollmentFilter(resource_ids=(31, 32, 34), sort=Sort("created_at", True))
        assert ids(uow.list_enrollments(1, narrowed, Page(1, 2))) == [31, 32]
        assert ids(uow.list_enrollments(1, narrowed, Page(2, 2))) == [34]


def test_tasks_sort(store: Store) -> None:
    times = {41: (1, 0), 42: (0, 2), 43: (1, 1)}  # 41 and 43 tie on created_at
    write(store, *(
        replace(bare_task(i), created_at=T0 + c * DAY, updated_at=T0 + u * DAY)
        for i, (c, u) in times.items()
    ), bare_task(44, 2))
    expected = {
        Sort(): [41, 42, 43],
        Sort("id", descending=True): [43, 42, 41],
        Sort("created_at"): [42, 41, 43],
        Sort("created_at", descending=True): [43, 41, 42],
        Sort("updated_at", descending=True): [42, 43, 41],
    }
    with reading(store) as uow:
        for sort, order in expected.items():
            assert ids(uow.list_tasks(1, TaskFilter(sort=sort), Page())) == order
        ids_and_sort = TaskFilter(ids=(42, 43), sort=Sort("updated_at"))
        assert ids(uow.list_tasks(1, ids_and_sort, Page())) == [43, 42]


def test_sorts_outside_the_whitelist_are_refused() -> None:
    with pytest.raises(ValueError, match="steps"):
        Sort("steps")
    with pytest.raises(ValueError, match="name"):
        EnrollmentFilter(sort=Sort("name"))
    with pytest.raises(ValueError, match="name"):
        TaskFilter(sort=Sort("name"))


def test_users_of_one_account_by_id(store: Store) -> None:
    write(store, user(13), user(11), User(12, 2), user(10))
    with reading(store) as uow:
        assert [u.id for u in uow.list_users(1, Page())] == [10, 11, 13]
        assert uow.list_users(1, Page(1, 2)) == [user(10), user(11)]
        assert uow.list_users(1, Page(2, 2)) == [user(13)]
        assert [u.id for u in uow.list_users(2, Page())] == [12]
        assert uow.list_users(3, Page()) == []
