"""Enrollment reads never serve a stale or shared decoding: both SQL stores keep the
decoded form of recently read rows (sqlite_codec.decoded, keyed by the row's every
column), so these hold that a change committed by another store instance, another
process or plain SQL is seen by the very next read of a store that had read the row
before, and that what a caller changes in an enrollment it read is not what the next
read returns."""

import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from contract_samples import (
    T0,
    account,
    busy_enrollment,
    enrollment,
    sequence,
    user,
    write,
)

from engine.adapters.storage.postgres import PostgresStore
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.ports import EnrollmentFilter, Page, Store
from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus, EnrollmentState

Opener = Callable[[], Store]


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Opener]]:
    """How to open another store on one shared database, and that database's address."""
    if request.param == "sqlite":
        path = str(tmp_path / "shared.db")
        yield path, lambda: SqliteStore(path)
    else:
        url = request.getfixturevalue("pg_url")
        yield url, lambda: PostgresStore(url)


def seed(store: Store) -> None:
    write(store, account(), user(), sequence(), sequence(21), enrollment(), busy_enrollment())


def reads(store: Store) -> tuple[Enrollment | None, list[Enrollment]]:
    """Enrollment 30 read alone, and every enrollment of the account as a page."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.get_enrollment(1, 30), uow.list_enrollments(1, EnrollmentFilter(), Page())


def test_reading_a_row_again_gives_what_was_written(opener: tuple[str, Opener]) -> None:
    _, open_store = opener
    store = open_store()
    try:
        seed(store)
        for _ in range(3):  # cold, then from whatever the store kept
            assert reads(store) == (enrollment(), [enrollment(), busy_enrollment()])
    finally:
        store.close()


def test_a_change_through_another_store_is_seen_at_once(opener: tuple[str, Opener]) -> None:
    _, open_store = opener
    first, second = open_store(), open_store()
    try:
        seed(first)
        reads(first)
        reads(first)
        changed = enrollment()
        changed.actions[1].status = ActionStatus.IN_PROGRESS
        changed.actions[1].attempts = 2
        changed.due_at = T0 + timedelta(minutes=5)
        write(second, changed)
        assert reads(first) == (changed, [changed, busy_enrollment()])
    finally:
        first.close()
        second.close()


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
    address, open_store = opener
    store = open_store()
    try:
        seed(store)
        reads(store)
        reads(store)
        subprocess.run([sys.executable, "-c", CHANGE_IN_ANOTHER_PROCESS, address], check=True,
                       timeout=60)
        changed = enrollment()
        changed.state = EnrollmentState.BLOCKED
        changed.actions[2].task_id = 77
        assert reads(store) == (changed, [changed, busy_enrollment()])
    finally:
        store.close()


def test_plain_sql_changes_are_seen(opener: tuple[str, Opener]) -> None:
    """A host's own UPDATE, touching one column, is seen on the next read."""
    address, open_store = opener
    store = open_store()
    try:
        seed(store)
        reads(store)
        reads(store)
        text = "UPDATE {s}enrollments SET resource_id = 8 WHERE id = 30"
        if address.startswith("postgresql"):
            with psycopg.connect(address, autocommit=True) as conn:
                conn.execute(text.format(s="seqengine."))  # type: ignore[arg-type]
        else:
            conn = sqlite3.connect(address, isolation_level=None)
            conn.execute(text.format(s=""))
            conn.close()
        changed = enrollment(resource=(enrollment().resource_type, 8))
        assert reads(store) == (changed, [changed, busy_enrollment()])
    finally:
        store.close()


def test_what_a_caller_changes_is_not_what_the_next_read_returns(
    opener: tuple[str, Opener],
) -> None:
    _, open_store = opener
    store = open_store()
    try:
        seed(store)
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
