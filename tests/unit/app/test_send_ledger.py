"""limits.SendLedger on the memory store: when a batch's send counters are read
unlocked and when locked, and that a counter another transaction filled after the
unlocked read fails the flush (SendCountRaced). The mutants each test kills (issue
12) are named in its docstring."""

from datetime import date
from typing import Any

import pytest

from engine.adapters.storage.memory import MemoryStore
from engine.app.limits import ACCOUNT_SCOPE, ACTOR_SCOPE, Key, SendCountRaced, SendLedger

DAY = date(2020, 12, 15)
ACTOR: Key = (ACTOR_SCOPE, 10, DAY)
ACCOUNT: Key = (ACCOUNT_SCOPE, 1, DAY)


class Noting:
    """The memory store's unit of work, noting each read of send counters (which
    keys, and whether it locked them) and each write (the store answers)."""

    def __init__(self, store: MemoryStore) -> None:
        self.uow, self.reads = store.unit_of_work(), list[tuple[list[Key], str]]()
        self.writes: list[tuple[str, object]] = []

    def count_sends_many(self, keys: list[Key], *, lock: bool = True) -> list[int]:
        self.reads.append((list(keys), "locked" if lock else "unlocked"))
        return self.uow.count_sends_many(keys, lock=lock)

    def add_send(self, scope: str, owner_id: int, day: date, delta: int = 1) -> None:
        self.writes.append(("add_send", delta))
        self.uow.add_send(scope, owner_id, day, delta)

    def add_sends(self, keys: list[Key], deltas: list[int]) -> list[int]:
        self.writes.append(("add_sends", list(deltas)))
        return self.uow.add_sends(keys, deltas)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.uow, name)


def ledger(counted: dict[Key, int], *, optimistic: bool = True) -> tuple[SendLedger, Noting]:
    store = MemoryStore()
    for key, count in counted.items():
        store.unit_of_work().add_send(*key, delta=count)
    noting = Noting(store)
    return SendLedger(noting, optimistic=optimistic), noting  # type: ignore[arg-type]


def test_counters_with_room_for_every_send_are_read_unlocked_and_at_once() -> None:
    """Limit 5, 3 counted, 2 wanted: 3 + 2 is not past 5, so no lock (a ledger is
    optimistic unless told not to be). Kills prepare's `counts[key] + n >= limit`
    (locks at exactly the limit) and SendLedger's default `optimistic=False`."""
    _, noting = ledger({ACTOR: 3})
    mine = SendLedger(noting)  # type: ignore[arg-type]
    mine.prepare([(ACTOR, 5), (ACTOR, 5), (ACCOUNT, 100)])
    assert noting.reads == [([ACCOUNT, ACTOR], "unlocked")]
    assert (mine.count(ACTOR), mine.count(ACCOUNT)) == (3, 0)


def test_a_counter_without_room_for_every_send_makes_all_of_them_locked() -> None:
    """Limit 5, 4 counted, 2 wanted: near the limit, every counter is read again locked
    before any is counted. Kills prepare's `counts[key] - n > limit` and `if key not in
    counts` (neither ever locks)."""
    mine, noting = ledger({ACTOR: 4})
    mine.prepare([(ACTOR, 5), (ACTOR, 5), (ACCOUNT, 100)])
    assert noting.reads == [([ACCOUNT, ACTOR], "unlocked"), ([ACCOUNT, ACTOR], "locked")]
    assert mine.count(ACTOR) == 4


def test_a_ledger_told_not_to_be_optimistic_locks_at_once() -> None:
    """`optimistic=False` (a claim run again after SendCountRaced) locks even far from
    the limits. Kills prepare's `not (self.optimistic or keys)`."""
    mine, noting = ledger({}, optimistic=False)
    mine.prepare([(ACTOR, 5)])
    assert noting.reads == [([ACTOR], "locked")]


def test_a_counter_filled_after_the_unlocked_read_fails_the_flush() -> None:
    """Read unlocked at 0 with a limit of 2, one send counted; meanwhile another
    transaction counts 2: the flush's total, 3, is past the limit. Kills prepare's
    `if key not in counts` in what it records as read unlocked (the flush never
    checks), and flush's `SendCountRaced(None)`."""
    mine, _ = ledger({})
    mine.prepare([(ACTOR, 2)])
    mine.add(ACTOR, 1)
    mine.uow.add_send(*ACTOR, delta=2)  # the other transaction, on the same store
    with pytest.raises(SendCountRaced, match=r"^a send counter passed its limit: run again, "
                       r"locked$"):
        mine.flush()


def test_a_flush_within_the_limit_writes_the_changes() -> None:
    """The same, with room left for both: the flush writes, and the ledger counts on."""
    mine, _ = ledger({})
    mine.prepare([(ACTOR, 3)])
    mine.add(ACTOR, 1)
    mine.uow.add_send(*ACTOR, delta=2)
    mine.flush()
    assert mine.uow.count_sends(*ACTOR) == 3


@pytest.mark.parametrize("optimistic", [True, False])
def test_a_ledger_counts_on_after_a_flush_and_writes_each_change_once(optimistic: bool) -> None:
    """Unlocked (one statement, which returns the totals to check) or locked (a write
    per counter): a flush writes the changes, counts them as read, and forgets them,
    so a second flush writes only what was added since; a counter with no change is
    not written. Kills flush's `delta > 0 or key in self.unlocked` (the statement
    that checks totals taken for locked counters too)."""
    mine, noting = ledger({ACCOUNT: 7}, optimistic=optimistic)
    mine.prepare([(ACTOR, 5), (ACCOUNT, 100)])
    mine.add(ACTOR, 2)
    mine.add(ACCOUNT, 1)
    mine.add(ACCOUNT, -1)
    mine.flush()
    assert (mine.count(ACTOR), mine.count(ACCOUNT)) == (2, 7)
    mine.add(ACTOR, 1)
    mine.flush()
    assert mine.count(ACTOR) == 3
    assert (mine.uow.count_sends(*ACTOR), mine.uow.count_sends(*ACCOUNT)) == (3, 7)
    assert noting.writes == ([("add_sends", [2]), ("add_sends", [1])] if optimistic
                             else [("add_send", 2), ("add_send", 1)])


def test_giving_back_on_a_counter_read_unlocked_never_fails_the_flush() -> None:
    """A counter another transaction took past its limit meanwhile: a flush that only
    gives a send back (a delivery refused for a known reason) is not a race."""
    mine, _ = ledger({ACTOR: 1})
    mine.prepare([(ACTOR, 3)])
    mine.uow.add_send(*ACTOR, delta=5)  # the other transaction
    mine.add(ACTOR, -1)
    mine.flush()
    assert mine.uow.count_sends(*ACTOR) == 5
