"""SequenceEngine's write transaction (engine/app/service.py, `_Transaction`): commit
only when the block ends well, the unit of work always left, `on_commit` only after a
commit. What the @contextmanager it replaced did, held on a unit that tells."""

from types import TracebackType
from typing import Any

import pytest
from world import TUESDAY

from engine.adapters.clocks import SimulatedClock
from engine.adapters.storage.errors import StorageError
from engine.adapters.storage.memory import MemoryStore, MemoryUnitOfWork
from engine.app.service import SequenceEngine
from engine.domain.enums import ActionType, DelayUnit
from engine.domain.sequence import Step
from engine.errors import NotFound, ValidationFailed
from engine.runtime.bootstrap import build


class Telling(MemoryUnitOfWork):
    """The memory store's unit of work, telling what is done to it."""

    def __init__(self, store: "TellingStore") -> None:
        super().__init__(store)
        self.told = store.told
        self.failing_commit = False

    def __enter__(self) -> "Telling":
        self.told.append("enter")
        super().__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.told.append(f"exit {exc_type.__name__ if exc_type else None}")
        assert tb is (exc.__traceback__ if exc is not None else None)
        super().__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self.told.append("commit")
        if self.failing_commit:
            raise StorageError("commit failed: disk full")


class TellingStore(MemoryStore):
    def __init__(self) -> None:
        self.told: list[str] = []
        super().__init__()
        self._uow = Telling(self)


def engine() -> tuple[SequenceEngine, TellingStore]:
    store = TellingStore()
    made = build(store, SimulatedClock(TUESDAY),
                 on_commit=lambda: store.told.append("on_commit"))
    return made, store


def test_a_write_commits_then_leaves_its_unit_then_calls_on_commit() -> None:
    made, store = engine()
    account = made.create_account("acme")
    assert store.told == ["enter", "commit", "exit None", "on_commit"]
    assert store.accounts[account.id] is account
    assert not store.lock._is_owned()  # type: ignore[attr-defined]


def test_a_refused_write_commits_nothing_and_calls_no_on_commit() -> None:
    made, store = engine()
    with pytest.raises(NotFound):
        made.create_user(404)
    assert store.told == ["enter", "exit NotFound"]
    assert not store.lock._is_owned()  # type: ignore[attr-defined]


def test_a_failed_commit_leaves_its_unit_with_the_error_and_goes_on() -> None:
    made, store = engine()
    unit: Any = store.unit_of_work()
    unit.failing_commit = True
    with pytest.raises(StorageError, match="disk full"):
        made.create_account("acme")
    assert store.told == ["enter", "commit", "exit StorageError"]
    assert not store.lock._is_owned()  # type: ignore[attr-defined]


def enrolling() -> tuple[SequenceEngine, TellingStore, dict[str, int]]:
    made, store = engine()
    account = made.create_account("acme").id
    actor = made.create_user(account).id
    steps = [Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 1, False)]
    sequence = made.create_sequence(account, name="s", steps=steps, creator_id=actor).id
    store.told.clear()
    return made, store, dict(sequence_id=sequence, resource_id=1, actor_id=actor,
                             account_id=account)


@pytest.mark.parametrize("use_case", ["enroll", "start_enrollment"])
def test_a_create_commits_then_leaves_its_unit_then_calls_on_commit(use_case: str) -> None:
    # SequenceEngine._write on a store without run_batched: the same order as above
    made, store, what = enrolling()
    enrollment_id = getattr(made, use_case)(what.pop("account_id"), resource_type="lead",
                                            **what)
    assert store.told == ["enter", "commit", "exit None", "on_commit"]
    assert enrollment_id is not None and len(store.enrollments) == 1
    assert not store.lock._is_owned()  # type: ignore[attr-defined]


def test_a_refused_create_commits_nothing_and_calls_no_on_commit() -> None:
    made, store, what = enrolling()
    with pytest.raises(ValidationFailed):
        made.start_enrollment(what.pop("account_id"), resource_type="lead",
                              **{**what, "actor_id": 404})
    assert store.told == ["enter", "exit ValidationFailed"]
    assert not store.lock._is_owned()  # type: ignore[attr-defined]


def test_a_failed_create_commit_leaves_its_unit_with_the_error_and_goes_on() -> None:
    made, store, what = enrolling()
    unit: Any = store.unit_of_work()
    unit.failing_commit = True
    with pytest.raises(StorageError, match="disk full"):
        made.start_enrollment(what.pop("account_id"), resource_type="lead", **what)
    assert store.told == ["enter", "commit", "exit StorageError"]
    assert not store.lock._is_owned()  # type: ignore[attr-defined]
