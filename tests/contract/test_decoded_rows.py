"""Enrollment reads never serve a stale or shared decoding: both SQL stores keep the
decoded form of recently read rows (sqlite_codec.decoded, keyed by the row's every
column), so these hold that a change committed by another store instance, another
process or plain SQL is seen by the very next read of a store that had read the row
before, and that what a caller changes in an enrollment it read is not what the next
read returns."""

import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
from contract_samples import (
    T0,
    Opener,
    account,
    busy_enrollment,
    by_hand,
    enrollment,
    sequence,
    user,
    write,
)

from engine.app.ports import EnrollmentFilter, Page, Store
from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus, EnrollmentState, ResourceType

Reads = tuple[Enrollment | None, list[Enrollment]]


def reads(store: Store) -> Reads:
    """Enrollment 30 read alone, and every enrollment of the account as a page."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.get_enrollment(1, 30), uow.list_enrollments(1, EnrollmentFilter(), Page())


def changed(*, by: Callable[[str, Store], None], into: Enrollment,
            opener: tuple[str, Opener]) -> None:
    """Read the rows (twice: cold, then as kept), let `by` change enrollment 30 into
    `into`, then read again: the change shows, in the single read and in the page."""
    address, open_store = opener
    store = open_store()
    try:
        write(store, account(), user(), sequence(), sequence(21), enrollment(),
              busy_enrollment())
        assert reads(store) == reads(store) == (enrollment(), [enrollment(), busy_enrollment()])
        by(address, store)
        assert reads(store) == (into, [into, busy_enrollment()])
    finally:
        store.close()


def test_a_change_through_another_store_is_seen_at_once(opener: tuple[str, Opener]) -> None:
    new = enrollment()
    new.actions[1].status = ActionStatus.IN_PROGRESS
    new.actions[1].attempts = 2
    new.due_at = T0 + timedelta(minutes=5)

    def through_another(address: str, store: Store) -> None:
        other = opener[1]()
        try:
            write(other, new)
        finally:
            other.close()

    changed(by=through_another, into=new, opener=opener)


CHANGE_IN_ANOTHER_PROCESS = """
import sys
from engine.adapters.storage.postgres import PostgresStore
from engine.adapters.storage.sqlite import SqliteStore
from engine.domain.enums import EnrollmentState
address = sys.argv[1]
store = PostgresStore(address) if address.startswith("postgresql") else SqliteStore(address)
with store.unit_of_work() as uow:
    found = uow.get_enrollment(1, 30)
    found.state = EnrollmentState.BLOCKED
    found.actions[2].task_id = 77
    uow.save_enrollment(found)
    uow.commit()
store.close()
"""


def test_a_change_from_another_process_is_seen(opener: tuple[str, Opener]) -> None:
    new = enrollment()
    new.state = EnrollmentState.BLOCKED
    new.actions[2].task_id = 77
    changed(by=lambda address, _: subprocess.run(
        [sys.executable, "-c", CHANGE_IN_ANOTHER_PROCESS, address], check=True, timeout=60),
        into=new, opener=opener)


@pytest.mark.parametrize("column", ["resource_id", "actions"])
def test_plain_sql_changes_are_seen(opener: tuple[str, Opener], column: str) -> None:
    """A host's own UPDATE of one column, outside any store, shows on the next read."""
    new = enrollment(resource=(ResourceType.LEAD, 8))
    sql = "UPDATE {s}enrollments SET resource_id = 8 WHERE id = 30"
    if column == "actions":  # the JSON itself, edited in place: the last step's task id
        new = enrollment()
        new.actions[2].task_id = 5
        sql = SET_LAST_TASK_ID[opener[0].startswith("postgresql")]
    changed(by=lambda address, _: by_hand(address, [sql]), into=new, opener=opener)


SET_LAST_TASK_ID = {  # by backend: is it PostgreSQL (jsonb, printed with spaces)?
    False: "UPDATE enrollments SET actions = replace(actions, 'null,null,null,0,0,null]]', "
           "'null,null,5,0,0,null]]') WHERE id = 30",
    True: "UPDATE {s}enrollments SET actions = replace(actions::text, "
          "'null, null, null, 0, 0, null]]', 'null, null, 5, 0, 0, null]]')::jsonb "
          "WHERE id = 30",
}


def test_what_a_caller_changes_is_not_what_the_next_read_returns(
    opener: tuple[str, Opener],
) -> None:
    store = opener[1]()
    try:
        write(store, account(), user(), sequence(), sequence(21), enrollment(),
              busy_enrollment())
        one, page = reads(store)
        assert one is not None
        for found in (one, page[0], page[1]):
            found.state = EnrollmentState.FINISHED
            found.actions[0].status = ActionStatus.CANCELLED
            found.actions[0].generation = 5
            found.actions.append(found.actions[0])
        again, page_again = reads(store)
        assert again == enrollment() and page_again == [enrollment(), busy_enrollment()]
        assert again is not one and again.actions[0] is not one.actions[0]
    finally:
        store.close()
