"""StepAction keeps five of its eight fields in one shared record (P1): it must still
behave as the plain slotted dataclass it was, field by field."""

import copy
import dataclasses
import pickle
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.domain.enrollment import StepAction
from engine.domain.enums import ActionStatus, FailureReason

T = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
FIELDS = ["status", "estimated_execute_at", "executed_at", "failure_reason", "task_id",
          "generation", "attempts", "resumed_at"]
values = {
    "status": st.sampled_from(ActionStatus),
    "estimated_execute_at": st.none() | st.just(T),
    "executed_at": st.none() | st.just(T),
    "failure_reason": st.none() | st.sampled_from(FailureReason),
    "task_id": st.none() | st.integers(1, 10**12),
    "generation": st.integers(0, 3) | st.just(False),
    "attempts": st.integers(0, 3),
    "resumed_at": st.none() | st.just(T),
}


def test_the_dataclass_face() -> None:
    action = StepAction(ActionStatus.SCHEDULED, T)
    assert [f.name for f in dataclasses.fields(StepAction)] == FIELDS
    assert StepAction.__match_args__ == tuple(FIELDS)
    assert dataclasses.asdict(action) == {
        "status": ActionStatus.SCHEDULED, "estimated_execute_at": T, "executed_at": None,
        "failure_reason": None, "task_id": None, "generation": 0, "attempts": 0,
        "resumed_at": None,
    }
    assert repr(action) == (
        f"StepAction(status={ActionStatus.SCHEDULED!r}, estimated_execute_at={T!r}, "
        "executed_at=None, failure_reason=None, task_id=None, generation=0, attempts=0, "
        "resumed_at=None)"
    )
    with pytest.raises(TypeError, match="unhashable"):
        hash(action)
    with pytest.raises(AttributeError):
        action.nickname = "x"  # type: ignore[attr-defined]
    assert not hasattr(action, "__dict__")


@given(st.fixed_dictionaries(values), st.fixed_dictionaries(values))
def test_fields_read_back_as_written(first: dict[str, object], then: dict[str, object]) -> None:
    action = StepAction(**first)  # type: ignore[arg-type]
    assert {name: getattr(action, name) for name in FIELDS} == first
    assert all(getattr(action, name) is first[name] for name in FIELDS)  # kept as given
    for name, value in then.items():
        setattr(action, name, value)
    assert all(getattr(action, name) is then[name] for name in FIELDS)
    assert action == StepAction(**then)  # type: ignore[arg-type]
    assert action != StepAction(**{**then, "attempts": 7})  # type: ignore[arg-type]
    assert dataclasses.replace(action, task_id=5).task_id == 5
    assert copy.deepcopy(action) == action == pickle.loads(pickle.dumps(action))


def test_actions_at_their_defaults_share_one_record() -> None:
    a, b = StepAction(ActionStatus.SCHEDULED, None), StepAction(ActionStatus.SCHEDULED, T)
    assert a._rare is b._rare
    a.attempts += 1
    assert a._rare is not b._rare and b.attempts == 0
    a.attempts = 0  # back to the defaults: back to the shared record
    assert a._rare is b._rare
