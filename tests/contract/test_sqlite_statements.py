"""How many SQL statements the HTTP hot paths cost on SQLite, counted with sqlite3's
trace callback: once the catalog cache is warm, authenticating is one version check,
GET one enrollment and a page of enrollments (any size, and whether another page
follows it) one statement each besides it,
and creating an enrollment four writes and reads between BEGIN IMMEDIATE and COMMIT
(and the enrollments version's trigger)."""

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from engine.adapters.clocks import SimulatedClock
from engine.adapters.http import EngineGuard, TokenAuth, hash_token
from engine.adapters.http.resources.paging import fetch_page
from engine.adapters.storage.named_sql import sorted_name
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.ports import EnrollmentFilter, Page, Sort
from engine.app.service import SequenceEngine
from engine.domain.account import ApiToken
from engine.domain.enums import ActionType, DelayUnit
from engine.domain.sequence import Step
from engine.runtime.bootstrap import build

TOKEN = "c0" * 32
STEPS = [Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 1),
         Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 2)]


class Statements:
    """Every statement the store's connections run, by name (`BEGIN`... by text)."""

    def __init__(self, store: SqliteStore) -> None:
        self.seen: list[str] = []
        self._patterns = [(name, re.compile(re.sub(r":\w+", ".+?", re.escape(text))
                                            .replace(r"\:", ":"), re.DOTALL))
                          for name, text in store.sql.items()]
        acquire = store.acquire

        def traced() -> sqlite3.Connection:
            conn = acquire()
            conn.set_trace_callback(self._record)
            return conn

        store.acquire = traced  # type: ignore[method-assign]

    def _record(self, text: str) -> None:
        self.seen.append(next((name for name, pattern in self._patterns
                               if pattern.fullmatch(text)), text))

    def during(self, action: object) -> list[str]:
        self.seen = []
        assert callable(action)
        action()
        return self.seen


World = tuple[SequenceEngine, Statements, dict[str, int]]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    store = SqliteStore(str(tmp_path / "count.db"))
    engine = build(store, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    account = engine.create_account("counted").id
    actors = [engine.create_user(account).id for _ in range(3)]
    sequences = [engine.create_sequence(account, name=f"s{i}", steps=STEPS,
                                        creator_id=actors[0]).id for i in range(3)]
    for resource in range(30):  # spread over every sequence and actor
        engine.enroll(account, sequence_id=sequences[resource % 3], resource_type="lead",
                      resource_id=resource, actor_id=actors[resource % 3])
    with store.unit_of_work() as uow:
        uow.save_token(ApiToken(hash_token(TOKEN), actors[0], account))
        uow.commit()
    counter = Statements(store)
    yield engine, counter, {"account": account, "actor": actors[0], "sequence": sequences[0]}
    store.close()


READ = ["BEGIN", "catalog_version"]


def test_authenticating_costs_one_version_check(world: World) -> None:
    engine, counter, _ = world
    auth, guard = TokenAuth(engine.store), EngineGuard.for_store(engine.store)
    counter.during(lambda: auth.authenticate(f"Bearer {TOKEN}", guard))  # warms the cache
    assert counter.during(lambda: auth.authenticate(f"Bearer {TOKEN}", guard)) == [
        *READ, "ROLLBACK"]


def test_get_one_is_one_statement_besides_the_version(world: World) -> None:
    engine, counter, ids = world
    counter.during(lambda: engine.get_enrollment(ids["account"], 1))
    assert counter.during(lambda: engine.get_enrollment(ids["account"], 1)) == [
        *READ, "get_enrollment", "ROLLBACK"]


@pytest.mark.parametrize("size", [1, 5, 25])
def test_a_page_costs_the_same_statements_whatever_its_size(world: World, size: int) -> None:
    engine, counter, ids = world

    def page() -> None:
        assert len(engine.list_enrollments(ids["account"], EnrollmentFilter(), Page(1, size))) \
            == size

    counter.during(page)
    assert counter.during(page) == [
        *READ, sorted_name("list_enrollments", Sort()), "ROLLBACK"]


@pytest.mark.parametrize(("number", "size", "more"), [(1, 25, True), (2, 25, False),
                                                     (1, 30, False), (3, 10, False)])
def test_a_served_page_learns_of_the_next_in_the_same_read(
    world: World, number: int, size: int, more: bool
) -> None:
    """The HTTP lists read per_page + 1 rows: no second transaction to probe for a next
    page, even when the page is full (30 enrollments here)."""
    engine, counter, ids = world

    def page() -> tuple[int, bool]:
        views, has_next = fetch_page(partial(engine.list_enrollments, ids["account"],
                                             EnrollmentFilter()), Page(number, size))
        return len(views), has_next

    counter.during(page)
    found: list[tuple[int, bool]] = []
    assert counter.during(lambda: found.append(page())) == [
        *READ, sorted_name("list_enrollments", Sort()), "ROLLBACK"]
    assert found == [(min(size, 30 - (number - 1) * size), more)]


def test_a_cold_page_reads_each_sequence_and_actor_once(world: World) -> None:
    engine, counter, ids = world
    engine.store.catalog.clear()  # type: ignore[attr-defined]
    seen = counter.during(lambda: engine.list_enrollments(ids["account"], EnrollmentFilter(),
                                                          Page(1, 25)))
    assert seen.count("get_sequence") == 3 and seen.count("get_user") == 3
    assert len(seen) == len(READ) + 1 + 1 + 3 + 3 + 1  # and the account, the list, ROLLBACK


def test_create_is_one_transaction_of_few_statements(world: World) -> None:
    engine, counter, ids = world

    def create(resource: int) -> None:
        engine.enroll(ids["account"], sequence_id=ids["sequence"], resource_type="lead",
                      resource_id=resource, actor_id=ids["actor"])

    counter.during(lambda: create(1000))
    # the id is read, not written: the allocator's row stays out of the commit; the
    # enrollments version's trigger (migration 4) adds two traced lines, each with the
    # text of the statement that fired it
    assert counter.during(lambda: create(1001)) == [
        "BEGIN IMMEDIATE", "catalog_version", "ongoing_for_resource", "enrollment_id_top",
        *["save_enrollment"] * 3, "COMMIT"]


def test_enrollment_ids_are_read_once_a_transaction_and_kept_if_unsaved(
        world: World) -> None:
    engine, counter, _ = world
    store = engine.store
    assert isinstance(store, SqliteStore)

    def take(n: int, commit: bool = True) -> list[int]:
        with store.unit_of_work() as uow:
            found = [uow.next_id("enrollment") for _ in range(n)]
            if commit:
                uow.commit()
        return found

    top = take(1, commit=False)[0]  # rolled back: handed out again
    assert counter.during(lambda: take(3)) == [
        "BEGIN IMMEDIATE", "enrollment_id_top", "remember_id", "COMMIT"]
    assert take(1) == [top + 3]  # none of the three unsaved ones again
    with store.unit_of_work(read_only=True) as reading, pytest.raises(RuntimeError):
        reading.next_id("enrollment")
